"""The AWS engine: Amazon Transcribe Medical through boto3, with the local engine's contract.

Methods take boto3's keyword arguments and return boto3's responses as they
come. Every request is validated first with :func:`app.core.validation.validate`
(AWS's own rules: botocore's client-side checks, then the service's
constraints), so a bad request fails the same way on both engines and never
reaches the network; errors are botocore's exception classes, shared with the
local engine through :mod:`app.core.service`.

Credentials, in order: the settings' named profile; else keys kept in the OS
keyring (:mod:`app.store.credentials`); else boto3's standard chain (environment,
shared files, SSO, instance roles). Nothing secret is written to disk or logs.

Faults: botocore's "standard" retry mode retries throttling, 5xx and dropped
connections; on top of that LimitExceededException (too many concurrent jobs)
is retried with a longer backoff, a StartMedicalTranscriptionJob whose answer
was lost is recognised instead of surfacing as ConflictException, polling
backs off and rides out outages, and the names of submitted jobs are kept in
``<home>/aws_jobs.db`` so :meth:`AwsEngine.resume_polling` picks them up after
a restart. Problems that are not AWS errors (no credentials, endpoint
unreachable …) raise :class:`ConnectionProblem`, an ``OSError`` whose text is
one line saying what is wrong.

Transcripts are fetched from where TranscriptFileUri points (falling back to
the OutputKey rules of :mod:`app.core.outputs`) and kept under
``<home>/aws-transcripts/`` so they stay readable offline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import random
import threading
import time
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

import boto3
import boto3.s3.transfer
import botocore.exceptions
import botocore.session
from botocore.config import Config

from ..core import service
from ..core.config import Settings, home
from ..core.privacy import private_folder, restrict_new_files
from ..store.objectstore import parse_s3_uri
from ..store.s3store import path_style_location
from ..core.outputs import output_key
from ..core.validation import START, validate
from .aws_check import ConnectionCheck
from .aws_support import (CHECK_CONFIG, DEFAULT_CONFIG, AwsJobRecords, ConnectionProblem,  # noqa: F401 (re-exported)
                          UploadCancelled, VocabularyFailed, _code, _is_not_found, _is_transient, _status)
from .base import TERMINAL, TranscriptionEngine

log = logging.getLogger("clinscribe.aws")

GET = "GetMedicalTranscriptionJob"
LIST = "ListMedicalTranscriptionJobs"
DELETE = "DeleteMedicalTranscriptionJob"
CREATE_VOCAB = "CreateMedicalVocabulary"
GET_VOCAB = "GetMedicalVocabulary"
LIST_VOCABS = "ListMedicalVocabularies"
UPDATE_VOCAB = "UpdateMedicalVocabulary"
DELETE_VOCAB = "DeleteMedicalVocabulary"

# -- the engine -------------------------------------------------------------------
class AwsEngine(ConnectionCheck, TranscriptionEngine):
    name = "aws"

    #: initial and largest pause between retries of LimitExceededException, and the time budget
    limit_backoff: tuple[float, float] = (2.0, 30.0)
    limit_retry_seconds: float = 300.0
    #: largest pause between two polls of a running job
    max_poll: float = 15.0
    #: how long polling keeps going through an outage before giving up
    outage_tolerance: float = 600.0
    #: multipart uploads above 16 MB, 8 MB parts, 4 at a time
    transfer_config = boto3.s3.transfer.TransferConfig(
        multipart_threshold=16 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024, max_concurrency=4)

    def __init__(self, settings: Settings | None = None, base: Path | None = None, *,
                 session: boto3.Session | None = None, client_config: Config | None = None, **ignored):
        restrict_new_files()  # fetched transcripts hold PHI: owner-only
        self.home = private_folder(Path(base)) if base else home()
        self.settings = settings or Settings.load(self.home)
        self.region = self.settings.aws_region or None
        self.endpoint_url = self.settings.aws_endpoint_url or None
        # S3 may live elsewhere (a clinic's server: Transcribe API there, media on the clinic's MinIO)
        self.s3_endpoint_url = self.settings.aws_s3_endpoint_url or self.endpoint_url
        self.profile = self.settings.aws_profile or None
        self._client_config = client_config
        self.config = DEFAULT_CONFIG.merge(client_config) if client_config else DEFAULT_CONFIG
        self.records = AwsJobRecords(self.home / "aws_jobs.db")
        self.transcripts_dir = self.home / "aws-transcripts"
        self.scope = f"{self.region or ''}|{self.endpoint_url or ''}"
        self.keyring_problem: str | None = None
        self.credential_source = ""
        self._given_session = session
        self._session: boto3.Session | None = None
        self._clients: dict = {}
        self._lock = threading.RLock()

    # -- boto3 session and clients ------------------------------------------------
    @property
    def session(self) -> boto3.Session:
        with self._lock:
            if self._session is None:
                self._session = self._make_session()
            return self._session

    def _make_session(self) -> boto3.Session:
        shared_factory = service.botocore_session()._get_internal_component("exceptions_factory")
        if self._given_session is not None:
            session = self._given_session
            core = session._session if isinstance(session, boto3.Session) else session
            # Same exception classes as service.exceptions(): `except engine.exceptions.X` works.
            core._register_internal_component("exceptions_factory", shared_factory)
            self.credential_source = "the given session"
            return session if isinstance(session, boto3.Session) else boto3.Session(botocore_session=core)
        # A botocore session of our own (profile and keys must not leak into the process-wide
        # one in app.core.service), sharing that session's exception factory so that the classes
        # are identical to the local engine's.
        core = botocore.session.Session(profile=self.profile)
        core._register_internal_component("exceptions_factory", shared_factory)
        # The service models are read-only: load them once per process, not once per engine.
        core.register_component("data_loader", service.botocore_session().get_component("data_loader"))
        self._respect_user_retry_settings(core)
        keys = None
        if self.profile:
            self.credential_source = f"AWS profile '{self.profile}'"
        else:
            from ..store import credentials
            try:
                keys = credentials.load_aws_keys()
            except credentials.CredentialStoreError as exc:
                self.keyring_problem = str(exc)
            if keys:
                self.credential_source = f"the OS keyring ({credentials.mask(keys['aws_access_key_id'])})"
        try:
            return boto3.Session(botocore_session=core, region_name=self.region, **(keys or {}))
        except botocore.exceptions.BotoCoreError as exc:
            raise self._problem(exc) from None

    def _respect_user_retry_settings(self, core) -> None:
        """AWS_MAX_ATTEMPTS / AWS_RETRY_MODE (or max_attempts / retry_mode in ~/.aws/config) win over our defaults."""
        try:
            attempts = core.get_config_variable("max_attempts")
            mode = core.get_config_variable("retry_mode")
        except botocore.exceptions.BotoCoreError:  # e.g. ProfileNotFound: reported when a client is made
            return
        if attempts or mode not in (None, "legacy"):
            retries = {"mode": mode if mode not in (None, "legacy") else "standard",
                       "total_max_attempts": int(attempts or DEFAULT_CONFIG.retries["total_max_attempts"])}
            user = Config(retries=retries)
            self.config = DEFAULT_CONFIG.merge(user).merge(self._client_config) if self._client_config \
                else DEFAULT_CONFIG.merge(user)

    def _client_kwargs(self, service_name: str, config: Config) -> dict:
        kwargs: dict = {"config": config}
        endpoint = self.s3_endpoint_url if service_name == "s3" else self.endpoint_url
        if endpoint:
            kwargs["endpoint_url"] = endpoint
            host = urlparse(endpoint).hostname or ""
            if service_name == "s3" and not host.endswith("amazonaws.com"):
                # moto, LocalStack, MinIO: bucket.<host> names do not resolve.
                kwargs["config"] = config.merge(Config(s3={"addressing_style": "path"}))
        if service_name == "s3" and self.s3_endpoint_url != self.endpoint_url:
            # a clinic's own S3 store (MinIO…) beside its Transcribe server: its keys (clinscribe s3-login)
            # when saved, else the session's (the Transcribe server's) keys
            from ..store.s3store import keyring_keys

            kwargs.update(keyring_keys())
        return kwargs

    def client(self, service_name: str, *, check: bool = False):
        """The boto3 client for ``transcribe`` or ``s3`` (``check``: the quick one of test_connection)."""
        key = (service_name, check)
        with self._lock:
            if key not in self._clients:
                config = self.config.merge(CHECK_CONFIG) if check else self.config
                try:
                    self._clients[key] = self.session.client(service_name, **self._client_kwargs(service_name, config))
                except botocore.exceptions.BotoCoreError as exc:
                    raise self._problem(exc) from None
            return self._clients[key]

    @property
    def transcribe(self):
        return self.client("transcribe")

    @property
    def s3(self):
        return self.client("s3")

    # -- errors -------------------------------------------------------------------
    def _where(self) -> str:
        return f"{self.endpoint_url or 'AWS'} (region {self.region or 'not set'})"

    def _problem(self, exc: BaseException, operation: str | None = None) -> ConnectionProblem:
        E = botocore.exceptions
        if isinstance(exc, E.NoCredentialsError):
            extra = f" (The OS keyring could not be read: {self.keyring_problem})" if self.keyring_problem else ""
            return ConnectionProblem(
                "No AWS credentials found: save an access key in ClinScribe (kept in the OS keyring), "
                "set an AWS profile in the settings, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY." + extra)
        if isinstance(exc, E.PartialCredentialsError):
            return ConnectionProblem(f"Incomplete AWS credentials: {exc}.")
        if isinstance(exc, E.ProfileNotFound):
            return ConnectionProblem(f"The AWS profile '{self.profile}' was not found in ~/.aws/config "
                                     "or ~/.aws/credentials: check the profile name in the settings.")
        if isinstance(exc, E.NoRegionError):
            return ConnectionProblem("No AWS region is set: choose the region of your Transcribe Medical "
                                     "jobs and buckets in the settings (e.g. us-east-1).")
        if isinstance(exc, (E.TokenRetrievalError, E.SSOTokenLoadError, E.UnauthorizedSSOTokenError)):
            return ConnectionProblem(f"The AWS SSO login has expired or is missing: run "
                                     f"'aws sso login{' --profile ' + self.profile if self.profile else ''}' "
                                     "and try again.")
        if isinstance(exc, E.CredentialRetrievalError):
            return ConnectionProblem(f"AWS credentials could not be obtained: {exc}.")
        if isinstance(exc, (E.ConnectionError, E.HTTPClientError)):
            reason = type(exc).__name__
            if isinstance(exc, E.EndpointConnectionError):
                reason = "connection failed"
            elif isinstance(exc, (E.ConnectTimeoutError, E.ReadTimeoutError)):
                reason = "timed out"
            elif isinstance(exc, E.SSLError):
                reason = "TLS/SSL error"
            elif isinstance(exc, E.ConnectionClosedError):
                reason = "connection closed"
            what = f" during {operation}" if operation else ""
            return ConnectionProblem(f"Cannot reach {self._where()}{what}: {reason}. Check the network "
                                     "connection, the region and the endpoint URL in the settings.",
                                     transient=True)
        return ConnectionProblem(f"AWS request failed{' (' + operation + ')' if operation else ''}: {exc}")

    def _call(self, client, operation: str, params: dict, *, info: dict | None = None):
        """One AWS call: botocore retries, plus a longer backoff for LimitExceededException.

        ``info["retried"]`` tells the caller whether an earlier attempt may have reached AWS.
        """
        method = getattr(client, botocore.xform_name(operation))
        delay, longest = self.limit_backoff
        deadline = time.monotonic() + self.limit_retry_seconds
        tries = 0
        while True:
            try:
                response = method(**params)
                if info is not None:
                    info["retried"] = tries > 0 or response.get("ResponseMetadata", {}).get("RetryAttempts", 0) > 0
                return response
            except botocore.exceptions.ClientError as exc:
                if info is not None:
                    info["retried"] = tries > 0 or exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) > 0
                if _code(exc) == "LimitExceededException" and time.monotonic() + delay < deadline:
                    tries += 1
                    log.info("%s: LimitExceededException, retry %d in %.1f s", operation, tries, delay)
                    time.sleep(delay * random.uniform(0.8, 1.2))
                    delay = min(delay * 2, longest)
                    continue
                raise
            except botocore.exceptions.ParamValidationError:
                raise
            except botocore.exceptions.BotoCoreError as exc:
                raise self._problem(exc, operation) from exc

    def _transcribe_call(self, operation: str, params: dict, *, info: dict | None = None) -> dict:
        validate(operation, params)  # before any AWS call: AWS's rules, which moto does not check
        return self._call(self.transcribe, operation, params, info=info)

    # -- transcription jobs ---------------------------------------------------------
    def start_medical_transcription_job(self, **params) -> dict:
        validate(START, params)
        name = params["MedicalTranscriptionJobName"]
        existing = self.records.get(self.scope, name)
        if existing is None:
            self.records.put(self.scope, name, params, "SUBMITTING")  # survives a crash mid-call
        started = time.time()
        info: dict = {}
        try:
            response = self._call(self.transcribe, START, params, info=info)
        except botocore.exceptions.ClientError as exc:
            if _code(exc) == "ConflictException" and info.get("retried"):
                job = self._own_lost_start(name, params, started)
                if job is not None:
                    self._record_started(name, params, job)
                    return {"MedicalTranscriptionJob": job, "ResponseMetadata": exc.response.get("ResponseMetadata", {})}
            if existing is None:
                self.records.remove(self.scope, name)
            raise
        except ConnectionProblem:
            # The request may or may not have reached AWS: the SUBMITTING record lets
            # resume_polling find out later. Nothing else to undo.
            raise
        except Exception:
            if existing is None:
                self.records.remove(self.scope, name)
            raise
        self._record_started(name, params, response["MedicalTranscriptionJob"])
        return response

    def _record_started(self, name: str, params: dict, job: dict) -> None:
        self.records.put(self.scope, name, params, job.get("TranscriptionJobStatus", "IN_PROGRESS"))
        self._cache_path(name).unlink(missing_ok=True)  # a reused name must not show an old transcript

    def _own_lost_start(self, name: str, params: dict, started: float) -> dict | None:
        """After a retried Start met ConflictException: the job, if it is the one we just created."""
        try:
            job = self._call(self.transcribe, GET, {"MedicalTranscriptionJobName": name})["MedicalTranscriptionJob"]
        except botocore.exceptions.ClientError:
            return None
        same = (job.get("Media", {}).get("MediaFileUri") == params["Media"]["MediaFileUri"]
                and all(job.get(k) == params[k] for k in ("LanguageCode", "Specialty", "Type") if k in job))
        created = job.get("CreationTime")
        if isinstance(created, dt.datetime):
            same = same and created.timestamp() >= started - 300  # clock skew allowance
        if same:
            log.info("Start of a job was retried after its answer was lost; the job exists: using it")
        return job if same else None

    def get_medical_transcription_job(self, **params) -> dict:
        response = self._transcribe_call(GET, params)
        job = response["MedicalTranscriptionJob"]
        name = params["MedicalTranscriptionJobName"]
        if self.records.get(self.scope, name) is not None:
            self.records.update(self.scope, name, status=job["TranscriptionJobStatus"],
                                transcript_uri=job.get("Transcript", {}).get("TranscriptFileUri"))
        return response

    def list_medical_transcription_jobs(self, **params) -> dict:
        return self._transcribe_call(LIST, params)

    def delete_medical_transcription_job(self, **params) -> dict:
        response = self._transcribe_call(DELETE, params)
        name = params["MedicalTranscriptionJobName"]
        self.records.remove(self.scope, name)
        self._cache_path(name).unlink(missing_ok=True)
        return response

    # -- polling --------------------------------------------------------------------
    def wait(self, job_name: str, *, poll: float = 0.5, timeout: float | None = None,
             on_update: Callable[[dict, float | None], None] | None = None,
             on_notice: Callable[[str], None] | None = None) -> dict:
        """Poll until COMPLETED or FAILED, backing off from ``poll`` to :attr:`max_poll` seconds.

        Network outages and throttling (after botocore's own retries) do not end the
        wait: polling goes on, backing off, for up to :attr:`outage_tolerance` seconds.
        """
        return self._poll([job_name], poll=poll, timeout=timeout, on_update=on_update)[job_name]

    def _poll(self, names: list[str], *, poll: float, timeout: float | None,
              on_update: Callable[[dict, float | None], None] | None = None,
              tolerate_missing: bool = False) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        interval = max(poll, 0.05)
        pending = list(names)
        results: dict = {}
        outage_since: float | None = None
        while True:
            for name in list(pending):
                try:
                    job = self.get_medical_transcription_job(MedicalTranscriptionJobName=name)["MedicalTranscriptionJob"]
                except (ConnectionProblem, botocore.exceptions.ClientError) as exc:
                    if tolerate_missing and isinstance(exc, botocore.exceptions.ClientError) and _is_not_found(exc):
                        results[name] = exc
                        pending.remove(name)
                        continue
                    if not _is_transient(exc):
                        raise
                    outage_since = outage_since or time.monotonic()
                    if time.monotonic() - outage_since > self.outage_tolerance:
                        raise
                    log.info("polling: %s; trying again in %.1f s", type(exc).__name__, interval)
                    break
                outage_since = None
                if on_update:
                    on_update(job, None)
                if job["TranscriptionJobStatus"] in TERMINAL:
                    results[name] = job
                    pending.remove(name)
            if not pending:
                return results
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {pending[0]} still not finished after {timeout} s")
            time.sleep(interval)
            interval = min(interval * 1.5, self.max_poll)

    def resume_polling(self, *, poll: float = 1.0, timeout: float | None = None,
                       on_update: Callable[[dict, float | None], None] | None = None,
                       background: bool = False):
        """Finish what a previous run of the app left: poll its unfinished AWS jobs, keep their transcripts.

        Returns ``{job name: final MedicalTranscriptionJob or the exception that stopped it}``;
        with ``background=True`` returns a started daemon thread whose ``.results`` holds that
        dict when it ends. Jobs deleted on AWS meanwhile are forgotten.
        """
        def run() -> dict:
            names = self.records.pending(self.scope)
            if not names:
                return {}
            results = self._poll(names, poll=poll, timeout=timeout, on_update=on_update, tolerate_missing=True)
            for name, outcome in results.items():
                if isinstance(outcome, Exception):
                    self.records.remove(self.scope, name)  # never created (lost Start) or deleted elsewhere
                elif outcome["TranscriptionJobStatus"] == "COMPLETED":
                    try:
                        self.get_transcript(name)
                    except Exception as exc:  # kept pending: tried again at the next resume
                        results[name] = exc
            return results

        if not background:
            return run()
        thread = threading.Thread(target=lambda: setattr(thread, "results", _safe(run)),
                                  name="aws-resume-polling", daemon=True)
        thread.results = None
        thread.start()
        return thread

    # -- transcripts ----------------------------------------------------------------
    def _cache_path(self, job_name: str) -> Path:
        # The hash keeps names that differ only in case apart on case-insensitive file systems.
        digest = hashlib.sha256(f"{self.scope}\n{job_name}".encode()).hexdigest()[:12]
        return self.transcripts_dir / f"{job_name}.{digest}.json"

    def transcript_path(self, job_name: str) -> Path | None:
        """The local copy of a job's transcript, if it was fetched."""
        path = self._cache_path(job_name)
        return path if path.is_file() else None

    def _transcript_locations(self, job: dict) -> list[tuple[str, str]]:
        name = job["MedicalTranscriptionJobName"]
        places: list[tuple[str, str]] = []
        uri = job.get("Transcript", {}).get("TranscriptFileUri")
        if uri:
            # AWS's forms, or a path-style URL on our S3 endpoint (a clinic server's MinIO, moto)
            location = parse_s3_uri(uri) or path_style_location(uri, self.s3_endpoint_url)
            if location and location[0] and location[1]:
                places.append(location)
        record = self.records.get(self.scope, name)
        request = record["request"] if record else job
        bucket = request.get("OutputBucketName")
        if bucket:
            # moto ignores OutputKey (it always announces medical/<job>.json); AWS writes where
            # OutputKey says. Try the announced place first, then the rule.
            rule = (bucket, output_key(name, request.get("OutputKey")))
            if rule not in places:
                places.append(rule)
        return places

    def get_transcript(self, job_name: str) -> dict:
        """The transcript JSON of a COMPLETED job: the local copy if kept, else fetched from S3 and kept."""
        path = self.transcript_path(job_name)
        if path is not None:
            return json.loads(path.read_text(encoding="utf-8"))
        job = self.get_medical_transcription_job(MedicalTranscriptionJobName=job_name)["MedicalTranscriptionJob"]
        status = job["TranscriptionJobStatus"]
        if status != "COMPLETED":
            raise service.client_error("BadRequestException", f"The job {job_name} is {status}: it has no transcript.",
                                       GET)
        places = self._transcript_locations(job)
        if not places:
            raise ValueError(f"The transcript of {job_name} is at {job.get('Transcript', {}).get('TranscriptFileUri')}, "
                             "which is not an S3 location ClinScribe can read.")
        last: Exception | None = None
        for bucket, key in places:
            try:
                body = self._call(self.s3, "GetObject", {"Bucket": bucket, "Key": key})["Body"].read()
                break
            except botocore.exceptions.ClientError as exc:
                if _code(exc) not in ("NoSuchKey", "404"):
                    raise
                last = exc
        else:
            raise last  # type: ignore[misc]
        doc = json.loads(body)
        self._keep(job_name, body)
        if self.records.get(self.scope, job_name) is not None:
            self.records.update(self.scope, job_name, fetched=1, status="COMPLETED")
        return doc

    def _keep(self, job_name: str, body: bytes) -> None:
        self.transcripts_dir.mkdir(parents=True, exist_ok=True)
        path = self._cache_path(job_name)
        tmp = path.with_name(path.name + ".part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # may hold PHI
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        os.replace(tmp, path)

    # -- media ------------------------------------------------------------------------
    def put_media(self, source: Path, bucket: str | None = None, key: str | None = None, *,
                  progress: Callable[[int, int], None] | None = None,
                  cancel: threading.Event | None = None) -> str:
        """Upload a local recording; returns its ``s3://`` URI.

        Default bucket and prefix: the settings' ``aws_input_bucket`` and ``aws_input_prefix``
        (a given ``key`` goes under the prefix too). Large files go up in parts;
        ``progress(bytes_sent, total)`` is called as they do; setting ``cancel`` stops the
        upload (raising :class:`UploadCancelled`) and aborts the multipart upload.
        """
        source = Path(source)
        if not source.is_file():
            raise FileNotFoundError(f"No such file: {source}")
        if bucket is None:
            bucket = self.settings.aws_input_bucket
            if not bucket:
                raise ValueError("No AWS input bucket is set: set aws_input_bucket in the settings to the S3 "
                                 "bucket (in the same region) that recordings are uploaded to.")
            if key is None:
                key = f"{dt.datetime.now().strftime('%Y%m%d-%H%M%S-%f')}/{source.name}"
            key = f"{self.settings.aws_input_prefix or ''}{key}"
        key = key or source.name
        self._upload(source, bucket, key, progress, cancel)
        return f"s3://{bucket}/{key}"

    def remove_media(self, uri: str) -> None:
        """Delete an object :meth:`put_media` uploaded (e.g. when the job it was for is rejected)."""
        location = parse_s3_uri(uri)
        if location and location[0] and location[1]:
            self._call(self.s3, "DeleteObject", {"Bucket": location[0], "Key": location[1]})

    def _upload(self, source: Path, bucket: str, key: str, progress, cancel) -> None:
        from boto3.s3.transfer import create_transfer_manager
        from s3transfer.exceptions import CancelledError
        from s3transfer.subscribers import BaseSubscriber

        from ..store import audiovault

        body = audiovault.open_audio(self.home, source)  # a recording sealed at rest goes up as audio
        total = len(body.getbuffer()) if hasattr(body, "getbuffer") else source.stat().st_size
        lock = threading.Lock()
        sent = [0]

        class Subscriber(BaseSubscriber):
            def on_progress(self, future, bytes_transferred, **kwargs):
                with lock:
                    sent[0] = max(0, min(total, sent[0] + bytes_transferred))  # retries report negatives
                    now = sent[0]
                if cancel is not None and cancel.is_set():
                    future.cancel()
                elif progress is not None:
                    progress(now, total)

        manager = create_transfer_manager(self.s3, self.transfer_config)
        ok = False
        try:
            future = manager.upload(body if hasattr(body, "read") else str(source), bucket, key,
                                    subscribers=[Subscriber()])
            while not future.done():
                if cancel is not None and cancel.wait(0.05):
                    future.cancel()
                    break
                if cancel is None:
                    time.sleep(0.05)
            try:
                future.result()  # failure cleanups (AbortMultipartUpload) have run when this returns
            except CancelledError:
                raise UploadCancelled(f"Upload of {source.name} cancelled.") from None
            except botocore.exceptions.ParamValidationError:
                raise
            except botocore.exceptions.BotoCoreError as exc:
                raise self._problem(exc, "upload") from exc
            ok = True
        finally:
            manager.shutdown(cancel=not ok)
        if cancel is not None and cancel.is_set() and not ok:  # pragma: no cover - covered by result()
            raise UploadCancelled(f"Upload of {source.name} cancelled.")

    # -- medical vocabularies -------------------------------------------------------
    def create_medical_vocabulary(self, **params) -> dict:
        return self._transcribe_call(CREATE_VOCAB, params)

    def get_medical_vocabulary(self, **params) -> dict:
        return self._transcribe_call(GET_VOCAB, params)

    def list_medical_vocabularies(self, **params) -> dict:
        return self._transcribe_call(LIST_VOCABS, params)

    def delete_medical_vocabulary(self, **params) -> dict:
        return self._transcribe_call(DELETE_VOCAB, params)

    def update_medical_vocabulary(self, **params) -> dict:
        try:
            return self._transcribe_call(UPDATE_VOCAB, params)
        except botocore.exceptions.ClientError as exc:
            if _status(exc) >= 500 and _code(exc) not in ("InternalFailureException",):
                # Not AWS's own fault shape: the endpoint (moto, for one) does not implement the call.
                attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) + 1
                raise service.client_error(
                    "InternalFailureException",
                    f"UpdateMedicalVocabulary failed with HTTP {_status(exc)} ({_code(exc) or 'no error code'}) "
                    f"after {attempts} attempt(s) at {self._where()}: the endpoint may not implement it "
                    "(moto does not). Delete the vocabulary and create it again instead.",
                    UPDATE_VOCAB) from exc
            raise

    def upload_vocabulary_file(self, path: Path, bucket: str | None = None, key: str | None = None, *,
                               check: bool = True) -> str:
        """Check a medical vocabulary file (spec §3) and upload it; returns its ``s3://`` URI."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"No such file: {path}")
        if check:
            try:
                from ..local.vocabulary import parse_vocabulary_file
            except ImportError:  # pragma: no cover - the checker ships with the app
                parse_vocabulary_file = None
            if parse_vocabulary_file is not None:
                parse_vocabulary_file(path.read_bytes())  # VocabularyFileError (a ValueError) says what is wrong
        if bucket is None and key is None:
            key = f"vocabularies/{path.name}"
        return self.put_media(path, bucket, key)

    def wait_vocabulary(self, name: str, *, poll: float = 1.0, timeout: float | None = None) -> dict:
        """Poll GetMedicalVocabulary until READY (returns it) or FAILED (raises VocabularyFailed)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        interval = max(poll, 0.05)
        while True:
            try:
                response = self.get_medical_vocabulary(VocabularyName=name)
            except (ConnectionProblem, botocore.exceptions.ClientError) as exc:
                if not _is_transient(exc):
                    raise
                response = None
            if response is not None:
                state = response.get("VocabularyState")
                if state == "READY":
                    return response
                if state == "FAILED":
                    raise VocabularyFailed(name, response.get("FailureReason"))
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"medical vocabulary {name} not READY after {timeout} s")
            time.sleep(interval)
            interval = min(interval * 1.5, self.max_poll)



def _safe(func):
    try:
        return func()
    except Exception as exc:  # reported through thread.results
        return exc
