"""A real PostgreSQL for the tests (tests/servers/postgres.py): one server a session, each test its
own database. The password reaches libpq only through PGPASSWORD, as on a clinic's worker machines."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: servers.postgres

from servers.postgres import PostgresServer, Unavailable  # noqa: E402


@pytest.fixture(scope="session")
def pg_server():
    try:
        server = PostgresServer()
    except Unavailable as exc:
        pytest.skip(str(exc))
    server.start()
    old = os.environ.get("PGPASSWORD")
    os.environ["PGPASSWORD"] = server.password  # libpq's own source; workers the tests start inherit it
    try:
        yield server
    finally:
        if old is None:
            os.environ.pop("PGPASSWORD", None)
        else:
            os.environ["PGPASSWORD"] = old
        server.stop()


@pytest.fixture()
def pg_url(pg_server):
    """A fresh, empty database on the session's server, for one test."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)
