"""Durable job records in SQLite (one file in the home folder).

Several processes share it: the app or CLI that submits and polls, and the
worker that runs jobs. Writes are short transactions; WAL lets readers go on
while the worker writes progress.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .paging import SQLITE, newest_first

QUEUED, IN_PROGRESS, COMPLETED, FAILED = "QUEUED", "IN_PROGRESS", "COMPLETED", "FAILED"
SCHEMA_VERSION = 2  # PRAGMA user_version of jobs.db (0: written before versions were kept; 2: owner, media_duration)
ACTIVE = (QUEUED, IN_PROGRESS)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    request TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    creation_time REAL NOT NULL,
    start_time REAL,
    completion_time REAL,
    failure_reason TEXT,
    media_format TEXT,
    media_sample_rate INTEGER,
    transcript_uri TEXT,
    progress REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    owner TEXT,
    media_duration REAL
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status);
"""


@dataclass
class JobRecord:
    seq: int
    name: str
    request: dict
    options: dict
    status: str
    creation_time: float
    start_time: float | None
    completion_time: float | None
    failure_reason: str | None
    media_format: str | None
    media_sample_rate: int | None
    transcript_uri: str | None
    progress: float
    attempts: int
    cancel_requested: int = 0
    owner: str | None = None             # the clinic server's user who started it (None: local use)
    media_duration: float | None = None  # seconds of audio (the server's real-time factor)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "JobRecord":
        data = dict(row)
        data["request"] = json.loads(data["request"])
        data["options"] = json.loads(data["options"])
        return cls(**data)


class SqliteStore:
    """A table in the home folder's SQLite database: short connections, newest-first pages."""

    schema = ""

    def __init__(self, path: Path, *, read_only: bool = False):
        """``read_only``: a home the user cannot write (opened immutable: no WAL files, no changes)."""
        self.path = Path(path)
        self.read_only = read_only
        if read_only:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            if self._up_to_date(db):
                return  # nothing to write: opening never waits on a writer (a stopped worker may hold the lock)
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(self.schema)
            self._migrate(db)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _up_to_date(self, db: sqlite3.Connection) -> bool:
        """Whether the file already has this store's tables, this schema version and WAL (reads only)."""
        wanted = set(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", self.schema))
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return (wanted <= tables and db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
                and db.execute("PRAGMA journal_mode").fetchone()[0] == "wal")

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Bring an older database's tables up to this schema (columns added since)."""

    @contextmanager
    def _connect(self, timeout: float = 30) -> Iterator[sqlite3.Connection]:
        if self.read_only and not self.path.exists():  # a read-only home without jobs: an empty store
            db = sqlite3.connect(":memory:", isolation_level=None)
            db.executescript(self.schema)
        elif self.read_only:
            db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro&immutable=1", uri=True,
                                 isolation_level=None)
        else:
            db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            yield db
        finally:
            db.close()

    def _page(self, table: str, **query) -> list[sqlite3.Row]:
        """Rows newest first: :func:`~app.store.paging.newest_first`'s filters and cursor."""
        sql, args = newest_first(table, SQLITE, **query)
        with self._connect() as db:
            return db.execute(sql, args).fetchall()


