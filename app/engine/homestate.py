"""The local engine's home in unusual states: read-only, an unwritable ``logs/``, a transcript
file that a new job would overwrite. Answers are AWS-style exceptions, never OSError."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ..core import service
from ..core.config import Settings
from ..core.outputs import output_key
from ..store.objectstore import LocalObjectStore, ObjectNotFound
from ..store.s3store import StoreError

READ_ONLY = "InternalFailureException"


def writable(home: Path) -> bool:
    """Whether this process may change the home folder (its folder and its job database)."""
    home = Path(home)
    db = home / "jobs.db"
    return os.access(home, os.W_OK) and (not db.exists() or os.access(db, os.W_OK))


def read_only_error(home: Path, operation: str):
    return service.client_error(
        READ_ONLY, f"ClinScribe cannot write to its home folder {home} (it is read-only): reading jobs "
        "and transcripts works, but this request would change it. Make the folder writable "
        "(or set CLINSCRIBE_HOME to one that is) and try your request again.", operation)


def refuse_overwrite(objects: LocalObjectStore, store, params: dict) -> None:
    """A new job whose transcript file is already there (e.g. its history was lost) is refused
    before any work, with a ConflictException like a taken job name's."""
    name = params["MedicalTranscriptionJobName"]
    bucket, key = params["OutputBucketName"], output_key(name, params.get("OutputKey"))
    try:
        exists = objects.exists(bucket, key)
    except ObjectNotFound:
        return
    except StoreError as exc:  # the S3 store: no such bucket, denied, unreachable
        raise service.client_error(exc.code, exc.reason, "StartMedicalTranscriptionJob") from None
    if exists and store.get(name) is None:
        raise service.client_error(
            "ConflictException", f"The transcript file s3://{bucket}/{key} already exists (written by an "
            "earlier job); ClinScribe never overwrites one. Use a different job name or OutputKey.",
            "StartMedicalTranscriptionJob")


def worker_log(home: Path):
    """Where the worker's output goes: ``logs/worker.log``, or nowhere when that cannot be written
    (logging never stops a job). A file object, or subprocess.DEVNULL; the caller closes a file."""
    try:
        logs = Path(home) / "logs"
        logs.mkdir(exist_ok=True)
        return open(logs / "worker.log", "ab")
    except OSError:
        return subprocess.DEVNULL


def object_store(settings: Settings, home: Path, read_only: bool):
    """The clinic's S3 store when ``s3_endpoint_url`` is set, else the local buckets; in a read-only
    home they are only looked at, never created."""
    if settings.s3_endpoint_url:
        from ..store import s3store

        root = Path(settings.storage_root).expanduser() if settings.storage_root else Path(home) / "buckets"
        return s3store.from_settings(settings, root, create=False)
    if not read_only:
        return LocalObjectStore(settings.buckets_root(home))
    root = Path(settings.storage_root).expanduser() if settings.storage_root else Path(home) / "buckets"
    return LocalObjectStore(root, create=False)
