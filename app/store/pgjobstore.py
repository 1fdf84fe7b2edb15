"""Durable job records in PostgreSQL: one queue for any number of workers on any number of machines.

Configured by the ``job_store_url`` setting (``postgresql://user@host/db``; empty: SQLite in the
home). The password is never in the settings: libpq finds it (``PGPASSWORD``, ``PGPASSFILE`` or
``~/.pgpass``); a URL that carries one is refused.

Workers claim the oldest QUEUED job with ``SELECT … FOR UPDATE SKIP LOCKED`` (two workers never
get the same row; neither waits for the other) and record their id and a heartbeat on PostgreSQL's
clock (``now()``), so the clocks of the worker machines never matter. A job whose heartbeat is older
than its lease goes back to QUEUED (or FAILED after ``max_attempts``): :meth:`requeue_dead`. Changes
a worker makes (progress, finish) apply only while it still holds the job, so a worker that lost its
lease (paused, cut off) can never overwrite the job another worker has since finished.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .jobstore import ACTIVE, COMPLETED, FAILED, IN_PROGRESS, QUEUED, JobRecord
from .paging import POSTGRES, newest_first

SCHEMA_VERSION = 1
DEFAULT_LEASE = 60.0
_EPOCH = "extract(epoch from clock_timestamp())"  # the database server's clock, in seconds

_SCHEMA = """
CREATE TABLE IF NOT EXISTS clinscribe_schema (
    component TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS clinscribe_jobs (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    request TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    creation_time DOUBLE PRECISION NOT NULL,
    start_time DOUBLE PRECISION,
    completion_time DOUBLE PRECISION,
    failure_reason TEXT,
    media_format TEXT,
    media_sample_rate INTEGER,
    transcript_uri TEXT,
    progress DOUBLE PRECISION NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    owner TEXT,
    media_duration DOUBLE PRECISION,
    worker_id TEXT,
    heartbeat_at TIMESTAMPTZ,
    lease_seconds DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS clinscribe_jobs_active ON clinscribe_jobs (seq)
    WHERE status IN ('QUEUED', 'IN_PROGRESS');
CREATE INDEX IF NOT EXISTS clinscribe_jobs_status ON clinscribe_jobs (status, seq);
CREATE INDEX IF NOT EXISTS clinscribe_jobs_owner ON clinscribe_jobs (owner, seq);
"""

# what update() may set (worker side); anything else is a programming error
_UPDATABLE = {"media_format", "media_sample_rate", "progress", "media_duration", "transcript_uri"}


class JobStoreConfigError(ValueError):
    """The job_store_url setting cannot be used; the message says what to change."""


class JobStoreUnavailable(ConnectionError):
    """The job database cannot be reached or refuses the login; the message says libpq's reason."""


@dataclass
class PgJobRecord(JobRecord):
    """A job; also who holds it. (``owner``/``media_duration`` as the SQLite store's, with defaults.)"""

    owner: str | None = None
    media_duration: float | None = None
    worker_id: str | None = None  # the worker that holds (or last held) the job


_FIELDS = {f.name for f in dataclasses.fields(PgJobRecord)}


def _record(row: dict) -> PgJobRecord:
    data = {k: v for k, v in row.items() if k in _FIELDS}
    data["request"] = json.loads(data["request"])
    data["options"] = json.loads(data["options"])
    return PgJobRecord(**data)


def check_url(url: str) -> str:
    """``url`` if it is a PostgreSQL URL without a password, else JobStoreConfigError."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise JobStoreConfigError(f"The job store URL must start with postgresql:// (got {parts.scheme or 'none'}://).")
    if parts.password is not None:
        raise JobStoreConfigError("The job store URL must not contain a password: put it in ~/.pgpass "
                                  "(or PGPASSFILE / PGPASSWORD) on each machine and remove it from the URL.")
    return url


class PgJobStore:
    """The job store's methods (as :class:`~app.store.jobstore.JobStore`) on PostgreSQL."""

    def __init__(self, url: str, *, max_connections: int = 4, connect_timeout: float = 10):
        import psycopg
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        self.url = check_url(url)
        try:  # once directly: libpq's own reason (refused, no password, wrong password) for the user
            psycopg.connect(self.url, connect_timeout=int(connect_timeout)).close()
        except psycopg.OperationalError as exc:
            where = urlsplit(self.url)
            reason = " ".join(str(exc).split()).rstrip(". ")
            raise JobStoreUnavailable(f"The job database {where.hostname or 'localhost'}:{where.port or 5432}"
                                      f"{where.path} cannot be used ({reason}). Check job_store_url, the server, "
                                      "and the password in ~/.pgpass or PGPASSWORD.") from None
        # a small pool: the engine serves requests from several threads, a worker beats from its own
        self._pool = ConnectionPool(self.url, min_size=1, max_size=max_connections, open=False,
                                    kwargs={"autocommit": True, "row_factory": dict_row,
                                            "connect_timeout": int(connect_timeout)},
                                    timeout=connect_timeout, name="clinscribe-jobs")
        self._pool.open(wait=True, timeout=connect_timeout)
        self._create_schema()

    def close(self) -> None:
        self._pool.close()

    def _create_schema(self) -> None:
        with self._pool.connection() as db, db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(hashtext('clinscribe_schema'))")  # one creator at a time
            db.execute(_SCHEMA)
            row = db.execute("SELECT version FROM clinscribe_schema WHERE component = 'jobs'").fetchone()
            if row is None:
                db.execute("INSERT INTO clinscribe_schema (component, version) VALUES ('jobs', %s)",
                           (SCHEMA_VERSION,))
            elif row["version"] != SCHEMA_VERSION:
                raise JobStoreConfigError(f"The job database has schema version {row['version']}; this "
                                          f"ClinScribe uses {SCHEMA_VERSION}. Upgrade every ClinScribe that uses it.")

    def _one(self, sql: str, args: Any = ()) -> dict | None:
        with self._pool.connection() as db:
            return db.execute(sql, args).fetchone()

    def _all(self, sql: str, args: Any = ()) -> list[dict]:
        with self._pool.connection() as db:
            return db.execute(sql, args).fetchall()

    # -- queries -------------------------------------------------------------
    def get(self, name: str) -> PgJobRecord | None:
        row = self._one("SELECT * FROM clinscribe_jobs WHERE name = %s", (name,))
        return _record(row) if row else None

    def get_seq(self, seq: int) -> PgJobRecord | None:
        row = self._one("SELECT * FROM clinscribe_jobs WHERE seq = %s", (seq,))
        return _record(row) if row else None

    def list(self, *, status: str | None = None, name_contains: str | None = None,
             before_seq: int | None = None, limit: int = 5, owner: str | None = None) -> list[PgJobRecord]:
        """Newest first (``seq`` descending) from the cursor ``before_seq``, as the SQLite store."""
        sql, args = newest_first("clinscribe_jobs", POSTGRES, equals={"status": status or None, "owner": owner},
                                 name_contains=name_contains, before_seq=before_seq, limit=limit)
        return [_record(r) for r in self._all(sql, args)]

    def active(self) -> list[PgJobRecord]:
        rows = self._all("SELECT * FROM clinscribe_jobs WHERE status IN (%s, %s) ORDER BY seq", ACTIVE)
        return [_record(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """How many jobs there are in each status (the server's metrics)."""
        return {r["status"]: r["n"] for r in
                self._all("SELECT status, count(*) AS n FROM clinscribe_jobs GROUP BY status")}

    def queue_depth(self) -> int:
        return self._one("SELECT count(*) AS n FROM clinscribe_jobs WHERE status = %s", (QUEUED,))["n"]

    # -- changes (front ends) ---------------------------------------------------
    def insert(self, name: str, request: dict, options: dict, owner: str | None = None) -> PgJobRecord | None:
        """Add a QUEUED job (a worker claims it: then IN_PROGRESS); None when the name is taken."""
        row = self._one(
            "INSERT INTO clinscribe_jobs (name, request, options, status, creation_time, owner)"
            f" VALUES (%s, %s, %s, %s, {_EPOCH}, %s) ON CONFLICT (name) DO NOTHING RETURNING *",
            (name, json.dumps(request), json.dumps(options), QUEUED, owner))
        return _record(row) if row else None

    def add_completed(self, name: str, request: dict, transcript_uri: str, when: float,
                      owner: str | None = None) -> bool:
        """A finished job rebuilt from its transcript file; False if the name is taken."""
        row = self._one(
            "INSERT INTO clinscribe_jobs (name, request, status, creation_time, start_time, completion_time,"
            " transcript_uri, progress, owner) VALUES (%s, %s, %s, %s, %s, %s, %s, 1.0, %s)"
            " ON CONFLICT (name) DO NOTHING RETURNING seq",
            (name, json.dumps(request), COMPLETED, when, when, when, transcript_uri, owner))
        return row is not None

    def request_cancel(self, seq: int, reason: str, timeout: float = 30) -> str:
        """Fail a QUEUED job now; flag an IN_PROGRESS one for its worker (on whichever machine)."""
        with self._pool.connection(timeout=timeout) as db, db.transaction():
            row = db.execute("SELECT status FROM clinscribe_jobs WHERE seq = %s FOR UPDATE", (seq,)).fetchone()
            if row is None or row["status"] not in ACTIVE:
                return row["status"] if row else ""
            if row["status"] == QUEUED:
                db.execute(f"UPDATE clinscribe_jobs SET cancel_requested = 1, status = %s, failure_reason = %s,"
                           f" completion_time = {_EPOCH} WHERE seq = %s", (FAILED, reason, seq))
                return FAILED
            db.execute("UPDATE clinscribe_jobs SET cancel_requested = 1 WHERE seq = %s", (seq,))
            return row["status"]

    def cancel_requested(self, seq: int) -> bool:
        row = self._one("SELECT cancel_requested FROM clinscribe_jobs WHERE seq = %s", (seq,))
        return bool(row and row["cancel_requested"])

    def delete(self, name: str) -> None:
        self._one("DELETE FROM clinscribe_jobs WHERE name = %s RETURNING seq", (name,))

    # -- changes (workers) -----------------------------------------------------
    def claim_next(self, worker_id: str | None = None, lease_seconds: float = DEFAULT_LEASE) -> PgJobRecord | None:
        """The oldest QUEUED job, now IN_PROGRESS, held by ``worker_id`` with one more attempt."""
        row = self._one(
            "UPDATE clinscribe_jobs AS j SET status = %s, start_time = coalesce(j.start_time, "
            f"{_EPOCH}), attempts = j.attempts + 1, progress = 0, worker_id = %s, heartbeat_at = now(),"
            " lease_seconds = %s"
            " FROM (SELECT seq FROM clinscribe_jobs WHERE status = %s ORDER BY seq LIMIT 1"
            "       FOR UPDATE SKIP LOCKED) AS next WHERE j.seq = next.seq RETURNING j.*",
            (IN_PROGRESS, worker_id, float(lease_seconds), QUEUED))
        return _record(row) if row else None

    def heartbeat(self, seq: int, worker_id: str) -> bool:
        """The worker is alive and still holds job ``seq``; False when it no longer does."""
        row = self._one("UPDATE clinscribe_jobs SET heartbeat_at = now() WHERE seq = %s AND worker_id = %s"
                        " AND status = %s RETURNING seq", (seq, worker_id, IN_PROGRESS))
        return row is not None

    def update(self, seq: int, worker_id: str | None = None, **values: Any) -> bool:
        """Set columns of job ``seq``; with ``worker_id``, only while that worker holds it (and beat)."""
        from psycopg import sql

        if not values and worker_id is None:
            return True
        unknown = set(values) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        sets = [sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder()) for k in values]
        where, args = [sql.SQL("seq = %s")], [*values.values(), seq]
        if worker_id is not None:
            sets.append(sql.SQL("heartbeat_at = now()"))
            where += [sql.SQL("worker_id = %s"), sql.SQL("status = %s")]
            args += [worker_id, IN_PROGRESS]
        query = sql.SQL("UPDATE clinscribe_jobs SET {} WHERE {} RETURNING seq").format(
            sql.SQL(", ").join(sets), sql.SQL(" AND ").join(where))
        return self._one(query, args) is not None

    def finish(self, seq: int, *, transcript_uri: str | None = None, failure_reason: str | None = None,
               worker_id: str | None = None) -> bool:
        """COMPLETED (or FAILED with the reason) if still IN_PROGRESS — and, with ``worker_id``,
        still held by that worker (a re-queued job finished late by a zombie is left alone)."""
        status = FAILED if failure_reason else COMPLETED
        held = " AND worker_id = %s" if worker_id is not None else ""
        row = self._one(
            f"UPDATE clinscribe_jobs SET status = %s, completion_time = {_EPOCH}, transcript_uri = %s,"
            f" failure_reason = %s, progress = %s, heartbeat_at = NULL WHERE seq = %s AND status = %s{held}"
            " RETURNING seq",
            (status, transcript_uri, failure_reason, 1.0 if status == COMPLETED else 0.0, seq, IN_PROGRESS,
             *([worker_id] if worker_id is not None else [])))
        return row is not None

    def release(self, seq: int | None, worker_id: str, cancelled: str | None = None) -> list[tuple[int, str]]:
        """Give back job ``seq`` (None: every job ``worker_id`` holds) unfinished, as at a graceful
        shutdown: QUEUED, this attempt not counted; one whose cancel was asked for FAILED with
        ``cancelled``. Returns (seq, new status) of each job given back (none when not held)."""
        if cancelled is None:
            from ..local.worker import CANCELLED as cancelled
        which = "" if seq is None else " AND seq = %s"
        rows = self._all(
            "UPDATE clinscribe_jobs SET"
            " status = CASE WHEN cancel_requested = 1 THEN %s ELSE %s END,"
            " failure_reason = CASE WHEN cancel_requested = 1 THEN %s END,"
            f" completion_time = CASE WHEN cancel_requested = 1 THEN {_EPOCH} END,"
            " attempts = CASE WHEN cancel_requested = 1 THEN attempts ELSE greatest(attempts - 1, 0) END,"
            " worker_id = CASE WHEN cancel_requested = 1 THEN worker_id END, heartbeat_at = NULL, progress = 0"
            f" WHERE worker_id = %s AND status = %s{which} RETURNING seq, status",
            (FAILED, QUEUED, cancelled, worker_id, IN_PROGRESS, *([] if seq is None else [seq])))
        return [(r["seq"], r["status"]) for r in rows]

    def requeue_dead(self, lease_seconds: float | None = None, max_attempts: int = 2, *,
                     worker_id: str | None = None, reason: str | None = None,
                     cancelled: str | None = None) -> list[tuple[int, str]]:
        """IN_PROGRESS jobs whose heartbeat is older than their lease: QUEUED again (attempts <
        ``max_attempts``), else FAILED (``reason``: the engine's WORKER_DIED); a cancelled one FAILED.

        The lease is the one the claiming worker recorded (it knows how often it beats);
        ``lease_seconds`` can only lengthen it. ``worker_id``: that worker's jobs now, whatever the
        lease (its supervisor saw it die). Returns (seq, new status) of each job changed.
        """
        if reason is None or cancelled is None:
            from ..engine.local import WORKER_DIED
            from ..local.worker import CANCELLED

            reason, cancelled = reason or WORKER_DIED, cancelled or CANCELLED
        if worker_id is not None:
            dead, args = "worker_id = %s", [worker_id]
        else:
            dead = "heartbeat_at < now() - make_interval(secs => greatest(%s, coalesce(lease_seconds, %s)))"
            args = [float(lease_seconds or 0), DEFAULT_LEASE]
        rows = self._all(
            "UPDATE clinscribe_jobs SET"
            " status = CASE WHEN cancel_requested = 1 OR attempts >= %s THEN %s ELSE %s END,"
            " failure_reason = CASE WHEN cancel_requested = 1 THEN %s WHEN attempts >= %s THEN %s END,"
            f" completion_time = CASE WHEN cancel_requested = 1 OR attempts >= %s THEN {_EPOCH} END,"
            " worker_id = CASE WHEN cancel_requested = 1 OR attempts >= %s THEN worker_id END,"
            " heartbeat_at = NULL, progress = 0"
            f" WHERE status = %s AND {dead} RETURNING seq, status",
            (max_attempts, FAILED, QUEUED, cancelled, max_attempts, reason, max_attempts, max_attempts,
             IN_PROGRESS, *args))
        return [(r["seq"], r["status"]) for r in rows]


def from_settings(settings) -> PgJobStore | None:
    """The PostgreSQL job store the settings configure, or None (SQLite in the home)."""
    url = (getattr(settings, "job_store_url", "") or "").strip()
    return PgJobStore(url) if url else None
