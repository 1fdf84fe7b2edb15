"""`clinscribe worker` processes on one real PostgreSQL, running real jobs (tiny.en, short clips).

Each worker is started as an admin would (its own home whose settings name the job store and the
shared storage folder); jobs are submitted through the local engine of another home, as a front end.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.core.config import Settings
from app.engine.local import LocalEngine
from app.store.jobstore import COMPLETED, QUEUED
from helpers import AUDIO, JFK_TEXT, ROOT, job_request, normalise
from servers.clinic import Process

LEASE = "2"


@pytest.fixture()
def cluster(pg_url, tmp_path):
    """A shared storage folder, a front end's engine, and a way to start workers."""
    shared = tmp_path / "shared-buckets"
    shared.mkdir()

    def make_home(name: str) -> Path:
        h = tmp_path / name
        h.mkdir()
        Settings(job_store_url=pg_url, storage_root=str(shared)).save(h)
        return h

    workers: list[Worker] = []

    class Cluster:
        engine = LocalEngine(base=make_home("frontend"))

        @staticmethod
        def worker(*args: str) -> "Worker":
            w = Worker(make_home(f"worker{len(workers)}"), tmp_path / f"worker{len(workers)}.log", *args)
            workers.append(w)
            return w

    yield Cluster
    for w in workers:
        w.kill_box()
    Cluster.engine.store.close()


class Worker(Process):
    """``clinscribe worker`` on a home of its own, with the pool tests' short lease."""

    def __init__(self, home: Path, log: Path, *args: str):
        super().__init__(["worker", "--home", str(home), "--lease-seconds", LEASE, *args],
                         dict(os.environ, PYTHONPATH=str(ROOT), CLINSCRIBE_HOME=str(home)), log)

    def wait_for(self, name: str, timeout: float = 90, **match) -> dict:
        """The latest ``name`` event that matches (the last of Process.wait_for's)."""
        return super().wait_for(name, timeout=timeout, **match)[-1]


def clip(tmp_path: Path, name: str, start: float, seconds: float, repeat: int = 1) -> Path:
    audio, rate = sf.read(AUDIO / "jfk.flac", dtype="float32")
    piece = audio[int(start * rate):int((start + seconds) * rate)]
    path = tmp_path / f"{name}.flac"
    sf.write(path, np.concatenate([piece] * repeat), rate)
    return path


def submit(cluster, tmp_path, name: str, **cut) -> str:
    uri = cluster.engine.put_media(clip(tmp_path, name, **cut))
    out = cluster.engine.start_medical_transcription_job(**job_request(name, uri))
    assert out["MedicalTranscriptionJob"]["TranscriptionJobStatus"] == QUEUED  # until a worker claims it
    return name


