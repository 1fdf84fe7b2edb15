"""The outbox: every send to the EHR is a row in ``outbox.db`` (SQLite in the home folder,
owner-only; sealed with the job's own key when its transcript is encrypted) written BEFORE the
network is touched, so a crash or a failed send leaves it
``queued``/``failed`` to be retried, never lost. A row keeps the payload exactly as it will be
sent (it holds PHI, like the transcripts beside it) and the server's id once it arrived; the next
send of the same job and destination supersedes that id (FHIR relatesTo / MDM^T10 TXA-13).
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..store.jobstore import SqliteStore
from ..store.paging import SQLITE, newest_first
from .base import backoff

QUEUED, SENT, FAILED, SUPERSEDED = "queued", "sent", "failed", "superseded"
STALE_QUEUED = 300.0  # a row still queued after this long was left by a crash: retry_due picks it up

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sends (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    job_name TEXT NOT NULL,
    engine TEXT NOT NULL,
    kind TEXT NOT NULL,            -- "fhir" or "hl7"
    destination TEXT NOT NULL,     -- base URL or host:port (no credentials)
    payload TEXT NOT NULL,         -- sealed (sealed:<base64>) when the job's transcript is encrypted
    protection TEXT,               -- JSON [local KMS key id, encryption context] of a sealed payload
    options TEXT NOT NULL DEFAULT '',  -- "bundle" for a FHIR transaction
    document_id TEXT NOT NULL,     -- urn:uuid of the DocumentReference / TXA-12 document number
    replaces TEXT,                 -- the server id this note supersedes
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created REAL NOT NULL,
    last_attempt REAL,
    next_attempt REAL,
    sent_time REAL,
    server_id TEXT,
    location TEXT
);
CREATE INDEX IF NOT EXISTS sends_job ON sends(job_name, engine, kind);
CREATE INDEX IF NOT EXISTS sends_status ON sends(status);
"""


@dataclass
class SendRow:
    seq: int
    id: str
    job_name: str
    engine: str
    kind: str
    destination: str
    payload: str
    protection: str | None
    options: str
    document_id: str
    replaces: str | None
    status: str
    attempts: int
    last_error: str | None
    created: float
    last_attempt: float | None
    next_attempt: float | None
    sent_time: float | None
    server_id: str | None
    location: str | None

    def describe(self) -> str:
        """One line for the job list: "sent to EHR 2026-12-02 14:02", "failed: … — Retry"."""
        if self.status == SENT:
            when = dt.datetime.fromtimestamp(self.sent_time or 0).strftime("%Y-%m-%d %H:%M")
            return f"sent to EHR {when}"
        if self.status == FAILED:
            return f"failed: {self.last_error or 'unknown error'} — Retry"
        if self.status == SUPERSEDED:
            return "replaced by a newer version before it was sent"
        return "queued for the EHR"


class Outbox(SqliteStore):
    schema = _SCHEMA

    def __init__(self, path: Path):
        super().__init__(path)
        if os.name == "posix":
            for p in (self.path, *(self.path.with_name(self.path.name + s) for s in ("-wal", "-shm"))):
                if p.exists():
                    os.chmod(p, 0o600)  # PHI: owner-only whatever the umask was

    @classmethod
    def open(cls, home: Path) -> "Outbox":
        return cls(Path(home) / "outbox.db")

    def _rows(self, sql: str, args=()) -> list[SendRow]:
        with self._connect() as db:
            return [SendRow(**dict(r)) for r in db.execute(sql, args).fetchall()]

    def get(self, row_id: str) -> SendRow | None:
        rows = self._rows("SELECT * FROM sends WHERE id = ?", (row_id,))
        return rows[0] if rows else None

    def list(self, job_name: str | None = None, engine: str | None = None, limit: int = 100) -> list[SendRow]:
        return self._rows(*newest_first("sends", SQLITE, equals={"job_name": job_name or None,
                                                                  "engine": engine or None}, limit=limit))

    def latest_sent(self, job_name: str, engine: str, kind: str) -> SendRow | None:
        rows = self._rows("SELECT * FROM sends WHERE job_name = ? AND engine = ? AND kind = ? AND status = ? "
                          "ORDER BY sent_time DESC, seq DESC LIMIT 1", (job_name, engine, kind, SENT))
        return rows[0] if rows else None

    def status_line(self, job_name: str, engine: str) -> str:
        """What the job list shows for a job ("" when it was never sent)."""
        rows = self.list(job_name, engine, limit=1)
        return rows[0].describe() if rows else ""

    # -- writes --------------------------------------------------------------------
    def queue(self, *, job_name: str, engine: str, kind: str, destination: str, payload: str, document_id: str,
              replaces: str | None = None, options: str = "", protection: str | None = None) -> SendRow:
        """Keep a send before it is attempted; earlier unsent versions of the same note are superseded."""
        row_id = str(uuid.uuid4())
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("UPDATE sends SET status = ?, next_attempt = NULL WHERE job_name = ? AND engine = ? "
                           "AND kind = ? AND status IN (?, ?)", (SUPERSEDED, job_name, engine, kind, QUEUED, FAILED))
                db.execute("INSERT INTO sends (id, job_name, engine, kind, destination, payload, protection, options,"
                           " document_id, replaces, status, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                           (row_id, job_name, engine, kind, destination, payload, protection, options, document_id,
                            replaces, QUEUED, time.time()))
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return self.get(row_id)

    def mark_sent(self, row_id: str, *, server_id: str, location: str = "", attempts: int = 1) -> None:
        now = time.time()
        with self._connect() as db:
            db.execute("UPDATE sends SET status = ?, server_id = ?, location = ?, sent_time = ?, last_attempt = ?, "
                       "attempts = attempts + ?, last_error = NULL, next_attempt = NULL WHERE id = ?",
                       (SENT, server_id, location, now, now, attempts, row_id))

    def mark_failed(self, row_id: str, error: str, *, attempts: int = 1, retry: bool = True) -> None:
        now = time.time()
        with self._connect() as db:
            total = db.execute("SELECT attempts FROM sends WHERE id = ?", (row_id,)).fetchone()[0] + attempts
            due = now + backoff(total, base=60.0, cap=3600.0) if retry else None
            db.execute("UPDATE sends SET status = ?, last_error = ?, attempts = ?, last_attempt = ?, next_attempt = ? "
                       "WHERE id = ?", (FAILED, error, total, now, due, row_id))

    def retry_due(self, now: float | None = None) -> list[SendRow]:
        """Rows to send again now: failed ones whose wait is over, and queued ones a crash left behind."""
        now = time.time() if now is None else now
        return self._rows("SELECT * FROM sends WHERE (status = ? AND next_attempt IS NOT NULL AND next_attempt <= ?)"
                          " OR (status = ? AND created <= ?) ORDER BY seq",
                          (FAILED, now, QUEUED, now - STALE_QUEUED))
