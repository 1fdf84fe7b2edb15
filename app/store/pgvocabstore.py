"""Medical vocabularies in PostgreSQL, beside the jobs: every front end of a clinic sees the same ones.

The same methods as :class:`~app.store.vocabstore.VocabularyStore`, on the job store's connections
(``job_store_url``). Times are the database server's clock.
"""

from __future__ import annotations

import dataclasses

from .paging import POSTGRES, newest_first
from .vocabstore import PENDING, VocabularyRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS clinscribe_vocabularies (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    language_code TEXT NOT NULL,
    state TEXT NOT NULL,
    failure_reason TEXT,
    content BYTEA,
    tags TEXT,
    last_modified DOUBLE PRECISION NOT NULL
);
"""
_NOW = "extract(epoch from clock_timestamp())"
_SETTABLE = {"state", "failure_reason", "content", "language_code", "tags"}
_FIELDS = {f.name for f in dataclasses.fields(VocabularyRecord)}


def _record(row: dict) -> VocabularyRecord:
    data = {k: v for k, v in row.items() if k in _FIELDS}
    if data.get("content") is not None:
        data["content"] = bytes(data["content"])
    return VocabularyRecord(**data)


class PgVocabularyStore:
    def __init__(self, jobs):
        """``jobs``: the :class:`~app.store.pgjobstore.PgJobStore` whose database holds them too."""
        self._pool = jobs._pool
        with self._pool.connection() as db, db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(hashtext('clinscribe_schema'))")
            db.execute(_SCHEMA)

    def get(self, name: str) -> VocabularyRecord | None:
        with self._pool.connection() as db:
            row = db.execute("SELECT * FROM clinscribe_vocabularies WHERE name = %s", (name,)).fetchone()
        return _record(row) if row else None

    def insert(self, name: str, language_code: str, tags: str | None) -> bool:
        with self._pool.connection() as db:
            row = db.execute("INSERT INTO clinscribe_vocabularies (name, language_code, state, tags, last_modified)"
                             f" VALUES (%s, %s, %s, %s, {_NOW}) ON CONFLICT (name) DO NOTHING RETURNING seq",
                             (name, language_code, PENDING, tags)).fetchone()
        return row is not None

    def set(self, name: str, **values) -> None:
        from psycopg import sql

        values.pop("last_modified", None)  # the server's clock
        unknown = set(values) - _SETTABLE
        if unknown:
            raise ValueError(f"not settable: {sorted(unknown)}")
        sets = [sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder()) for k in values]
        sets.append(sql.SQL(f"last_modified = {_NOW}"))
        query = sql.SQL("UPDATE clinscribe_vocabularies SET {} WHERE name = %s").format(sql.SQL(", ").join(sets))
        with self._pool.connection() as db:
            db.execute(query, (*values.values(), name))

    def list(self, *, state: str | None, name_contains: str | None, before_seq: int | None,
             limit: int) -> list[VocabularyRecord]:
        query, args = newest_first("clinscribe_vocabularies", POSTGRES, equals={"state": state or None},
                                   name_contains=name_contains, before_seq=before_seq, limit=limit)
        with self._pool.connection() as db:
            return [_record(r) for r in db.execute(query, args).fetchall()]

    def delete(self, name: str) -> None:
        with self._pool.connection() as db:
            db.execute("DELETE FROM clinscribe_vocabularies WHERE name = %s", (name,))
