"""A whole clinic on 127.0.0.1, started as an admin would: a real PostgreSQL (:mod:`.postgres`), moto's
S3 server over HTTP as the clinic's object store, ``clinscribe serve --workers N`` and ``clinscribe
worker`` processes ("other boxes"), each on a home of its own whose settings name the job store and
the S3 store. Used by tests/server/test_full_stack.py and bench/server_throughput.py (plain code).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .postgres import PostgresServer, free_port

ROOT = Path(__file__).resolve().parents[2]
MEDIA, OUT = "clinic-media", "clinic-transcripts"
REGION = "us-east-1"
# the clinic's S3 store's keys (moto takes any); only the server's and the boxes' processes get them
S3_KEYS = {"AWS_ACCESS_KEY_ID": "clinic-s3", "AWS_SECRET_ACCESS_KEY": "clinic-s3-secret"}


def start_moto():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


def read_events(log: Path, name: str | None = None) -> list[dict]:
    out = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and (name is None or item.get("event") == name):
            out.append(item)
    return out


class Process:
    """A ``python -m app ...`` process with its stderr/stdout in a log file (JSON lines)."""

    def __init__(self, args: list[str], env: dict, log: Path):
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "app", *args], cwd=ROOT, env=env,
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)

    def events(self, name: str | None = None) -> list[dict]:
        return read_events(self.log, name)

    def wait_for(self, name: str, count: int = 1, timeout: float = 120, **match) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.events(name) if all(e.get(k) == v for k, v in match.items())]
            if len(found) >= count:
                return found
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"no {count} {name} event(s) (exit {self.proc.poll()}):\n{self.log.read_text()}")
            time.sleep(0.1)

    def kill_box(self) -> None:
        """SIGKILL to the whole process group: the supervisor and its workers, no goodbye."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)


class Clinic:
    """One clinic's database, homes and processes; ``pg`` and ``s3_url`` may be shared between clinics."""

    def __init__(self, root: Path, pg: PostgresServer, s3_url: str, *, lease: float = 60.0):
        from app.core.config import Settings

        self.root, self.pg, self.s3_url = Path(root), pg, s3_url
        self.root.mkdir(parents=True, exist_ok=True)
        self.db_url = pg.create_database()
        self.settings = Settings(job_store_url=self.db_url, s3_endpoint_url=s3_url, s3_region=REGION,
                                 default_input_bucket=MEDIA, default_output_bucket=OUT,
                                 worker_lease_seconds=lease)
        self.home = self.make_home("server-home")
        self.url = ""
        self.serve: Process | None = None
        self.boxes: list[Process] = []
        self.s3 = self.s3_client()
        for bucket in (MEDIA, OUT):
            try:
                self.s3.create_bucket(Bucket=bucket)
            except self.s3.exceptions.BucketAlreadyOwnedByYou:
                pass

    def make_home(self, name: str) -> Path:
        home = self.root / name
        home.mkdir()
        self.settings.save(home)
        return home

    def env(self, home: Path) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(S3_KEYS, AWS_EC2_METADATA_DISABLED="true", CLINSCRIBE_HOME=str(home), PYTHONPATH=str(ROOT),
                   **self.pg.environ())
        return env

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        """``clinscribe ARGS`` on the server's home, as the admin runs it there."""
        proc = subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                              env=self.env(self.home), cwd=ROOT, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc

    def add_user(self, name: str, admin: bool = False) -> dict:
        return json.loads(self.cli("server", "add-user", name, *(["--admin"] if admin else [])).stdout)

    def start_serve(self, workers: int, timeout: float = 180) -> Process:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.serve = Process(["serve", "--port", str(port), "--workers", str(workers)], self.env(self.home),
                             self.root / "serve.log")
        deadline = time.monotonic() + timeout
        while self.health() is None:
            assert self.serve.proc.poll() is None and time.monotonic() < deadline, self.serve.log.read_text()
            time.sleep(0.2)
        self.serve.wait_for("worker_ready", count=workers, timeout=max(1.0, deadline - time.monotonic()))
        return self.serve

    def start_box(self, workers: int = 1, *args: str) -> Process:
        """Another machine: ``clinscribe worker`` on a home of its own, same job store and S3 store."""
        home = self.make_home(f"box{len(self.boxes)}")
        box = Process(["worker", "--home", str(home), "--workers", str(workers), *args], self.env(home),
                      self.root / f"box{len(self.boxes)}.log")
        self.boxes.append(box)
        box.wait_for("worker_ready", count=workers)
        return box

    def health(self) -> dict | None:
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                return json.loads(r.read())
        except OSError:
            return None

    def transcribe_client(self, user: dict):
        import boto3
        from botocore.config import Config

        return boto3.client("transcribe", endpoint_url=self.url, region_name=REGION,
                            aws_access_key_id=user["AccessKeyId"], aws_secret_access_key=user["SecretAccessKey"],
                            config=Config(retries={"mode": "standard", "max_attempts": 2}))

    def s3_client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.s3_url, region_name=REGION,
                            aws_access_key_id=S3_KEYS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=S3_KEYS["AWS_SECRET_ACCESS_KEY"])

    def jobs(self):
        """The job store itself (what a worker sees): attempts, worker ids. This process's PGPASSWORD
        must be ``pg``'s (the caller sets it: pg.environ())."""
        from app.store.pgjobstore import PgJobStore

        return PgJobStore(self.db_url, max_connections=1)

    def upload(self, path: Path, key: str) -> str:
        self.s3.upload_file(str(path), MEDIA, key)
        return f"s3://{MEDIA}/{key}"

    def close(self) -> None:
        for p in [*self.boxes, *([self.serve] if self.serve else [])]:
            p.kill_box()
        self.boxes, self.serve = [], None


def job_params(name: str, uri: str) -> dict:
    return {"MedicalTranscriptionJobName": name, "LanguageCode": "en-US", "Media": {"MediaFileUri": uri},
            "OutputBucketName": OUT, "Specialty": "PRIMARYCARE", "Type": "DICTATION"}


def wait_done(client, name: str, timeout: float = 300, poll: float = 0.2) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get_medical_transcription_job(MedicalTranscriptionJobName=name)["MedicalTranscriptionJob"]
        if job["TranscriptionJobStatus"] in ("COMPLETED", "FAILED"):
            return job
        assert time.monotonic() < deadline, f"{name} still {job['TranscriptionJobStatus']}"
        time.sleep(poll)


def transcript_text(s3, uri: str) -> dict:
    """The transcript JSON at a TranscriptFileUri (path style on the clinic's store), with a plain S3 client."""
    base = s3.meta.endpoint_url.rstrip("/") + "/"
    assert uri.startswith(base), uri
    bucket, _, key = uri[len(base):].partition("/")
    from urllib.parse import unquote

    return json.loads(s3.get_object(Bucket=bucket, Key=unquote(key))["Body"].read())