class JobStore(SqliteStore):
    schema = _SCHEMA

    ADDED_COLUMNS = (("owner", "TEXT"), ("media_duration", "REAL"))  # schema 2

    def _up_to_date(self, db: sqlite3.Connection) -> bool:
        # another store of the same file may have set the version before this one added its columns
        columns = {r[1] for r in db.execute("PRAGMA table_info(jobs)")}
        return super()._up_to_date(db) and all(c in columns for c, _ in self.ADDED_COLUMNS)

    def _migrate(self, db: sqlite3.Connection) -> None:
        columns = {r[1] for r in db.execute("PRAGMA table_info(jobs)")}
        for column, kind in self.ADDED_COLUMNS:
            if column not in columns:
                db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {kind}")

    @contextmanager
    def transaction(self, timeout: float = 30) -> Iterator[sqlite3.Connection]:
        with self._connect(timeout) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # -- queries -------------------------------------------------------------
    def get(self, name: str) -> JobRecord | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE name = ?", (name,)).fetchone()
        return JobRecord.from_row(row) if row else None

    def list(self, *, status: str | None = None, name_contains: str | None = None,
             before_seq: int | None = None, limit: int = 5, owner: str | None = None) -> list[JobRecord]:
        """``owner``: only that user's jobs (None: everyone's)."""
        rows = self._page("jobs", equals={"status": status or None, "owner": owner}, name_contains=name_contains,
                          before_seq=before_seq, limit=limit)
        return [JobRecord.from_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """How many jobs there are in each status (the server's queue depth metrics)."""
        with self._connect() as db:
            return {r[0]: r[1] for r in db.execute("SELECT status, count(*) FROM jobs GROUP BY status")}

    def active(self) -> list[JobRecord]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM jobs WHERE status IN (?, ?) ORDER BY seq", ACTIVE)
            return [JobRecord.from_row(r) for r in rows]

    # -- changes -------------------------------------------------------------
    def insert(self, name: str, request: dict, options: dict, owner: str | None = None) -> JobRecord | None:
        """Add a job; None when the name is taken. The first active job starts IN_PROGRESS."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM jobs WHERE name = ?", (name,)).fetchone():
                return None
            busy = db.execute("SELECT 1 FROM jobs WHERE status IN (?, ?)", ACTIVE).fetchone()
            now = time.time()
            status, start = (QUEUED, None) if busy else (IN_PROGRESS, now)
            db.execute(
                "INSERT INTO jobs (name, request, options, status, creation_time, start_time, owner)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, json.dumps(request), json.dumps(options), status, now, start, owner),
            )
        return self.get(name)

    def add_completed(self, name: str, request: dict, transcript_uri: str, when: float) -> bool:
        """A finished job rebuilt from its transcript file (see :mod:`.recovery`); False if the name is taken."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM jobs WHERE name = ?", (name,)).fetchone():
                return False
            db.execute(
                "INSERT INTO jobs (name, request, status, creation_time, start_time, completion_time,"
                " transcript_uri, progress) VALUES (?, ?, ?, ?, ?, ?, ?, 1.0)",
                (name, json.dumps(request), COMPLETED, when, when, when, transcript_uri),
            )
        return True

    def claim_next(self) -> JobRecord | None:
        """The oldest active job, marked IN_PROGRESS with one more attempt (worker side)."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT seq FROM jobs WHERE status IN (?, ?) ORDER BY seq LIMIT 1", ACTIVE
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE jobs SET status = ?, start_time = coalesce(start_time, ?),"
                " attempts = attempts + 1, progress = 0 WHERE seq = ?",
                (IN_PROGRESS, time.time(), row["seq"]),
            )
            seq = row["seq"]
        with self._connect() as db:
            return JobRecord.from_row(db.execute("SELECT * FROM jobs WHERE seq = ?", (seq,)).fetchone())

    def update(self, seq: int, **values: Any) -> None:
        if not values:
            return
        cols = ", ".join(f"{k} = ?" for k in values)
        with self._connect() as db:
            db.execute(f"UPDATE jobs SET {cols} WHERE seq = ?", (*values.values(), seq))

    def finish(self, seq: int, *, transcript_uri: str | None = None,
               failure_reason: str | None = None) -> None:
        status = FAILED if failure_reason else COMPLETED
        with self._connect() as db:
            db.execute(
                "UPDATE jobs SET status = ?, completion_time = ?, transcript_uri = ?,"
                " failure_reason = ?, progress = ? WHERE seq = ? AND status = ?",
                (status, time.time(), transcript_uri, failure_reason,
                 1.0 if status == COMPLETED else 0.0, seq, IN_PROGRESS),
            )

    def request_cancel(self, seq: int, reason: str, timeout: float = 30) -> str:
        """Fail a QUEUED job now; flag an IN_PROGRESS one for its worker. Returns the status after.

        sqlite3.OperationalError when the database stays locked for ``timeout`` seconds.
        """
        with self.transaction(timeout) as db:
            row = db.execute("SELECT status FROM jobs WHERE seq = ?", (seq,)).fetchone()
            if row is None or row["status"] not in ACTIVE:
                return row["status"] if row else ""
            db.execute("UPDATE jobs SET cancel_requested = 1 WHERE seq = ?", (seq,))
            if row["status"] == QUEUED:
                db.execute("UPDATE jobs SET status = ?, failure_reason = ?, completion_time = ? WHERE seq = ?",
                           (FAILED, reason, time.time(), seq))
                return FAILED
            return row["status"]

    def cancel_requested(self, seq: int) -> bool:
        with self._connect() as db:
            row = db.execute("SELECT cancel_requested FROM jobs WHERE seq = ?", (seq,)).fetchone()
        return bool(row and row["cancel_requested"])

    def delete(self, name: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM jobs WHERE name = ?", (name,))
