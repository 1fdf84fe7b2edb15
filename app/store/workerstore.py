"""Who the worker is and when it last made progress, beside the jobs in SQLite.

The worker registers itself (PID and process start time, so a reused PID is never
taken for it) and beats from its main thread: between stages, on each decoded batch,
and while idle. A beat proves progress, not mere liveness: a stopped or deadlocked
worker beats nothing. Beats use :func:`clock`, a system-wide clock that does not run
while the computer sleeps, so a suspended laptop is not taken for a stalled worker.
Notices are what the watchdog did to a job (for ``--wait`` to say so).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from .jobstore import SqliteStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS workers (
    pid INTEGER PRIMARY KEY,
    started REAL NOT NULL,
    heartbeat REAL NOT NULL,
    job_seq INTEGER,
    job_duration REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS job_notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_seq INTEGER NOT NULL,
    text TEXT NOT NULL
);
"""


def clock() -> float:
    """Seconds on a system-wide clock that stops while the computer sleeps."""
    if os.name == "nt":
        import ctypes

        value = ctypes.c_ulonglong()
        if ctypes.windll.kernel32.QueryUnbiasedInterruptTime(ctypes.byref(value)):
            return value.value / 1e7
    return time.monotonic()  # CLOCK_MONOTONIC (Linux) / mach uptime (macOS): system-wide, no sleep


@dataclass
class WorkerRecord:
    pid: int
    started: float      # the process's start time (psutil's create_time)
    heartbeat: float    # clock() of the last progress
    job_seq: int | None
    job_duration: float  # seconds of audio in the job it runs (0 when idle or unknown)


class WorkerStore(SqliteStore):
    schema = _SCHEMA

    def register(self, pid: int, started: float) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM workers")  # one worker per home: the lock holder
            db.execute("INSERT INTO workers (pid, started, heartbeat) VALUES (?, ?, ?)", (pid, started, clock()))

    def beat(self, pid: int, **values) -> None:
        values["heartbeat"] = clock()
        cols = ", ".join(f"{k} = ?" for k in values)
        with self._connect() as db:
            db.execute(f"UPDATE workers SET {cols} WHERE pid = ?", (*values.values(), pid))

    def current(self) -> WorkerRecord | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM workers LIMIT 1").fetchone()
        return WorkerRecord(**dict(row)) if row else None

    def retire(self, rec: WorkerRecord) -> bool:
        """Remove the worker ``rec`` (a process that is gone); True if this call did."""
        with self._connect() as db:
            cur = db.execute("DELETE FROM workers WHERE pid = ? AND started = ?", (rec.pid, rec.started))
            return cur.rowcount == 1

    def keep_open(self):
        """A connection the worker holds for its life, so closing its others never checkpoints.

        SQLite checkpoints the WAL under an exclusive lock when the last connection closes; a
        worker stopped right then would lock every reader out, the watchdog included.
        """
        import sqlite3

        keeper = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        keeper.execute("SELECT count(*) FROM workers").fetchone()
        return keeper

    def unregister(self, pid: int) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM workers WHERE pid = ?", (pid,))

    def add_notice(self, job_seq: int, text: str) -> None:
        with self._connect() as db:
            db.execute("INSERT INTO job_notices (job_seq, text) VALUES (?, ?)", (job_seq, text))

    def notices(self, job_seq: int, after: int = 0) -> list[tuple[int, str]]:
        with self._connect() as db:
            rows = db.execute("SELECT id, text FROM job_notices WHERE job_seq = ? AND id > ? ORDER BY id",
                              (job_seq, after)).fetchall()
        return [(r["id"], r["text"]) for r in rows]
