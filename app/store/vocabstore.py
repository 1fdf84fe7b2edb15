"""Medical custom vocabularies of the local engine, kept beside the jobs in SQLite.

A vocabulary's file is copied in when it is created or updated (as AWS does), then
checked against AWS's file rules: READY, or FAILED with a reason naming the line.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from .jobstore import SqliteStore

PENDING, READY, FAILED = "PENDING", "READY", "FAILED"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vocabularies (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    language_code TEXT NOT NULL,
    state TEXT NOT NULL,
    failure_reason TEXT,
    content BLOB,
    tags TEXT,
    last_modified REAL NOT NULL
);
"""


@dataclass
class VocabularyRecord:
    seq: int
    name: str
    language_code: str
    state: str
    failure_reason: str | None
    content: bytes | None
    tags: str | None
    last_modified: float


class VocabularyStore(SqliteStore):
    schema = _SCHEMA

    def get(self, name: str) -> VocabularyRecord | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM vocabularies WHERE name = ?", (name,)).fetchone()
        return VocabularyRecord(**dict(row)) if row else None

    def insert(self, name: str, language_code: str, tags: str | None) -> bool:
        with self._connect() as db:
            try:
                db.execute("INSERT INTO vocabularies (name, language_code, state, tags, last_modified)"
                           " VALUES (?, ?, ?, ?, ?)", (name, language_code, PENDING, tags, time.time()))
            except sqlite3.IntegrityError:
                return False
        return True

    def set(self, name: str, **values) -> None:
        values.setdefault("last_modified", time.time())
        cols = ", ".join(f"{k} = ?" for k in values)
        with self._connect() as db:
            db.execute(f"UPDATE vocabularies SET {cols} WHERE name = ?", (*values.values(), name))

    def list(self, *, state: str | None, name_contains: str | None, before_seq: int | None,
             limit: int) -> list[VocabularyRecord]:
        rows = self._page("vocabularies", equals={"state": state or None}, name_contains=name_contains,
                          before_seq=before_seq, limit=limit)
        return [VocabularyRecord(**dict(r)) for r in rows]

    def delete(self, name: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM vocabularies WHERE name = ?", (name,))
