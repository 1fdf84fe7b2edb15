"""The watchdog: end a worker that has stopped making progress, so the queue goes on.

Whoever reconciles the queue (every engine call) runs :func:`check`. A worker whose
last progress beat is older than the stall limit is ended (SIGKILL works on a stopped
process; TerminateProcess on Windows) after checking that the PID really is this home's
worker: same process start time as it registered, and ``_worker --home <home>`` on its
command line. A reused PID is never killed. The stall limit is ``stall_seconds`` for a
recording of up to 20 minutes and grows with longer ones (diarization of an hour of
audio runs minutes without a beat).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import psutil

from ..store.workerstore import WorkerRecord, WorkerStore, clock

log = logging.getLogger("clinscribe.watchdog")

DEFAULT_STALL_SECONDS = 300.0
STALL_ENV = "CLINSCRIBE_STALL_SECONDS"


def stall_seconds(setting: float | None = None) -> float:
    """The configured stall time: $CLINSCRIBE_STALL_SECONDS, else the setting, else 5 minutes."""
    env = os.environ.get(STALL_ENV)
    if env:
        try:
            return max(0.5, float(env))
        except ValueError:
            pass
    return float(setting) if setting else DEFAULT_STALL_SECONDS


def stall_limit(base: float, job_duration: float) -> float:
    return base * max(1.0, job_duration / 1200.0)


def our_worker(rec: WorkerRecord, home: Path) -> psutil.Process | None:
    """The registered worker's process, or None when that PID is gone or is someone else now."""
    try:
        proc = psutil.Process(rec.pid)
        if abs(proc.create_time() - rec.started) > 0.01:
            return None  # the PID was reused
        cmd = proc.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None
    return proc if "_worker" in cmd and str(home) in cmd else None


def kill(proc: psutil.Process) -> None:
    """SIGKILL (TerminateProcess on Windows), and wait for it to go: its lock goes with it."""
    import time

    try:
        proc.kill()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return  # dead, its locks gone; its parent (maybe another engine) reaps it
            try:
                proc.wait(0.1)
                return
            except psutil.TimeoutExpired:
                pass
    except psutil.NoSuchProcess:
        pass


def stalled(workers: WorkerStore, home: Path, base: float) -> tuple[WorkerRecord, psutil.Process] | None:
    """The registered worker if it has made no progress for its stall limit (and really is ours)."""
    rec = workers.current()
    if rec is None or clock() - rec.heartbeat < stall_limit(base, rec.job_duration):
        return None
    proc = our_worker(rec, home)
    if proc is None:
        workers.retire(rec)  # gone or not ours: forget it, never kill it
        return None
    return rec, proc


def end_worker(workers: WorkerStore, rec: WorkerRecord, proc: psutil.Process) -> bool:
    """Kill the worker ``rec``; True for the one caller that retires it (reconcilers may race).

    It is killed first: a stopped worker may hold the database's write lock until it dies.
    """
    kill(proc)
    if not workers.retire(rec):
        return False
    log.warning("worker ended by the watchdog (job #%s)", rec.job_seq)
    return True


STALLED = ("Internal failure: the transcription process stopped making progress on this job "
           "and was ended. Try your request again.")


def _job(store, seq: int | None):
    return next((j for j in store.active() if j.seq == seq), None) if seq is not None else None


def _job_of(store, rec: WorkerRecord):
    """The job the worker ``rec`` runs. One that stopped after claiming a job and before its first
    beat names none yet: the home's one worker runs the one IN_PROGRESS job, so that one is its."""
    if rec.job_seq is not None:
        return _job(store, rec.job_seq)
    running = [j for j in store.active() if j.status == "IN_PROGRESS"]
    return running[0] if len(running) == 1 else None


def enforce(store, workers: WorkerStore, home: Path, base: float, *, max_attempts: int, cancelled: str) -> None:
    """End a stalled worker; its job is resumed (attempts counted) or FAILED, and the reason noted."""
    found = stalled(workers, home, base)
    if found is None:
        return
    rec, proc = found
    job = _job_of(store, rec)
    limit = stall_limit(base, rec.job_duration)
    if not end_worker(workers, rec, proc) or job is None or job.status != "IN_PROGRESS":
        return
    stall = f"Job {job.name} stalled: no progress for {limit:.0f} s"
    if job.cancel_requested:
        store.finish(job.seq, failure_reason=cancelled)
        workers.add_notice(job.seq, f"{stall}; its worker was ended and the job cancelled.")
    elif job.attempts >= max_attempts:
        store.finish(job.seq, failure_reason=STALLED)
        workers.add_notice(job.seq, f"{stall}; its worker was ended and the job FAILED "
                                    f"(attempt {job.attempts} of {max_attempts}).")
    else:
        workers.add_notice(job.seq, f"{stall}; its worker was replaced and the job restarts "
                                    f"(attempt {job.attempts + 1} of {max_attempts}).")


def stop_cancelled(store, workers: WorkerStore, home: Path, seq: int, cancelled: str) -> None:
    """A cancelled job its worker did not give up: FAILED now, and that worker ended (it is hung)."""
    job = _job(store, seq)
    if job is None or job.status != "IN_PROGRESS":
        return  # it finished or was cancelled meanwhile
    store.finish(seq, failure_reason=cancelled)
    rec = workers.current()
    if rec is not None and rec.job_seq == seq:
        proc = our_worker(rec, home)
        if proc is not None:
            end_worker(workers, rec, proc)


LOCK_PATIENCE = 3.0  # a healthy worker holds the database's write lock for milliseconds


def request_cancel(store, workers: WorkerStore, home: Path, seq: int, cancelled: str) -> str:
    """Flag (or fail, when QUEUED) job ``seq``; a worker that holds the database locked is ended first."""
    import sqlite3

    try:
        return store.request_cancel(seq, cancelled, timeout=LOCK_PATIENCE)
    except sqlite3.OperationalError:
        rec = workers.current()  # reading still works: only writers are locked out
        proc = our_worker(rec, home) if rec is not None else None
        if proc is None:
            raise
        end_worker(workers, rec, proc)  # stopped or hung in the middle of a write
        return store.request_cancel(seq, cancelled)
