"""The clinic server started for real: uvicorn on 127.0.0.1 (a free port), the local engine on a
temp home, users with real keys; clients are boto3 and the AWS CLI."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest
import uvicorn
from botocore.config import Config

from helpers import AUDIO, ROOT
from serverkit import job_params, wait_done

MEDIA_BUCKET = "clinscribe-media"


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


class RunningServer:
    def __init__(self, home: Path, url: str, app, lines: list[str]):
        self.home, self.url, self.app, self.log_lines = home, url, app, lines
        self.state = app.state.server
        self.keys: dict[str, dict] = {}

    def user(self, name: str, admin: bool = False) -> dict:
        if name not in self.keys:
            u = self.state.users.add(name, admin=admin)
            self.keys[name] = {"aws_access_key_id": u.access_key_id, "aws_secret_access_key": u.secret_access_key}
        return self.keys[name]

    def client(self, name: str | None = None, *, retries: int = 1, **keys):
        creds = keys or self.user(name)
        return boto3.client("transcribe", endpoint_url=self.url, region_name="us-east-1",
                            config=Config(retries={"max_attempts": retries, "mode": "standard"}), **creds)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """``clinscribe ARGS`` on the server's home (what an admin runs on the server)."""
        env = dict(os.environ, CLINSCRIBE_HOME=str(self.home), PYTHONPATH=str(ROOT))
        proc = subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, env=env,
                              cwd=ROOT, timeout=120)
        if check:
            assert proc.returncode == 0, proc.stderr
        return proc


def _free_port() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    from app.engine.local import LocalEngine
    from app.server.app import create_app

    home = tmp_path_factory.mktemp("server-home")
    engine = LocalEngine(base=home)
    app = create_app(engine)
    lines = _Lines()
    logging.getLogger("clinscribe.server").addHandler(lines)
    sock = _free_port()
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    running = RunningServer(home, f"http://127.0.0.1:{port}", app, lines.lines)
    # media in the server's local bucket, as an admin puts it there: clinscribe put-object
    out = running.cli("put-object", str(AUDIO / "jfk.flac"), "--bucket", MEDIA_BUCKET, "--key", "jfk.flac")
    running.jfk_uri = out.stdout.strip()
    junk = home / "not-audio.wav"
    junk.write_bytes(b"this is not audio at all\n" * 40)
    running.junk_uri = engine.put_media(junk, MEDIA_BUCKET, "not-audio.wav")  # jobs on it fail fast
    yield running
    srv.should_exit = True
    thread.join(timeout=30)
    logging.getLogger("clinscribe.server").removeHandler(lines)


@pytest.fixture(scope="session")
def completed_job(server):
    """One real job (jfk.flac, tiny.en) that user alice started through the server, run to the end."""
    alice = server.client("alice")
    alice.start_medical_transcription_job(**job_params("alice-jfk", server.jfk_uri))
    job = wait_done(alice, "alice-jfk")
    return job


@pytest.fixture()
def aws_cli(server, tmp_path):
    """``python -m awscli transcribe ...`` against the server, with a user's keys in its environment."""
    config = tmp_path / "aws-config"
    config.write_text("[default]\nregion = us-east-1\noutput = json\n")
    creds = tmp_path / "aws-credentials"
    creds.write_text("")

    def run(user: str, *args: str) -> subprocess.CompletedProcess:
        keys = server.user(user)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID=keys["aws_access_key_id"], AWS_SECRET_ACCESS_KEY=keys["aws_secret_access_key"],
                   AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(creds))
        return subprocess.run([sys.executable, "-m", "awscli", "transcribe", *args, "--endpoint-url", server.url],
                              capture_output=True, text=True, env=env, timeout=120)

    return run
