"""The local engine's medical vocabularies (Create/Update/Get/List/DeleteMedicalVocabulary), a mixin of
:class:`~app.engine.local.LocalEngine`: on its ``vocabularies`` store, its ``objects`` (the vocabulary
files) and its home (the copies GetMedicalVocabulary's DownloadUri points at)."""

from __future__ import annotations

import json
from pathlib import Path

from ..core import service
from ..core.validation import START, validate
from ..store.objectstore import ObjectNotFound
from ..store.s3store import StoreError
from ..store.vocabstore import FAILED as VOCAB_FAILED
from ..store.vocabstore import PENDING, READY, VocabularyRecord
from .replies import MEDIA_UNREADABLE, VOCAB_NOT_FOUND, _error, _page, _time


class VocabularyOperations:
    """LocalEngine's vocabulary operations (it has ``vocabularies``, ``objects``, ``home``, ``pooled``,
    ``_writable`` and ``put_media``)."""

    def _vocabulary_for(self, params: dict) -> str | None:
        """The text of the job's READY vocabulary (snapshotted with the job), or None."""
        name = (params.get("Settings") or {}).get("VocabularyName")
        if not name:
            return None
        rec = self.vocabularies.get(name)
        if rec is None:
            raise _error("BadRequestException", VOCAB_NOT_FOUND, START)
        if rec.state != READY:
            raise _error("BadRequestException", f"The vocabulary {name} is {rec.state}, not READY. "
                         "Wait until it is READY (or fix its file) and try your request again.", START)
        return rec.content.decode("utf-8")

    def _vocabulary(self, name: str, operation: str) -> VocabularyRecord:
        rec = self.vocabularies.get(name)
        if rec is None:
            raise _error("NotFoundException", VOCAB_NOT_FOUND, operation)
        return rec

    def _vocabulary_file(self, params: dict, operation: str) -> bytes:
        if params["LanguageCode"] != "en-US":
            raise _error("BadRequestException", f"The language code {params['LanguageCode']} isn't supported "
                         "for medical vocabularies. Use en-US and try your request again.", operation)
        try:
            return self.objects.read(params["VocabularyFileUri"])
        except ObjectNotFound:
            raise _error("BadRequestException", MEDIA_UNREADABLE, operation) from None
        except StoreError as exc:
            raise _error(exc.code, exc.reason, operation) from None

    def _vocabulary_copy(self, name: str) -> Path:
        return self.home / "vocabularies" / f"{name}.txt"

    def _process_vocabulary(self, name: str, content: bytes) -> None:
        from ..local.vocabulary import VocabularyFileError, parse_vocabulary_file

        copy = self._vocabulary_copy(name)  # what GetMedicalVocabulary's DownloadUri points at
        copy.parent.mkdir(exist_ok=True)
        copy.write_bytes(content)
        try:
            parse_vocabulary_file(content)
        except VocabularyFileError as exc:
            self.vocabularies.set(name, state=VOCAB_FAILED, failure_reason=str(exc), content=content)
        else:
            self.vocabularies.set(name, state=READY, failure_reason=None, content=content)

    @staticmethod
    def _vocabulary_summary(rec: VocabularyRecord, state: str | None = None) -> dict:
        return {"VocabularyName": rec.name, "LanguageCode": rec.language_code,
                "LastModifiedTime": _time(rec.last_modified), "VocabularyState": state or rec.state}

    def create_medical_vocabulary(self, **params) -> dict:
        op = "CreateMedicalVocabulary"
        validate(op, params)
        self._writable(op)
        content = self._vocabulary_file(params, op)
        tags = json.dumps(params["Tags"]) if params.get("Tags") else None
        if not self.vocabularies.insert(params["VocabularyName"], params["LanguageCode"], tags):
            raise _error("ConflictException", "The requested vocabulary name already exists. "
                         "Use a different vocabulary name.", op)
        response = {**self._vocabulary_summary(self.vocabularies.get(params["VocabularyName"]), PENDING),
                    "ResponseMetadata": service.response_metadata()}
        self._process_vocabulary(params["VocabularyName"], content)  # PENDING → READY | FAILED
        return response

    def update_medical_vocabulary(self, **params) -> dict:
        op = "UpdateMedicalVocabulary"
        validate(op, params)
        self._writable(op)
        self._vocabulary(params["VocabularyName"], op)
        content = self._vocabulary_file(params, op)
        self.vocabularies.set(params["VocabularyName"], state=PENDING, language_code=params["LanguageCode"])
        response = {**self._vocabulary_summary(self.vocabularies.get(params["VocabularyName"])),
                    "ResponseMetadata": service.response_metadata()}
        self._process_vocabulary(params["VocabularyName"], content)
        return response

    def get_medical_vocabulary(self, **params) -> dict:
        op = "GetMedicalVocabulary"
        validate(op, params)
        rec = self._vocabulary(params["VocabularyName"], op)
        out = self._vocabulary_summary(rec)
        if rec.failure_reason:
            out["FailureReason"] = rec.failure_reason
        if rec.content is not None:
            copy = self._vocabulary_copy(rec.name)
            if self.pooled is not None and (not copy.exists() or copy.read_bytes() != rec.content):
                copy.parent.mkdir(exist_ok=True)  # made or changed through another front end
                copy.write_bytes(rec.content)
            out["DownloadUri"] = copy.as_uri()
        out["ResponseMetadata"] = service.response_metadata()
        return out

    def list_medical_vocabularies(self, **params) -> dict:
        op = "ListMedicalVocabularies"
        validate(op, params)
        return _page(params, op, params.get("StateEquals"), "Vocabularies", self._vocabulary_summary,
                     lambda before, limit: self.vocabularies.list(state=params.get("StateEquals"), before_seq=before,
                                                                  name_contains=params.get("NameContains"), limit=limit))

    def delete_medical_vocabulary(self, **params) -> dict:
        op = "DeleteMedicalVocabulary"
        validate(op, params)
        self._writable(op)
        self._vocabulary(params["VocabularyName"], op)
        self.vocabularies.delete(params["VocabularyName"])
        self._vocabulary_copy(params["VocabularyName"]).unlink(missing_ok=True)
        return {"ResponseMetadata": service.response_metadata()}

    def upload_vocabulary_file(self, path: Path, bucket: str | None = None, key: str | None = None) -> str:
        """Store a vocabulary file in a local bucket (default: the input bucket); returns its ``s3://`` URI."""
        return self.put_media(path, bucket, f"vocabularies/{key or Path(path).name}")
