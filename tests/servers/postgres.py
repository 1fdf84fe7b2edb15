"""A real PostgreSQL on 127.0.0.1 for the tests and the benchmarks: Debian's server binaries,
``initdb`` in a temp folder, password authentication (scram), fast and throw-away (fsync off).

PostgreSQL refuses to run as root: when run as root (this machine, CI containers) the cluster
belongs to the ``postgres`` user and its commands run through ``runuser``. The password reaches
libpq only through PGPASSWORD (:meth:`PostgresServer.environ`), as on a clinic's worker machines.

Plain code, no pytest: ``tests/pg/conftest.py`` wraps it in fixtures, ``bench/`` scripts use it directly.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

USER = "clinscribe"


class Unavailable(RuntimeError):
    """No PostgreSQL can be started here (the reason says what to install)."""


def bindir() -> Path | None:
    """The folder of pg_ctl and initdb (PATH first, else Debian's newest /usr/lib/postgresql/N/bin)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                      key=lambda p: int(Path(p).parents[1].name) if Path(p).parents[1].name.isdigit() else 0)
    return Path(versions[-1]).parent if versions else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """``start()``, ``url(db)``, ``create_database()``, ``stop()``; also a context manager."""

    def __init__(self, binaries: Path | None = None):
        self.bindir = binaries or bindir()
        if self.bindir is None:
            raise Unavailable("no PostgreSQL server binaries (pg_ctl, initdb) found: install Debian's "
                              "'postgresql' package (scripts/setup.sh does)")
        self.as_user: list[str] = []
        owner = None
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise Unavailable("PostgreSQL refuses to run as root and there is no 'postgres' user") from None
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.root = Path(tempfile.mkdtemp(prefix="clinscribe-pg-"))
        self.data, self.sockets, self.log = self.root / "data", self.root / "run", self.root / "server.log"
        self.password = secrets.token_urlsafe(16)
        self.port = free_port()
        if owner is not None:
            os.chmod(self.root, 0o700)
            os.chown(self.root, owner.pw_uid, owner.pw_gid)

    def _run(self, *cmd: str) -> None:
        subprocess.run([*self.as_user, *cmd], check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       cwd="/")

    def start(self) -> "PostgresServer":
        pwfile = self.root / "pw"
        self._run("mkdir", "-p", str(self.sockets))
        self._run("sh", "-c", f"umask 077 && printf %s '{self.password}' > {pwfile}")
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", USER, "--auth=scram-sha-256",
                  f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C.UTF-8")
        self._run("rm", "-f", str(pwfile))
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", opts,
                  "-w", "-t", "60", "start")
        return self

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        """A libpq URL without the password (ClinScribe refuses passwords in job_store_url)."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{dbname}"

    def environ(self) -> dict[str, str]:
        """What a process needs to log in: PGPASSWORD, libpq's own source."""
        return {"PGPASSWORD": self.password}

    def _admin(self):
        import psycopg

        return psycopg.connect(self.url(), autocommit=True, password=self.password)

    def create_database(self, name: str | None = None) -> str:
        """A fresh, empty database; returns its URL."""
        name = name or "t_" + secrets.token_hex(6)
        with self._admin() as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name_or_url: str) -> None:
        name = name_or_url.rsplit("/", 1)[-1]
        with self._admin() as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