def wait_status(engine, name: str, status: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rec = engine.store.get(name)
        if rec.status == status:
            return rec
        assert rec.status not in ("COMPLETED", "FAILED"), (rec.status, rec.failure_reason)
        time.sleep(0.2)
    raise AssertionError(f"{name} is {engine.store.get(name).status} after {timeout} s")


def words(engine, name: str) -> list[str]:
    doc = engine.get_transcript(name)
    assert doc["jobName"] == name
    return normalise(doc["results"]["transcripts"][0]["transcript"]).split()


def test_two_workers_share_the_queue_and_never_run_a_job_twice(cluster, tmp_path):
    a, b = cluster.worker(), cluster.worker()
    ready = [a.wait_for("worker_ready"), b.wait_for("worker_ready")]
    assert {r["device"] for r in ready} == {"cpu"} and {r["compute_type"] for r in ready} == {"int8"}
    names = [submit(cluster, tmp_path, f"visit-{i}", start=(i * 1.6) % 8, seconds=3.0) for i in range(6)]
    recs = [wait_status(cluster.engine, n, COMPLETED) for n in names]
    claims = [e["job"] for w in (a, b) for e in w.events("job_claimed")]
    assert sorted(claims) == sorted(r.seq for r in recs)  # each job claimed once, by one worker
    assert all(r.attempts == 1 for r in recs)
    ids = {e["worker"] for e in ready}
    assert {r.worker_id for r in recs} <= ids and len({r.worker_id for r in recs}) == 2  # both worked
    finished = [e for w in (a, b) for e in w.events("job_finished")]
    assert sorted(e["job"] for e in finished) == sorted(claims) and {e["status"] for e in finished} == {COMPLETED}
    assert all(e["audio_s"] == pytest.approx(3.0, abs=0.05) and e["wall_s"] > 0 for e in finished)
    vocabulary = set(normalise(JFK_TEXT).split())
    for name in names:
        said = words(cluster.engine, name)
        assert said and sum(w in vocabulary for w in said) >= 0.6 * len(said), said
    # no PHI in the logs: neither job names nor paths
    for w in (a, b):
        text = w.log.read_text()
        assert "visit-" not in text and str(tmp_path) not in text


def test_a_killed_workers_job_is_finished_by_another_after_the_lease(cluster, tmp_path):
    a = cluster.worker()
    a.wait_for("worker_ready")
    name = submit(cluster, tmp_path, "long-visit", start=0, seconds=11, repeat=3)
    claim = a.wait_for("job_claimed")
    a.kill_box()  # SIGKILL mid-job: no goodbye, the heartbeat just stops
    assert cluster.engine.store.get(name).worker_id == claim["worker"]
    b = cluster.worker()
    rec = wait_status(cluster.engine, name, COMPLETED, timeout=180)
    assert rec.attempts == 2 and rec.worker_id == b.wait_for("worker_ready")["worker"]
    assert b.wait_for("job_requeued", job=rec.seq)["status"] == QUEUED
    assert " ".join(words(cluster.engine, name)).count("ask not what your country") == 3


def test_sigterm_lets_the_running_job_finish(cluster, tmp_path):
    a = cluster.worker("--grace-seconds", "60")
    a.wait_for("worker_ready")
    name = submit(cluster, tmp_path, "graceful", start=0, seconds=11, repeat=2)
    a.wait_for("job_claimed")
    a.proc.send_signal(signal.SIGTERM)
    assert a.proc.wait(120) == 0
    rec = cluster.engine.store.get(name)
    assert rec.status == COMPLETED and rec.attempts == 1
    order = [e["event"] for e in a.events() if e["event"] in ("worker_stopping", "job_finished", "worker_stopped")]
    assert order == ["worker_stopping", "job_finished", "worker_stopped"]


def test_sigterm_past_the_grace_gives_the_job_back_uncounted(cluster, tmp_path):
    a = cluster.worker("--grace-seconds", "0")
    a.wait_for("worker_ready")
    name = submit(cluster, tmp_path, "handed-back", start=0, seconds=11, repeat=3)
    a.wait_for("job_claimed")
    stopped = time.monotonic()
    a.proc.send_signal(signal.SIGTERM)
    assert a.proc.wait(30) == 0 and time.monotonic() - stopped < 15
    rec = cluster.engine.store.get(name)
    assert (rec.status, rec.attempts, rec.worker_id) == (QUEUED, 0, None)
    assert a.wait_for("job_released", job=rec.seq)["status"] == QUEUED
    b = cluster.worker()
    rec = wait_status(cluster.engine, name, COMPLETED, timeout=180)
    assert rec.attempts == 1 and rec.worker_id == b.wait_for("worker_ready")["worker"]


def test_a_paused_worker_that_comes_back_late_changes_nothing(cluster, tmp_path):
    a = cluster.worker()
    a.wait_for("worker_ready")
    name = submit(cluster, tmp_path, "zombie", start=0, seconds=11, repeat=3)
    claim = a.wait_for("job_claimed")
    os.killpg(a.proc.pid, signal.SIGSTOP)  # a frozen VM: alive, silent
    try:
        b = cluster.worker()
        done = wait_status(cluster.engine, name, COMPLETED, timeout=180)
        transcript = cluster.engine.transcript_path(name).read_bytes()
    finally:
        os.killpg(a.proc.pid, signal.SIGCONT)
    assert done.worker_id == b.wait_for("worker_ready")["worker"] and done.attempts == 2
    gone = a.wait_for("lease_lost", timeout=30, worker=claim["worker"])  # it notices and gives up
    assert gone["job"] == done.seq
    time.sleep(1)
    assert cluster.engine.store.get(name) == done
    assert cluster.engine.transcript_path(name).read_bytes() == transcript
    assert a.proc.poll() is None  # its supervisor started a fresh worker


def test_cancel_from_a_front_end_stops_the_job_on_the_worker_and_the_pool_goes_on(cluster, tmp_path):
    a = cluster.worker()
    a.wait_for("worker_ready")
    name = submit(cluster, tmp_path, "cancelled", start=0, seconds=11, repeat=3)
    claim = a.wait_for("job_claimed")
    asked = time.monotonic()
    cluster.engine.cancel_medical_transcription_job(MedicalTranscriptionJobName=name)
    job = cluster.engine.get_medical_transcription_job(MedicalTranscriptionJobName=name)["MedicalTranscriptionJob"]
    assert job["TranscriptionJobStatus"] == "FAILED" and job["FailureReason"] == "Cancelled by the user."
    assert time.monotonic() - asked < 5
    assert a.wait_for("worker_exited", worker=claim["worker"])["code"] == 0  # it stopped decoding
    later = submit(cluster, tmp_path, "after-cancel", start=0, seconds=3)
    rec = wait_status(cluster.engine, later, COMPLETED)
    assert rec.worker_id != claim["worker"] and rec.attempts == 1  # a fresh worker took the queue
    assert cluster.engine.store.get(name).failure_reason == "Cancelled by the user."
