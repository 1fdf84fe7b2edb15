"""A live dictation becomes a job like any other: the request is validated as a job's, the final
transcript goes through the job pipeline (vocabulary, alternatives, PHI), and the job, its
recording and its transcript are kept where a normal job's are."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from ..core.outputs import output_key
from ..core.validation import START, validate
from ..engine import homestate
from ..local import asr, pipeline
from .session import LiveSession


def prepare(engine, params: dict) -> tuple[asr.DecodeOptions, str | None]:
    """(Also resolves the job's template tag: an unknown template is refused before the first word.)"""
    engine._template_for(params)
    return _prepare(engine, params)


def command_sections(engine, params: dict) -> list | None:
    """The sections voice commands may move to (``[]`` without a template); None when the job's voice
    commands are off (the engine's setting), as the final job will apply them."""
    if not engine.settings.voice_commands or params.get("Type") != "DICTATION":
        return None
    from .templates import Template

    template = engine._template_for(params)
    return Template.from_dict(template).sections if template else []


def _prepare(engine, params: dict) -> tuple[asr.DecodeOptions, str | None]:
    """Check the job's request before the first word (AWS's rules, no name taken or overwritten) and
    return the decoding options and vocabulary text the live passes use."""
    validate(START, params, allow_file_uri=True)
    if engine.store.get(params["MedicalTranscriptionJobName"]) is not None:
        from ..engine.local import _error

        raise _error("ConflictException", "The requested job name already exists. Use a different job name.", START)
    homestate.refuse_overwrite(engine.objects, engine.store, params)
    vocabulary = engine._vocabulary_for(params)
    if params.get("OutputEncryptionKMSKeyId"):
        engine._kms_key(params["OutputEncryptionKMSKeyId"])   # made (or refused) before the first word
    decode = asr.DecodeOptions(**(engine.decode or {}))
    settings = params.get("Settings") or {}
    if vocabulary:
        from ..local.vocabulary import parse_vocabulary_file

        decode = dataclasses.replace(decode, hotwords=parse_vocabulary_file(vocabulary.encode("utf-8")).hotwords())
    if settings.get("ShowAlternatives"):
        decode = dataclasses.replace(decode, max_alternatives=settings["MaxAlternatives"])
    return decode, vocabulary


def load_model(engine):
    """The engine's speech model, loaded once per process (shared by every live session)."""
    key = (str(engine.model_path), engine.device, engine.compute_type)
    if key not in _MODELS:
        _MODELS[key] = asr.load_model(str(engine.model_path), engine.device, engine.compute_type)
    return _MODELS[key]


_MODELS: dict = {}


def finish(engine, params: dict, session: LiveSession, recording: Path, vocabulary: str | None = None,
           model=None) -> dict:
    """Stop the session and store the job: returns the transcript document (as get_transcript would)."""
    transcription = session.stop()
    audio: np.ndarray = session.audio
    model = model or session.model
    doc = pipeline.transcribe_job(params, [audio], model, decode=session.decode,
                                  account_id=pipeline.LOCAL_ACCOUNT_ID, vocabulary_text=vocabulary,
                                  decoded=[transcription], voice_commands=bool(engine.settings.voice_commands),
                                  template=engine._template_for(params))
    name = params["MedicalTranscriptionJobName"]
    request = dict(params, Media={"MediaFileUri": engine.put_media(Path(recording), key=f"live/{name}/"
                                                                   f"{Path(recording).name}")})
    body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    if request.get("OutputEncryptionKMSKeyId"):
        engine._kms_key(request["OutputEncryptionKMSKeyId"])
        body = engine.kms.encrypt(body, request["OutputEncryptionKMSKeyId"], request.get("KMSEncryptionContext"),
                                  job_name=name)
    uri = engine.objects.write_transcript(body, request["OutputBucketName"], output_key(name, request.get("OutputKey")))
    if not engine.store.add_completed(name, request, uri, time.time()):
        from ..engine.local import _error

        raise _error("ConflictException", "The requested job name already exists. Use a different job name.", START)
    return doc
