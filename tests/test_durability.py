"""Jobs survive the worker dying: resumed once, then failed cleanly; never left IN_PROGRESS."""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest

from app.engine.local import WORKER_DIED, LocalEngine
from helpers import DATA, job_request

CONSULTATION = DATA / "consultations" / "day1_consultation01.flac"


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory):
    """Two minutes of a real consultation: long enough to kill the worker mid-job."""
    import soundfile

    data, rate = soundfile.read(CONSULTATION)
    data = data[: 120 * rate]
    path = tmp_path_factory.mktemp("long") / "consultation-2min.wav"
    soundfile.write(path, data, rate)
    return path


def worker_of(home):
    for proc in psutil.process_iter(["cmdline"]):
        cmd = proc.info["cmdline"] or []
        if "_worker" in cmd and str(home) in cmd:
            return proc
    return None


def kill_worker_mid_job(engine, name, sig, after_attempts=0):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rec = engine.store.get(name)
        proc = worker_of(engine.home)
        if rec.status == "IN_PROGRESS" and rec.attempts > after_attempts and proc is not None:
            attempts = rec.attempts
            os.kill(proc.pid, sig)
            proc.wait(10)
            return attempts
        time.sleep(0.05)
    pytest.fail("the job never started")


def test_a_crashed_worker_is_replaced_and_the_job_resumed(home, long_wav):
    engine = LocalEngine(base=home)
    uri = engine.put_media(long_wav)
    engine.start_medical_transcription_job(**job_request("resume-me", uri, Type="CONVERSATION"))
    assert kill_worker_mid_job(engine, "resume-me", signal.SIGSEGV) == 1  # as a native crash would
    # the app (here a new engine, as after a restart) notices and resumes the job once
    job = LocalEngine(base=home).wait("resume-me", poll=0.3, timeout=300)
    assert job["TranscriptionJobStatus"] == "COMPLETED"
    assert engine.store.get("resume-me").attempts == 2
    words = engine.get_transcript("resume-me")["results"]["items"]
    assert len(words) > 150


def test_a_job_that_keeps_crashing_fails_cleanly_and_the_queue_goes_on(home, long_wav):
    engine = LocalEngine(base=home)
    uri = engine.put_media(long_wav)
    engine.start_medical_transcription_job(**job_request("crashes", uri))
    short = engine.put_media(DATA / "audio" / "jfk.flac")
    engine.start_medical_transcription_job(**job_request("after-crash", short))
    kill_worker_mid_job(engine, "crashes", signal.SIGKILL)
    engine.reconcile()
    assert kill_worker_mid_job(engine, "crashes", signal.SIGKILL, after_attempts=1) == 2
    job = engine.wait("crashes", poll=0.2, timeout=60)
    assert job["TranscriptionJobStatus"] == "FAILED"
    assert job["FailureReason"] == WORKER_DIED
    assert engine.wait("after-crash", poll=0.2, timeout=120)["TranscriptionJobStatus"] == "COMPLETED"


def test_opening_the_job_store_never_waits_on_a_writer(tmp_path):
    """A worker stopped (SIGSTOP) in the middle of a write holds jobs.db's write lock: opening the
    store again (every CLI command does) must not need it, so cancel and list still answer."""
    import sqlite3
    import time

    from app.store.jobstore import JobStore
    from app.store.workerstore import WorkerStore

    path = tmp_path / "jobs.db"
    JobStore(path).insert("a", {"x": 1}, {})
    WorkerStore(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")          # the stopped writer
    try:
        started = time.monotonic()
        store = JobStore(path)
        WorkerStore(path)
        assert store.get("a").name == "a"
        assert time.monotonic() - started < 2  # not the 30 s busy timeout
    finally:
        holder.execute("ROLLBACK")
        holder.close()
