"""A damaged or foreign ``jobs.db`` is set aside, never deleted, and the history rebuilt.

Checked when the local engine opens its home: a file that is empty, not SQLite, a SQLite
file without ClinScribe's tables or from another schema version is renamed
``jobs.db.damaged-<UTC time>``; a fresh database is restored from the newest good rolling
backup (``backups/jobs.db.1``, ``.2``, written with SQLite's online backup API after each
finished job) and every transcript still in the local buckets that the history lacks is
added back as a COMPLETED job. One line says what happened; nothing about a job is logged.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

from filelock import FileLock

from . import kms
from .jobstore import COMPLETED, SCHEMA_VERSION, JobStore

BACKUPS = "backups"
KEEP = 2
_JOB_COLUMNS = {"seq", "name", "request", "options", "status", "creation_time", "transcript_uri"}


def problem(path: Path) -> str | None:
    """Why ``path`` is not a usable job database, or None (also None when it does not exist)."""
    path = Path(path)
    if not path.exists():
        return None
    if path.stat().st_size == 0:
        return "it is empty (0 bytes)"
    try:
        db = sqlite3.connect(path, timeout=30)  # read only by use; closing it cleans up WAL files
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            version = db.execute("PRAGMA user_version").fetchone()[0]
            columns = {r[1] for r in db.execute("PRAGMA table_info(jobs)")}
            check = db.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:
        raise  # locked, busy, cannot open: a state of the moment, not damage; never set aside for it
    except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
        return f"it is not a readable SQLite database ({exc})"
    if check != "ok":
        return "it is corrupt (SQLite integrity check failed)"
    if "jobs" not in tables:
        return "it is not a ClinScribe job database (no jobs table)"
    if not _JOB_COLUMNS <= columns:
        return "its jobs table is not ClinScribe's"
    if not 0 <= version <= SCHEMA_VERSION:  # an older one is migrated when opened
        return f"it has schema version {version}, this ClinScribe uses {SCHEMA_VERSION}"
    return None


def backup_paths(home: Path) -> list[Path]:
    return [Path(home) / BACKUPS / f"jobs.db.{i}" for i in range(1, KEEP + 1)]


def backup(home: Path) -> Path | None:
    """Copy ``jobs.db`` (consistently, while others use it) to ``backups/jobs.db.1``; the previous
    copy becomes ``.2``. Owner-only. Never raises: a failed backup must not fail a job."""
    home = Path(home)
    try:
        folder = home / BACKUPS
        folder.mkdir(mode=0o700, exist_ok=True)
        tmp = folder / "jobs.db.tmp"
        src = sqlite3.connect(home / "jobs.db", timeout=30)
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
        os.chmod(tmp, 0o600)
        paths = backup_paths(home)
        for older, newer in zip(reversed(paths[1:]), reversed(paths[:-1])):
            if newer.exists():
                os.replace(newer, older)
        os.replace(tmp, paths[0])
        return paths[0]
    except (OSError, sqlite3.Error):
        return None


def _restore(home: Path, target: Path) -> Path | None:
    for candidate in backup_paths(home):
        if candidate.is_file() and problem(candidate) is None:
            src = sqlite3.connect(f"{candidate.resolve().as_uri()}?mode=ro", uri=True)
            dst = sqlite3.connect(target)
            try:
                src.backup(dst)
            finally:
                src.close()
                dst.close()
            return candidate
    return None


def _transcripts(root: Path):
    """(job name, file) for every AWS transcript JSON under the local buckets."""
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*.json"), key=lambda p: p.stat().st_mtime):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if (isinstance(doc, dict) and isinstance(doc.get("jobName"), str) and doc.get("status") == COMPLETED
                and isinstance(doc.get("results"), dict)):
            yield doc, path
        elif isinstance(doc, dict) and doc.get(kms.MAGIC) and isinstance(doc.get("JobName"), str):
            # an encrypted transcript (OutputEncryptionKMSKeyId): its envelope names the job and key
            yield {"jobName": doc["JobName"], "results": {}, "kms": (doc.get("KeyId"),
                                                                     doc.get("EncryptionContext") or {})}, path


def rebuild(store: JobStore, buckets_root: Path) -> int:
    """Add a COMPLETED job for each transcript whose job the store does not know. Returns how many."""
    added = 0
    root = Path(buckets_root)
    for doc, path in _transcripts(root):
        name = doc["jobName"]
        if store.get(name) is not None:
            continue
        bucket = path.relative_to(root).parts[0]
        results = doc["results"]
        conversation = "speaker_labels" in results or "channel_labels" in results
        request = {"MedicalTranscriptionJobName": name, "LanguageCode": "en-US", "Media": {},
                   "OutputBucketName": bucket, "Specialty": "PRIMARYCARE",
                   "Type": "CONVERSATION" if conversation else "DICTATION"}
        if doc.get("kms") and isinstance(doc["kms"][0], str):
            request["OutputEncryptionKMSKeyId"] = doc["kms"][0]
            if doc["kms"][1]:
                request["KMSEncryptionContext"] = dict(doc["kms"][1])
        if store.add_completed(name, request, path.as_uri(), path.stat().st_mtime):
            added += 1
    return added


def open_job_store(home: Path, buckets_root: Path) -> tuple[JobStore, str | None]:
    """The home's job store, repaired first if need be; and the one line to tell the user, or None."""
    home = Path(home)
    path = home / "jobs.db"
    with FileLock(str(home / "jobs.db.lock"), timeout=60):
        why = problem(path)
        if why is None:
            return JobStore(path), None
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        aside = path.with_name(f"jobs.db.damaged-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            part = Path(f"{path}{suffix}")
            if part.exists():
                os.replace(part, Path(f"{aside}{suffix}"))
        restored = _restore(home, path)
        store = JobStore(path)
        added = rebuild(store, buckets_root)
    source = f"the backup {restored.name}" if restored else "no backup"
    return store, (f"ClinScribe: the job database {path} was unusable ({why}); it was kept as {aside.name} "
                   f"and the job history was rebuilt from {source} and {added} transcript file(s). "
                   "Run 'clinscribe list-medical-transcription-jobs' to check it.")
