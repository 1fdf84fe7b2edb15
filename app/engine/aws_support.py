"""The AWS engine's plumbing: retry and client settings, error classes and tests, and the
names of submitted jobs kept in ``<home>/aws_jobs.db`` (see :mod:`app.engine.aws`)."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import botocore.exceptions
from botocore.config import Config

NOT_FOUND_CODES = ("NotFoundException", "BadRequestException")  # moto says BadRequest (spec §1.5)
NOT_FOUND_TEXT = "couldn't be found"
THROTTLE_CODES = {"Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
                  "RequestLimitExceeded", "LimitExceededException", "SlowDown", "RequestThrottled",
                  "RequestThrottledException", "ProvisionedThroughputExceededException"}

DEFAULT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 6},  # throttling, 5xx and dropped connections
    connect_timeout=10,
    read_timeout=60,
    user_agent_appid="ClinScribe",
)
# test_connection must answer quickly: a dead endpoint is reported, not retried for a minute.
CHECK_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=5, read_timeout=20)


class ConnectionProblem(ConnectionError):
    """AWS cannot be used as configured; ``str()`` is one line saying what is wrong.

    ``transient`` is True for network trouble worth retrying later (endpoint
    unreachable, connection dropped), False for configuration problems.
    """

    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(" ".join(str(message).split()))
        self.transient = transient

    def __str__(self) -> str:
        return self.args[0]


class UploadCancelled(Exception):
    """put_media stopped because its cancel event was set (no object, no dangling multipart upload)."""


class VocabularyFailed(ValueError):
    """A medical vocabulary ended FAILED; ``reason`` is AWS's FailureReason."""

    def __init__(self, name: str, reason: str | None):
        super().__init__(f"The medical vocabulary {name} FAILED: {reason or 'no reason given'}")
        self.name, self.reason = name, reason


def _code(exc: botocore.exceptions.ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def _status(exc: botocore.exceptions.ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _is_not_found(exc: botocore.exceptions.ClientError) -> bool:
    code = _code(exc)
    return code == "NotFoundException" or (code == "BadRequestException" and NOT_FOUND_TEXT in str(exc))


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionProblem):
        return exc.transient
    if isinstance(exc, botocore.exceptions.ClientError):
        return _code(exc) in THROTTLE_CODES or _status(exc) >= 500
    return False


# -- the local record of submitted jobs -----------------------------------------
class AwsJobRecords:
    """Names (and requests) of jobs this app submitted to AWS: ``<home>/aws_jobs.db``.

    Only what is needed to resume polling and find transcripts after a restart;
    never credentials. ``scope`` separates regions/endpoints.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        with self._db() as db:
            db.execute("""CREATE TABLE IF NOT EXISTS aws_jobs (
                scope TEXT NOT NULL, name TEXT NOT NULL, request TEXT NOT NULL,
                status TEXT NOT NULL, transcript_uri TEXT, fetched INTEGER NOT NULL DEFAULT 0,
                created REAL NOT NULL, updated REAL NOT NULL, PRIMARY KEY (scope, name))""")

    def _db(self):
        db = sqlite3.connect(self.path, timeout=30)
        return _Tx(db)

    def get(self, scope: str, name: str) -> dict | None:
        with self._db() as db:
            row = db.execute("SELECT name, request, status, transcript_uri, fetched FROM aws_jobs "
                             "WHERE scope=? AND name=?", (scope, name)).fetchone()
        if row is None:
            return None
        return {"name": row[0], "request": json.loads(row[1]), "status": row[2],
                "transcript_uri": row[3], "fetched": bool(row[4])}

    def put(self, scope: str, name: str, request: dict, status: str) -> None:
        now = time.time()
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO aws_jobs (scope, name, request, status, transcript_uri, fetched, "
                       "created, updated) VALUES (?, ?, ?, ?, NULL, 0, ?, ?)",
                       (scope, name, json.dumps(request, default=str), status, now, now))

    def update(self, scope: str, name: str, **fields) -> None:
        if not fields:
            return
        sets = ", ".join(f"{k}=?" for k in fields)
        with self._db() as db:
            db.execute(f"UPDATE aws_jobs SET {sets}, updated=? WHERE scope=? AND name=?",
                       (*fields.values(), time.time(), scope, name))

    def remove(self, scope: str, name: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM aws_jobs WHERE scope=? AND name=?", (scope, name))

    def pending(self, scope: str) -> list[str]:
        """Jobs still running (or being submitted), and completed ones whose transcript is not kept yet."""
        with self._db() as db:
            rows = db.execute("SELECT name FROM aws_jobs WHERE scope=? AND (status NOT IN ('COMPLETED', 'FAILED') "
                              "OR (status='COMPLETED' AND fetched=0)) ORDER BY created", (scope,)).fetchall()
        return [r[0] for r in rows]


class _Tx:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        return self.db

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.db.commit()
        finally:
            self.db.close()
