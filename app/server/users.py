"""The clinic server's users and their access keys.

A user is a name, an access key id (``AKIA`` + 16 characters, like AWS's) and a secret
access key. SigV4 is a shared-secret HMAC: to check a signature the server must hold the
secret itself, so secrets are stored server-side. They are kept in the ``server_users``
table of the home's ``jobs.db`` (owner-only, 0600, like everything in the home), not in an
OS keyring: a headless clinic server (a systemd service, a container) has no Secret Service
session to unlock one, and a keyring-encrypted copy would make the server's start depend on
one. See docs/engine-notes.md ("Clinic server").

:class:`UserStore` is the one interface the server uses; a PostgreSQL store can implement the
same methods.
"""

from __future__ import annotations

import secrets
import sqlite3
import string
import time
from dataclasses import dataclass
from pathlib import Path

from ..store.jobstore import JobStore, SqliteStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS server_users (
    name TEXT PRIMARY KEY,
    access_key_id TEXT NOT NULL UNIQUE,
    secret_access_key TEXT NOT NULL,
    admin INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
);
"""

_KEY_ALPHABET = string.ascii_uppercase + string.digits
NAME_RULES = "1 to 64 letters, digits or . _ @ -"


class UserError(ValueError):
    """A user that cannot be added or removed (the message says why)."""


@dataclass(frozen=True)
class User:
    name: str
    access_key_id: str
    secret_access_key: str
    admin: bool
    created: float

    def public(self) -> dict:
        """What may be shown: everything but the secret."""
        return {"UserName": self.name, "AccessKeyId": self.access_key_id, "Admin": self.admin,
                "CreateDate": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.created))}


def _valid_name(name: str) -> bool:
    return 0 < len(name) <= 64 and all(c.isascii() and (c.isalnum() or c in "._@-") for c in name)


class UserStore(SqliteStore):
    """Users in the home's SQLite database (the same file as the jobs)."""

    schema = _SCHEMA

    def __init__(self, path: Path):
        JobStore(path)  # a jobs.db without its jobs table would be set aside as not ClinScribe's
        super().__init__(path)
        Path(path).chmod(0o600)  # holds secrets: owner-only even if the umask was not the app's

    @staticmethod
    def _user(row: sqlite3.Row | None) -> User | None:
        if row is None:
            return None
        return User(row["name"], row["access_key_id"], row["secret_access_key"], bool(row["admin"]),
                    row["created"])

    def add(self, name: str, *, admin: bool = False) -> User:
        """A new user with fresh keys from :mod:`secrets`; UserError if the name is taken or invalid."""
        if not _valid_name(name):
            raise UserError(f"The user name {name!r} is not valid: use {NAME_RULES}.")
        key_id = "AKIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
        secret = secrets.token_urlsafe(30)[:40]
        try:
            with self._connect() as db:
                db.execute("INSERT INTO server_users (name, access_key_id, secret_access_key, admin, created)"
                           " VALUES (?, ?, ?, ?, ?)", (name, key_id, secret, int(admin), time.time()))
        except sqlite3.IntegrityError:
            raise UserError(f"The user {name} already exists. Remove it first or use a different name.") from None
        return self.by_name(name)

    def remove(self, name: str) -> None:
        with self._connect() as db:
            if db.execute("DELETE FROM server_users WHERE name = ?", (name,)).rowcount == 0:
                raise UserError(f"There is no user {name}.")

    def by_name(self, name: str) -> User | None:
        with self._connect() as db:
            return self._user(db.execute("SELECT * FROM server_users WHERE name = ?", (name,)).fetchone())

    def by_access_key(self, access_key_id: str) -> User | None:
        with self._connect() as db:
            return self._user(db.execute("SELECT * FROM server_users WHERE access_key_id = ?",
                                         (access_key_id,)).fetchone())

    def all(self) -> list[User]:
        with self._connect() as db:
            return [self._user(r) for r in db.execute("SELECT * FROM server_users ORDER BY name")]
