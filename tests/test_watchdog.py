"""A stopped or hung worker no longer stalls the queue: the watchdog ends it and the queue goes on.

Real workers on real audio; a worker is "hung" by SIGSTOP (it beats nothing). The stall
time is a few seconds here (CLINSCRIBE_STALL_SECONDS).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import psutil
import pytest

from app.engine.local import LocalEngine
from app.local.watchdog import STALLED
from app.store.workerstore import WorkerStore, clock
from helpers import DATA, ROOT, job_request

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="needs SIGSTOP")

CONSULTATION = DATA / "consultations" / "day1_consultation01.flac"
JFK = DATA / "audio" / "jfk.flac"
STALL = "12"  # above the longest gap between beats of a healthy job on a busy 2-core machine


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory):
    """Two minutes of a real consultation: long enough to stop the worker mid-job."""
    import soundfile

    data, rate = soundfile.read(CONSULTATION)
    path = tmp_path_factory.mktemp("long") / "consultation-2min.wav"
    soundfile.write(path, data[: 120 * rate], rate)
    return path


@pytest.fixture()
def short_stall(monkeypatch):
    monkeypatch.setenv("CLINSCRIBE_STALL_SECONDS", STALL)


def worker_of(home):
    for proc in psutil.process_iter(["cmdline"]):
        cmd = proc.info["cmdline"] or []
        if "_worker" in cmd and str(home) in cmd and proc.status() != psutil.STATUS_ZOMBIE:
            return proc
    return None


def stop_worker_mid_job(store, home, name, after_attempts=0) -> psutil.Process:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rec = store.get(name)
        proc = worker_of(home)
        if rec.status == "IN_PROGRESS" and rec.attempts > after_attempts and proc is not None:
            proc.send_signal(signal.SIGSTOP)
            return proc
        time.sleep(0.05)
    pytest.fail("the job never started")


def gone(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_stopped_worker_is_replaced_and_the_job_completes(home, long_wav, short_stall):
    engine = LocalEngine(base=home)
    engine.start_medical_transcription_job(**job_request("stopped", engine.put_media(long_wav)))
    stopped = stop_worker_mid_job(engine.store, home, "stopped")
    notices: list[str] = []
    started = time.monotonic()
    job = engine.wait("stopped", poll=0.3, timeout=240, on_notice=notices.append)
    assert job["TranscriptionJobStatus"] == "COMPLETED"
    assert engine.store.get("stopped").attempts == 2
    assert gone(stopped)
    assert len(engine.get_transcript("stopped")["results"]["items"]) > 150
    assert notices == [f"Job stopped stalled: no progress for {STALL} s; its worker was replaced "
                       "and the job restarts (attempt 2 of 2)."]
    assert time.monotonic() - started < 200


def test_a_job_that_keeps_stalling_fails_cleanly_and_the_queue_goes_on(home, long_wav, short_stall):
    engine = LocalEngine(base=home)
    engine.start_medical_transcription_job(**job_request("stalls", engine.put_media(long_wav)))
    engine.start_medical_transcription_job(**job_request("next", engine.put_media(JFK)))
    first = stop_worker_mid_job(engine.store, home, "stalls")
    deadline = time.monotonic() + 60
    while engine.store.get("stalls").attempts < 2 and time.monotonic() < deadline:
        engine.reconcile()  # as the app's polling does
        time.sleep(0.3)
    second = stop_worker_mid_job(engine.store, home, "stalls", after_attempts=1)
    assert second.pid != first.pid
    job = engine.wait("stalls", poll=0.3, timeout=60)
    assert job["TranscriptionJobStatus"] == "FAILED" and job["FailureReason"] == STALLED
    assert gone(first) and gone(second)
    assert engine.wait("next", poll=0.3, timeout=120)["TranscriptionJobStatus"] == "COMPLETED"


def test_a_worker_stopped_after_claiming_a_job_before_its_first_beat_is_charged_with_it(home, monkeypatch):
    # claim_next() marks the job IN_PROGRESS; the worker's first beat names it a moment later.
    # Stopped in between, the worker's record names no job: the stall is still that job's.
    monkeypatch.setenv("CLINSCRIBE_STALL_SECONDS", "0.5")
    engine = LocalEngine(base=home, spawn_worker=False)
    engine.start_medical_transcription_job(**job_request("claimed", engine.put_media(JFK)))
    stand_in = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "_worker",
                                 "--home", str(home)])
    try:
        proc = psutil.Process(stand_in.pid)
        engine.workers.register(proc.pid, proc.create_time())
        engine.store.claim_next()
        assert engine.store.claim_next().attempts == 2  # its second (last) attempt
        proc.send_signal(signal.SIGSTOP)
        time.sleep(1.0)
        engine.reconcile()
        job = engine.get_medical_transcription_job(MedicalTranscriptionJobName="claimed")["MedicalTranscriptionJob"]
        assert job["TranscriptionJobStatus"] == "FAILED" and job["FailureReason"] == STALLED
        deadline = time.monotonic() + 10
        while not gone(proc) and time.monotonic() < deadline:  # killed (the watchdog may have reaped it)
            time.sleep(0.1)
        assert gone(proc)
    finally:
        if stand_in.poll() is None:
            stand_in.kill()


def test_cancel_a_job_whose_worker_is_stopped(home, long_wav):
    # the default stall time (minutes): cancel must not wait for the watchdog
    engine = LocalEngine(base=home)
    engine.start_medical_transcription_job(**job_request("hung", engine.put_media(long_wav)))
    engine.start_medical_transcription_job(**job_request("queued", engine.put_media(JFK)))
    stopped = stop_worker_mid_job(engine.store, home, "hung")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "app", "cancel-medical-transcription-job",
                           "--medical-transcription-job-name", "hung"], capture_output=True, text=True,
                          env=dict(os.environ, CLINSCRIBE_HOME=str(home)), cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < 15
    job = engine.get_medical_transcription_job(MedicalTranscriptionJobName="hung")["MedicalTranscriptionJob"]
    assert job["TranscriptionJobStatus"] == "FAILED" and job["FailureReason"] == "Cancelled by the user."
    deadline = time.monotonic() + 10
    while not gone(stopped) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gone(stopped)
    assert engine.wait("queued", poll=0.3, timeout=120)["TranscriptionJobStatus"] == "COMPLETED"
    assert engine.store.get("queued").attempts == 1  # nothing else in the queue was disturbed


def test_wait_on_the_command_line_says_when_the_job_stalled(home, long_wav):
    engine = LocalEngine(base=home)
    uri = engine.put_media(long_wav)
    env = dict(os.environ, CLINSCRIBE_HOME=str(home), CLINSCRIBE_STALL_SECONDS=STALL)
    cli = subprocess.Popen(
        [sys.executable, "-m", "app", "start-medical-transcription-job", "--medical-transcription-job-name",
         "cli-stall", "--language-code", "en-US", "--media", f"MediaFileUri={uri}", "--output-bucket-name",
         "out-b", "--specialty", "PRIMARYCARE", "--type", "DICTATION", "--wait"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while engine.store.get("cli-stall") is None and time.monotonic() < deadline:
            time.sleep(0.05)
        stop_worker_mid_job(engine.store, home, "cli-stall")
        out, err = cli.communicate(timeout=240)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert cli.returncode == 0, err
    assert "Traceback" not in err
    stall_lines = [line for line in err.splitlines() if "stalled" in line]
    assert stall_lines == [f"clinscribe: Job cli-stall stalled: no progress for {STALL} s; its worker was "
                           "replaced and the job restarts (attempt 2 of 2)."]
    assert '"TranscriptionJobStatus": "COMPLETED"' in out


def test_the_watchdog_never_kills_a_process_that_is_not_our_worker(home, monkeypatch):
    monkeypatch.setenv("CLINSCRIBE_STALL_SECONDS", "1")
    engine = LocalEngine(base=home, spawn_worker=False)
    engine.start_medical_transcription_job(**job_request("waits", engine.put_media(JFK)))
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        workers = WorkerStore(home / "jobs.db")
        created = psutil.Process(other.pid).create_time()
        for started in (created, created - 100):  # a stranger; a reused PID of a worker that is gone
            workers.register(other.pid, started)
            with sqlite3.connect(home / "jobs.db") as db:
                db.execute("UPDATE workers SET heartbeat = ?", (clock() - 1000,))
            engine.reconcile()
            assert other.poll() is None
            assert workers.current() is None  # forgotten, not killed
        assert engine.store.get("waits").status == "IN_PROGRESS"
    finally:
        other.kill()
        other.wait()
