"""The local engine: AWS Transcribe Medical's contract, offline, on faster-whisper.

Requests are validated like AWS's, stored in SQLite, and run in order by a
worker process (:mod:`app.worker`) that this engine starts when there is work
and nobody to do it. The engine itself loads no model.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import botocore.exceptions
from filelock import FileLock, Timeout

from ..core import service
from ..local import asr, media
from ..core.config import Settings, home
from ..core.privacy import private_folder, restrict_new_files
from ..store import audiovault
from ..store.kms import LocalKms, is_envelope
from ..store.jobstore import COMPLETED, FAILED, IN_PROGRESS, JobRecord, JobStore
from ..core.outputs import output_key
from ..store.objectstore import InvalidKey, ObjectNotFound
from ..store.s3store import StoreError
from ..store.vocabstore import VocabularyStore
from ..local.pipeline import LOCAL_ACCOUNT_ID
from ..core.validation import START, validate
from ..local import watchdog
from ..store.recovery import open_job_store
from ..store import pgjobstore
from ..store.pgvocabstore import PgVocabularyStore
from . import homestate
from ..local.worker import CANCELLED, lock_path
from ..store.workerstore import WorkerStore
from .base import TERMINAL, TranscriptionEngine
from .localvocab import VocabularyOperations
from .replies import MEDIA_UNREADABLE, _error, _page, _time

MAX_ATTEMPTS = 2  # a job whose worker died is resumed once, then failed
WORKER_DIED = ("Internal failure: the transcription process stopped unexpectedly while "
               "running this job. Try your request again.")


class LocalEngine(VocabularyOperations, TranscriptionEngine):
    name = "local"
    can_cancel = True
    owner: str | None = None  # a clinic server user's view (:meth:`as_user`); None sees every job

    def __init__(self, base: Path | None = None, settings: Settings | None = None, *,
                 model: str | None = None, device: str | None = None, compute_type: str | None = None,
                 max_media_bytes: int = media.MAX_FILE_BYTES, spawn_worker: bool = True,
                 decode: dict | None = None):
        restrict_new_files()  # jobs, audio copies, transcripts, logs: owner-only (PHI)
        self.home = private_folder(Path(base)) if base else home()
        self.settings = settings or Settings.load(self.home)
        self.read_only = not homestate.writable(self.home)  # reading still works; changes say why not
        self.objects = homestate.object_store(self.settings, self.home, self.read_only)
        self.notice = None  # one line for the user when jobs.db had to be set aside and rebuilt
        self.pooled = pgjobstore.from_settings(self.settings)  # PostgreSQL: the pool's workers run jobs
        if self.pooled is not None:
            self.store = self.pooled
        elif self.read_only:
            self.store = JobStore(self.home / "jobs.db", read_only=True)
        else:
            self.store, self.notice = open_job_store(self.home, self.objects.root)
        self.vocabularies = (PgVocabularyStore(self.pooled) if self.pooled is not None  # shared by front ends
                             else VocabularyStore(self.home / "jobs.db", read_only=self.read_only))
        self.kms = LocalKms(self.home)
        self.model_spec = model or self.settings.model
        self.model_path = str(asr.resolve_model(self.model_spec, self.home))  # ModelError early
        self.device = device or self.settings.device
        self.compute_type = compute_type or self.settings.compute_type
        self.max_media_bytes = max_media_bytes
        self.spawn_worker = spawn_worker
        # Decoder overrides (asr.DecodeOptions fields: batch_size, beam_size, vad_threshold), for benchmarks.
        self.decode = dict(decode or {})
        self._lock = FileLock(str(lock_path(self.home)))
        self._children: list[subprocess.Popen] = []
        self.workers = WorkerStore(self.home / "jobs.db")
        self.stall_seconds = watchdog.stall_seconds(self.settings.worker_stall_seconds)
        self.reconcile()

    def as_user(self, owner: str | None) -> "LocalEngine":
        """A cheap view for one server user: jobs it starts are theirs, another user's jobs do not
        exist for it (NotFound/BadRequest as for an unknown name). ``None``: an admin, sees all."""
        view = copy.copy(self)  # shares the stores, the worker lock and the list of children
        view.owner = owner
        return view

    # -- worker supervision ---------------------------------------------------
    def worker_alive(self) -> bool:
        # A worker this engine started may still be importing, before it takes the lock.
        if any(child.poll() is None for child in self._children):
            return True
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return True
        self._lock.release()
        return False

    def reconcile(self) -> None:
        """End a stalled worker; fail or resume jobs a dead one left; start a worker when work waits."""
        if self.pooled is not None:  # no per-home worker, watchdog or lock: dead workers' leases expire
            self.pooled.requeue_dead(self.settings.worker_lease_seconds, MAX_ATTEMPTS, reason=WORKER_DIED,
                                     cancelled=CANCELLED)
            return
        if self.read_only:
            return
        self._children[:] = [child for child in self._children if child.poll() is None]  # reap (shared by views)
        active = self.store.active()
        if not active:
            return
        watchdog.enforce(self.store, self.workers, self.home, self.stall_seconds,
                         max_attempts=MAX_ATTEMPTS, cancelled=CANCELLED)
        if self.worker_alive():
            return
        for job in active:
            if job.status == IN_PROGRESS and job.cancel_requested:
                self.store.finish(job.seq, failure_reason=CANCELLED)
            elif job.status == IN_PROGRESS and job.attempts >= MAX_ATTEMPTS:
                self.store.finish(job.seq, failure_reason=WORKER_DIED)
        if self.spawn_worker and self.store.active():
            self._start_worker()

    def _start_worker(self) -> None:
        if getattr(sys, "frozen", False):
            cmd = [sys.executable, "_worker", "--home", str(self.home)]
        else:
            cmd = [sys.executable, "-m", "app", "_worker", "--home", str(self.home)]
        kwargs: dict = {}
        if os.name == "nt":
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS
        else:
            kwargs["start_new_session"] = True
        env = dict(os.environ, CLINSCRIBE_HOME=str(self.home))
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        log = homestate.worker_log(self.home)  # DEVNULL when logs/ cannot be written
        try:
            self._children.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                                   env=env, close_fds=True, **kwargs))
        finally:
            if log is not subprocess.DEVNULL:
                log.close()

    # -- responses ------------------------------------------------------------
    @staticmethod
    def _job(rec: JobRecord) -> dict:
        req = rec.request
        job: dict = {
            "MedicalTranscriptionJobName": rec.name,
            "TranscriptionJobStatus": rec.status,
            "LanguageCode": req["LanguageCode"],
        }
        rate = rec.media_sample_rate or req.get("MediaSampleRateHertz")
        if rate:
            job["MediaSampleRateHertz"] = rate
        fmt = rec.media_format or req.get("MediaFormat")
        if fmt:
            job["MediaFormat"] = fmt
        job["Media"] = dict(req["Media"])
        job["Transcript"] = {"TranscriptFileUri": rec.transcript_uri} if rec.status == COMPLETED else {}
        for key, value in (("StartTime", rec.start_time), ("CreationTime", rec.creation_time),
                           ("CompletionTime", rec.completion_time)):
            if value is not None:
                job[key] = _time(value)
        if rec.status == FAILED:
            job["FailureReason"] = rec.failure_reason
        job["Settings"] = {"ChannelIdentification": False, "ShowAlternatives": False, **req.get("Settings", {})}
        for key in ("ContentIdentificationType", "Specialty", "Type", "Tags"):
            if key in req:
                job[key] = req[key]
        return job

    @staticmethod
    def _summary(rec: JobRecord) -> dict:
        req = rec.request
        out: dict = {"MedicalTranscriptionJobName": rec.name, "CreationTime": _time(rec.creation_time)}
        if rec.start_time is not None:
            out["StartTime"] = _time(rec.start_time)
        if rec.completion_time is not None:
            out["CompletionTime"] = _time(rec.completion_time)
        out["LanguageCode"] = req["LanguageCode"]
        out["TranscriptionJobStatus"] = rec.status
        if rec.status == FAILED:
            out["FailureReason"] = rec.failure_reason
        out["OutputLocationType"] = "CUSTOMER_BUCKET"
        out["Specialty"] = req["Specialty"]
        if "ContentIdentificationType" in req:
            out["ContentIdentificationType"] = req["ContentIdentificationType"]
        out["Type"] = req["Type"]
        return out

    # -- operations -----------------------------------------------------------
    def _template_for(self, params: dict) -> dict | None:
        """The note template the job's ``clinscribe:template`` tag names (snapshotted with the job)."""
        from ..live.templates import TemplateError, get_template, template_of_request

        name = template_of_request(params)
        if not name:
            return None
        try:
            return get_template(name, self.home).to_dict()
        except TemplateError as exc:
            raise _error("BadRequestException", f"{exc} Check the clinscribe:template tag and try your "
                         "request again.", START) from None

    def _writable(self, operation: str) -> None:
        if self.read_only:
            raise homestate.read_only_error(self.home, operation)

    def start_medical_transcription_job(self, **params) -> dict:
        validate(START, params, allow_file_uri=True)
        self._writable(START)
        homestate.refuse_overwrite(self.objects, self.store, params)  # never overwrite a transcript
        vocabulary = self._vocabulary_for(params)
        template = self._template_for(params)
        try:  # local buckets or the S3 store (HeadObject): missing and forbidden alike
            self.objects.head(params["Media"]["MediaFileUri"])
        except ObjectNotFound:
            raise _error("BadRequestException", MEDIA_UNREADABLE, START) from None
        except StoreError as exc:
            raise _error(exc.code, exc.reason, START) from None
        try:  # checked now, not after the whole recording is transcribed
            self.objects.check_output(params["OutputBucketName"],
                                      output_key(params["MedicalTranscriptionJobName"], params.get("OutputKey")))
        except InvalidKey as exc:
            raise _error("BadRequestException", f"The OutputKey can't be used: {exc}. "
                         "Check the OutputKey and try your request again.", START) from None
        except StoreError as exc:
            raise _error(exc.code, exc.reason, START) from None
        options = {
            "model": self.model_spec, "model_path": self.model_path, "device": self.device,
            "compute_type": self.compute_type, "storage_root": str(self.objects.root),
            "max_media_bytes": self.max_media_bytes, "account_id": LOCAL_ACCOUNT_ID,
            "decode": self.decode, "vocabulary": vocabulary, "kms_home": str(self.home),
            "voice_commands": bool(self.settings.voice_commands), "template": template,
            "object_store": self.objects.describe(),  # None: the local buckets
        }
        if params.get("OutputEncryptionKMSKeyId"):
            self._kms_key(params["OutputEncryptionKMSKeyId"])
        rec = self.store.insert(params["MedicalTranscriptionJobName"], params, options, owner=self.owner)
        if rec is None:
            raise _error("ConflictException",
                         "The requested job name already exists. Use a different job name.", START)
        self.reconcile()
        return {"MedicalTranscriptionJob": self._job(rec), "ResponseMetadata": service.response_metadata()}

    def _existing(self, name: str, operation: str, code: str) -> JobRecord:
        rec = self.store.get(name)
        if rec is None or (self.owner is not None and rec.owner != self.owner):
            raise _error(code, "The requested job couldn't be found. "
                         "Check the job name and try your request again.", operation)
        return rec

    def get_medical_transcription_job(self, **params) -> dict:
        op = "GetMedicalTranscriptionJob"
        validate(op, params)
        self.reconcile()
        rec = self._existing(params["MedicalTranscriptionJobName"], op, "NotFoundException")
        return {"MedicalTranscriptionJob": self._job(rec), "ResponseMetadata": service.response_metadata()}

    def list_medical_transcription_jobs(self, **params) -> dict:
        op = "ListMedicalTranscriptionJobs"
        validate(op, params)
        self.reconcile()
        return _page(params, op, params.get("Status"), "MedicalTranscriptionJobSummaries", self._summary,
                     lambda before, limit: self.store.list(status=params.get("Status"), before_seq=before,
                                                           name_contains=params.get("JobNameContains"), limit=limit,
                                                           owner=self.owner))

    def delete_medical_transcription_job(self, **params) -> dict:
        op = "DeleteMedicalTranscriptionJob"
        validate(op, params)
        self._writable(op)
        self.reconcile()
        rec = self._existing(params["MedicalTranscriptionJobName"], op, "BadRequestException")
        if rec.status not in TERMINAL:
            raise _error("BadRequestException", f"The job {rec.name} is {rec.status} and can't be deleted. "
                         "Wait until it is COMPLETED or FAILED and try your request again.", op)
        self.store.delete(rec.name)
        return {"ResponseMetadata": service.response_metadata()}

    def cancel_medical_transcription_job(self, **params) -> dict:
        """A ClinScribe extension (AWS has no cancel): the job ends FAILED, "Cancelled by the user."."""
        op = "GetMedicalTranscriptionJob"  # no Cancel in the model: same input shape, same errors
        validate(op, params)
        self._writable(op)
        rec = self._existing(params["MedicalTranscriptionJobName"], op, "NotFoundException")
        if watchdog.request_cancel(self.store, self.workers, self.home, rec.seq, CANCELLED) == IN_PROGRESS:
            # the worker notices within a second, records it and stops; one that does not is hung:
            # the job ends cancelled anyway and that worker is ended. A new worker takes the queue.
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline and self.store.get(rec.name).status == IN_PROGRESS:
                time.sleep(0.1)
            watchdog.stop_cancelled(self.store, self.workers, self.home, rec.seq, CANCELLED)
            time.sleep(0.2)
            self.reconcile()
        return {"ResponseMetadata": service.response_metadata()}

    def media_path(self, job_name: str) -> Path | None:
        """The local file of a job's media (for playback), or None when it is not on this computer."""
        rec = self.store.get(job_name)
        if rec is None:
            return None
        try:  # a job rebuilt from its transcript alone has no Media
            return self.objects.resolve(rec.request["Media"].get("MediaFileUri", ""))
        except ObjectNotFound:
            return None

    # -- conveniences ---------------------------------------------------------
    def job_notices(self, job_name: str, after: int = 0) -> list[tuple[int, str]]:
        """What the watchdog did to the job (stalls), as (id, one-line text), after notice ``after``."""
        rec = self.store.get(job_name)
        return [] if rec is None else self.workers.notices(rec.seq, after)

    def job_progress(self, job_name: str) -> float | None:
        rec = self.store.get(job_name)
        return None if rec is None else rec.progress

    def _transcript_uri(self, job_name: str) -> str:
        rec = self._existing(job_name, "GetMedicalTranscriptionJob", "NotFoundException")
        if rec.status != COMPLETED or not rec.transcript_uri:
            raise _error("BadRequestException", f"The job {job_name} is {rec.status}: it has no transcript.",
                         "GetMedicalTranscriptionJob")
        return rec.transcript_uri

    def transcript_path(self, job_name: str) -> Path:
        """The transcript's local file (ObjectNotFound when it is in the S3 store: see get_transcript)."""
        return self.objects.resolve(self._transcript_uri(job_name))

    def _kms_key(self, key_id: str) -> None:
        """The local key a job names exists (created on first use) before any work is queued."""
        try:
            self.kms.ensure_key(key_id)
        except botocore.exceptions.ClientError as exc:
            raise _error("BadRequestException", exc.response["Error"]["Message"], START) from None

    def get_transcript(self, job_name: str) -> dict:
        """The transcript JSON; an encrypted one is opened with its local key and the job's context."""
        try:
            data = self.objects.read(self._transcript_uri(job_name))  # a file, or GetObject on the S3 store
        except StoreError as exc:
            raise _error(exc.code, exc.reason, "GetObject") from None
        if is_envelope(data):
            request = self.store.get(job_name).request
            data = self.kms.decrypt(data, request.get("KMSEncryptionContext") or {}, "GetObject")
        return json.loads(data.decode("utf-8"))

    def encryption(self, job_name: str) -> tuple[str, dict] | None:
        """``(local key id, encryption context)`` that protect this job's transcript, or None."""
        rec = self.store.get(job_name)
        key = rec.request.get("OutputEncryptionKMSKeyId") if rec else None
        return (key, dict(rec.request.get("KMSEncryptionContext") or {})) if key else None

    def put_media(self, source: Path, bucket: str | None = None, key: str | None = None) -> str:
        """Store a local file in the local bucket; returns its ``s3://`` URI."""
        source = Path(source)
        if not source.is_file():
            raise FileNotFoundError(f"No such file: {source}")
        self._writable(START)
        if self.objects.remote:  # the S3 store: sealed (encrypt_audio) before it is uploaded
            try:
                return self.objects.put_file(source, bucket or self.settings.default_input_bucket,
                                             key or source.name,
                                             seal_home=self.home if self.settings.encrypt_audio else None)
            except StoreError as exc:
                raise _error(exc.code, exc.reason, "PutObject") from None
        uri = self.objects.put_file(source, bucket or self.settings.default_input_bucket, key or source.name)
        if self.settings.encrypt_audio:   # sealed at rest; the worker opens it in memory
            audiovault.seal_file(self.home, self.objects.resolve(uri))
        return uri

    def remove_media(self, uri: str) -> None:
        """Remove an object :meth:`put_media` stored (e.g. when the job it was for is rejected)."""
        try:
            self.objects.remove(uri)
        except StoreError as exc:
            raise _error(exc.code, exc.reason, "DeleteObject") from None
