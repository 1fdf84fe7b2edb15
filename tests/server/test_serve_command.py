"""``clinscribe serve`` as an admin runs it: HTTPS with the server's certificate, SIGTERM stops it;
and the job store's owner/media_duration columns added to an older database."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import boto3

from helpers import ROOT


def _self_signed(folder):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .sign(key, hashes.SHA256()))
    certfile, keyfile = folder / "cert.pem", folder / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return certfile, keyfile


def test_serve_over_tls_and_stop_on_sigterm(tmp_path):
    home = tmp_path / "home"
    env = dict(os.environ, CLINSCRIBE_HOME=str(home), PYTHONPATH=str(ROOT))
    run = lambda *a: subprocess.run([sys.executable, "-m", "app", *a], env=env, capture_output=True,  # noqa: E731
                                    text=True, timeout=120, cwd=ROOT)
    user = json.loads(run("server", "add-user", "ward-3").stdout)
    certfile, keyfile = _self_signed(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port), "--certfile", str(certfile),
                             "--keyfile", str(keyfile)], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        client = boto3.client("transcribe", endpoint_url=f"https://127.0.0.1:{port}", region_name="eu-west-1",
                              verify=str(certfile), aws_access_key_id=user["AccessKeyId"],
                              aws_secret_access_key=user["SecretAccessKey"])
        deadline = time.monotonic() + 60
        while True:
            try:
                listed = client.list_medical_transcription_jobs()
                break
            except Exception:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr and proc.stderr.read()
                time.sleep(0.3)
        assert listed["MedicalTranscriptionJobSummaries"] == []
        client.close()
    finally:
        stopping = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    # uvicorn finishes the requests in flight, then ends by the signal it got (what systemd expects)
    assert proc.returncode in (0, -signal.SIGTERM), err
    print("stop took", time.monotonic() - stopping)
    events = [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")]
    assert events[0] == "start" and "request" in events and events[-1] == "stop"


def test_an_older_job_database_gains_the_owner_and_duration_columns(tmp_path):
    from app.store.jobstore import JobStore
    from app.store.recovery import open_job_store

    home = tmp_path / "home"
    home.mkdir()
    db = sqlite3.connect(home / "jobs.db")
    db.executescript("""CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,
        request TEXT NOT NULL, options TEXT NOT NULL DEFAULT '{}', status TEXT NOT NULL, creation_time REAL NOT NULL,
        start_time REAL, completion_time REAL, failure_reason TEXT, media_format TEXT, media_sample_rate INTEGER,
        transcript_uri TEXT, progress REAL NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
        cancel_requested INTEGER NOT NULL DEFAULT 0);
        INSERT INTO jobs (name, request, status, creation_time) VALUES ('old-job', '{}', 'COMPLETED', 1.0);
        PRAGMA user_version = 1;""")
    db.close()
    store, notice = open_job_store(home, tmp_path / "buckets")
    assert notice is None  # migrated in place, not set aside as damaged
    assert store.get("old-job").owner is None and store.get("old-job").media_duration is None
    store.insert("new-job", {"x": 1}, {}, owner="alice")
    store.update(store.get("new-job").seq, media_duration=11.0)
    assert [r.name for r in store.list(owner="alice")] == ["new-job"]
    assert [r.name for r in store.list(limit=10)] == ["new-job", "old-job"]
    assert store.get("new-job").media_duration == 11.0
    assert JobStore(home / "jobs.db").get("old-job").status == "COMPLETED"
