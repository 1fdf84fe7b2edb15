"""The local engine's home in unusual states: read-only, an unwritable ``logs/``, a transcript
file that a new job would overwrite. Answers are AWS-style exceptions, never OSError."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ..core import service

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


def output_exists_error(uri: str, operation: str):
    return service.client_error(
        "ConflictException", f"The transcript file {uri} already exists (written by an earlier job); "
        "ClinScribe never overwrites one. Use a different job name or OutputKey.", operation)


def worker_log(home: Path):
    """Where the worker's output goes: ``logs/worker.log``, or nowhere when that cannot be written
    (logging never stops a job). A file object, or subprocess.DEVNULL; the caller closes a file."""
    try:
        logs = Path(home) / "logs"
        logs.mkdir(exist_ok=True)
        return open(logs / "worker.log", "ab")
    except OSError:
        return subprocess.DEVNULL
