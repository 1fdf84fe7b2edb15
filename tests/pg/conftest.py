"""A real PostgreSQL for the tests: Debian's server binaries, initdb in a temp folder, 127.0.0.1 only.

PostgreSQL refuses to run as root: when the tests run as root (this machine, CI containers) the
cluster belongs to the ``postgres`` user and its commands run through ``runuser``. Each test gets
its own database; the server is one per session. Password authentication (scram) is on, and the
password reaches libpq only through PGPASSWORD, as on a clinic's worker machines.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

USER = "clinscribe"


def _bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                      key=lambda p: int(Path(p).parents[1].name) if Path(p).parents[1].name.isdigit() else 0)
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="clinscribe-pg-"))
        self.data, self.sockets, self.log = self.root / "data", self.root / "run", self.root / "server.log"
        self.password = secrets.token_urlsafe(16)
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("PostgreSQL refuses to run as root and there is no 'postgres' user")
            os.chmod(self.root, 0o700)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *cmd: str) -> None:
        subprocess.run([*self.as_user, *cmd], check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       cwd="/")

    def start(self) -> None:
        pwfile = self.root / "pw"
        for path in (self.sockets,):
            self._run("mkdir", "-p", str(path))
        self._run("sh", "-c", f"umask 077 && printf %s '{self.password}' > {pwfile}")
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", USER, "--auth=scram-sha-256",
                  f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C.UTF-8")
        self._run("rm", "-f", str(pwfile))
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", opts,
                  "-w", "-t", "60", "start")

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{dbname}"


@pytest.fixture(scope="session")
def pg_server():
    bindir = _bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (pg_ctl, initdb) found: install Debian's 'postgresql' "
                    "package (scripts/setup.sh does)")
    server = PgServer(bindir)
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
def pg_url(pg_server, request):
    """A fresh, empty database on the session's server, for one test."""
    import psycopg

    name = "t_" + secrets.token_hex(6)
    with psycopg.connect(pg_server.url(), autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    yield pg_server.url(name)
    with psycopg.connect(pg_server.url(), autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
