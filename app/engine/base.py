"""The one interface both engines implement, shaped exactly like boto3's Transcribe client.

Methods take boto3's keyword arguments and return boto3's response dicts
(datetimes, ``ResponseMetadata``); errors are botocore's own exception classes,
available as ``engine.exceptions``. The GUI and the CLI only ever talk to this.
"""

from __future__ import annotations

import abc
import time
from typing import Callable

from ..core import service

TERMINAL = ("COMPLETED", "FAILED")


class TranscriptionEngine(abc.ABC):
    name: str = "?"
    can_cancel: bool = False  # whether cancel_medical_transcription_job works here

    @property
    def exceptions(self):
        return service.exceptions()

    # -- the AWS operations ---------------------------------------------------
    @abc.abstractmethod
    def start_medical_transcription_job(self, **params) -> dict: ...

    @abc.abstractmethod
    def get_medical_transcription_job(self, **params) -> dict: ...

    @abc.abstractmethod
    def list_medical_transcription_jobs(self, **params) -> dict: ...

    @abc.abstractmethod
    def delete_medical_transcription_job(self, **params) -> dict: ...

    @abc.abstractmethod
    def create_medical_vocabulary(self, **params) -> dict: ...

    @abc.abstractmethod
    def get_medical_vocabulary(self, **params) -> dict: ...

    @abc.abstractmethod
    def list_medical_vocabularies(self, **params) -> dict: ...

    @abc.abstractmethod
    def update_medical_vocabulary(self, **params) -> dict: ...

    @abc.abstractmethod
    def delete_medical_vocabulary(self, **params) -> dict: ...

    # -- conveniences built on them -------------------------------------------
    def put_vocabulary(self, name: str, path, language_code: str = "en-US") -> dict:
        """Create the medical vocabulary ``name`` from a local file, or update it if it exists.

        Returns GetMedicalVocabulary's response after the upload (the state may still be PENDING on AWS).
        """
        uri = self.upload_vocabulary_file(path, key=f"{name}.txt")
        try:
            self.get_medical_vocabulary(VocabularyName=name)
            exists = True
        except self.exceptions.NotFoundException:
            exists = False
        except self.exceptions.BadRequestException:  # moto says BadRequest for an unknown name
            exists = False
        params = {"VocabularyName": name, "LanguageCode": language_code, "VocabularyFileUri": uri}
        if exists:
            self.update_medical_vocabulary(**params)
        else:
            self.create_medical_vocabulary(**params)
        return self.get_medical_vocabulary(VocabularyName=name)

    @abc.abstractmethod
    def upload_vocabulary_file(self, path, bucket: str | None = None, key: str | None = None) -> str:
        """Put a vocabulary file where the engine reads it from; returns its URI."""

    @abc.abstractmethod
    def get_transcript(self, job_name: str) -> dict:
        """The transcript JSON of a COMPLETED job (fetched from where TranscriptFileUri points)."""

    def encryption(self, job_name: str) -> tuple[str, dict] | None:
        """``(local KMS key id, encryption context)`` that protect a job's files here, or None."""
        return None

    def cancel_medical_transcription_job(self, **params) -> dict:
        """Stop a QUEUED or IN_PROGRESS job (an extension: AWS Transcribe has no cancel)."""
        raise NotImplementedError(f"the {self.name} engine cannot cancel jobs")

    def media_path(self, job_name: str):
        """The job's media as a local file, when this computer has it (for playback)."""
        return None

    def job_progress(self, job_name: str) -> float | None:
        """Fraction done of a running job, where the engine knows it (AWS does not)."""
        return None

    def job_notices(self, job_name: str, after: int = 0) -> list[tuple[int, str]]:
        """One-line notices about the job (the local engine: its worker stalled and was replaced)."""
        return []

    def wait(self, job_name: str, *, poll: float = 0.5, timeout: float | None = None,
             on_update: Callable[[dict, float | None], None] | None = None,
             on_notice: Callable[[str], None] | None = None) -> dict:
        """Poll until the job is COMPLETED or FAILED; returns its MedicalTranscriptionJob."""
        deadline = None if timeout is None else time.monotonic() + timeout
        seen = max((n for n, _ in self.job_notices(job_name)), default=0) if on_notice else 0
        while True:
            job = self.get_medical_transcription_job(MedicalTranscriptionJobName=job_name)["MedicalTranscriptionJob"]
            if on_notice:
                for seen, text in self.job_notices(job_name, seen):
                    on_notice(text)
            if on_update:
                on_update(job, self.job_progress(job_name))
            if job["TranscriptionJobStatus"] in TERMINAL:
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {job_name} still {job['TranscriptionJobStatus']} after {timeout} s")
            time.sleep(poll)

    def close(self) -> None:
        """Release resources (the local engine leaves its worker to finish the queue)."""
