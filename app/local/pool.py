"""Pool workers for the PostgreSQL job store: ``clinscribe worker [--workers N]`` on any machine.

Each worker is a process of its own (a native crash ends one job, not the pool) that loads the
model once, then loops: claim the oldest QUEUED job (``SKIP LOCKED``), run it with
:func:`app.local.worker.run_job` (the same code as the single-box worker, through :class:`Held`,
which makes every change conditional on this worker still holding the job), and repeat.

Liveness is a lease: a heartbeat thread renews it every quarter lease on PostgreSQL's clock, so a
box that dies (power, SIGKILL, network) has its job re-queued by any other worker after the lease.
A thread is right here because the lease is about the process being alive; progress is checked
too: the thread stops renewing and ends the process when the job has made no progress (the
main thread's beats) for the watchdog's stall limit, so a hung decoder cannot hold a job forever.

SIGTERM/SIGINT: stop claiming, let the running job finish for ``grace`` seconds, else give it
back QUEUED (the attempt not counted) and exit. Logs are JSON lines of job numbers, worker ids and
timings, never names, paths or text.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import multiprocessing
import os
import secrets
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("clinscribe.pool")


def event(name: str, level: int = logging.INFO, **fields) -> None:
    log.log(level, name, extra={"fields": fields})


class JsonLines(logging.Formatter):
    """One JSON object a line: ts, level, logger, event, and the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
               "level": record.levelname.lower(), "logger": record.name, "event": record.getMessage(),
               **getattr(record, "fields", {})}
        if record.exc_info:  # the type only: a message may quote PHI
            out["error"] = record.exc_info[0].__name__
        return json.dumps(out)


def setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass
class PoolConfig:
    home: str
    url: str
    lease: float = 60.0          # a worker silent this long loses its job to the others
    grace: float = 60.0          # at shutdown: how long the running job may still take
    model: str | None = None     # None: each job's model (resolved on this machine)
    device: str = "auto"         # auto: CUDA float16 (batched) when a GPU is present, else CPU int8
    compute_type: str = "auto"
    stall_seconds: float = 300.0
    poll: float = 0.5            # idle: seconds between claims

    @classmethod
    def from_home(cls, home: Path, **overrides) -> "PoolConfig":
        from ..core.config import Settings
        from ..store.pgjobstore import check_url
        from .watchdog import stall_seconds

        settings = Settings.load(Path(home))
        if not settings.job_store_url:
            raise ValueError("No PostgreSQL job store is configured: set one with "
                             "'clinscribe settings --job-store-url postgresql://user@host/db'.")
        cfg = cls(home=str(home), url=check_url(settings.job_store_url), lease=settings.worker_lease_seconds,
                  device=settings.device, compute_type=settings.compute_type, model=None,
                  stall_seconds=stall_seconds(settings.worker_stall_seconds))
        return dataclasses.replace(cfg, **{k: v for k, v in overrides.items() if v is not None})


class Held:
    """The store as :func:`~app.local.worker.run_job` sees it: changes only while ``worker_id`` holds the job."""

    def __init__(self, store, worker_id: str, home: Path):
        self.store, self.worker_id, self.path = store, worker_id, Path(home) / "jobs.db"

    def update(self, seq: int, **values) -> bool:
        return self.store.update(seq, worker_id=self.worker_id, **values)

    def finish(self, seq: int, **kwargs) -> bool:
        return self.store.finish(seq, worker_id=self.worker_id, **kwargs)

    def cancel_requested(self, seq: int) -> bool:
        return self.store.cancel_requested(seq)

    def holds(self, seq: int) -> bool:
        """Still this worker's job (checked before its transcript is written)."""
        return self.store.heartbeat(seq, self.worker_id)


class Runner:
    """One worker process: claim, run, beat; stop gracefully on request."""

    def __init__(self, cfg: PoolConfig, worker_id: str):
        from ..store.pgjobstore import PgJobStore

        self.cfg, self.worker_id = cfg, worker_id
        self.store = PgJobStore(cfg.url, max_connections=3)
        self.job = None
        self.last_progress = time.monotonic()
        self.job_duration = 0.0
        self.stop_deadline: float | None = None
        self.wake = threading.Event()

    # -- stopping ----------------------------------------------------------------
    def request_stop(self) -> None:
        if self.stop_deadline is None:
            self.stop_deadline = time.monotonic() + self.cfg.grace
            event("worker_stopping", worker=self.worker_id, job=self.job.seq if self.job else None,
                  grace_s=self.cfg.grace)
        self.wake.set()

    def _exit(self, code: int) -> None:
        logging.shutdown()
        os._exit(code)

    # -- the heartbeat thread ---------------------------------------------------
    def _heartbeats(self) -> None:
        from .watchdog import stall_limit

        interval = max(0.2, self.cfg.lease / 4)
        while True:
            self.wake.wait(interval)
            if self.stop_deadline is not None:
                self.wake.clear()
            job = self.job
            if job is None:
                continue
            try:
                if self.stop_deadline is not None and time.monotonic() >= self.stop_deadline:
                    given = self.store.release(job.seq, self.worker_id)
                    event("job_released", worker=self.worker_id, job=job.seq,
                          status=given[0][1] if given else None)
                    self._exit(0)
                if time.monotonic() - self.last_progress > stall_limit(self.cfg.stall_seconds, self.job_duration):
                    changed = self.store.requeue_dead(worker_id=self.worker_id)  # this attempt counted
                    event("job_stalled", logging.ERROR, worker=self.worker_id, job=job.seq,
                          status=changed[0][1] if changed else None)
                    self._exit(75)
                if not self.store.heartbeat(job.seq, self.worker_id) and self.job is job:
                    rec = self.store.get_seq(job.seq)
                    if rec is None or rec.worker_id != self.worker_id or rec.status == "QUEUED":
                        event("lease_lost", logging.WARNING, worker=self.worker_id, job=job.seq)
                        self._exit(0)  # another worker has it now; nothing this process does can count
            except Exception as exc:  # the database away for a moment: the lease decides
                event("heartbeat_failed", logging.WARNING, worker=self.worker_id, error=type(exc).__name__)

    # -- the main thread ----------------------------------------------------------
    def beat(self, idle: bool = False, **values) -> None:
        """Progress from run_job (between stages and on each decoded batch)."""
        self.last_progress = time.monotonic()
        duration = values.get("job_duration")
        if duration and self.job is not None:
            self.job_duration = float(duration)
            self.store.update(self.job.seq, worker_id=self.worker_id, media_duration=float(duration))

    def _model(self, spec: str | None) -> tuple[str, str, str]:
        from . import asr

        path = str(asr.resolve_model(spec, Path(self.cfg.home)))
        return path, self.cfg.device, self.cfg.compute_type

    def _localize(self, options: dict) -> dict:
        """The job's options with this machine's model folder and device (the submitter's may differ)."""
        from .asr import ModelError

        out = dict(options)
        try:
            out["model_path"], out["device"], out["compute_type"] = self._model(self.cfg.model or options.get("model"))
        except ModelError:
            pass  # the submitter's path; run_job fails the job cleanly when it cannot be loaded
        return out

    def preload(self) -> None:
        from . import asr

        started = time.monotonic()
        path, device, compute = self._model(self.cfg.model)
        asr.load_model(path, device, compute)
        device, compute = asr.pick_device(device, compute)
        event("worker_ready", worker=self.worker_id, device=device, compute_type=compute,
              load_s=round(time.monotonic() - started, 3))

    def run_one(self, job) -> None:
        from .worker import run_job

        started = time.monotonic()
        event("job_claimed", worker=self.worker_id, job=job.seq, attempt=job.attempts)
        self.job_duration, self.last_progress = 0.0, time.monotonic()
        self.job = job
        try:
            run_job(Held(self.store, self.worker_id, Path(self.cfg.home)),
                    dataclasses.replace(job, options=self._localize(job.options)), self.beat)
        finally:
            self.job = None
        wall = time.monotonic() - started
        rec = self.store.get_seq(job.seq)
        held = rec is not None and rec.worker_id == self.worker_id
        event("job_finished" if held else "job_lost", worker=self.worker_id, job=job.seq,
              status=rec.status if held else None, attempt=job.attempts, wall_s=round(wall, 3),
              audio_s=round(self.job_duration, 3),
              rtf=round(wall / self.job_duration, 4) if self.job_duration else None)

    def serve(self) -> int:
        from ..engine.local import MAX_ATTEMPTS

        threading.Thread(target=self._heartbeats, name="heartbeat", daemon=True).start()
        self.preload()
        next_reap = 0.0
        while self.stop_deadline is None:
            try:
                if time.monotonic() >= next_reap:  # any worker re-queues the jobs of dead ones
                    next_reap = time.monotonic() + max(0.5, self.cfg.lease / 2)
                    for seq, status in self.store.requeue_dead(self.cfg.lease, MAX_ATTEMPTS):
                        event("job_requeued", logging.WARNING, worker=self.worker_id, job=seq, status=status)
                job = self.store.claim_next(self.worker_id, self.cfg.lease)
            except Exception as exc:
                event("store_unavailable", logging.WARNING, worker=self.worker_id, error=type(exc).__name__)
                self.wake.wait(max(1.0, self.cfg.poll))
                continue
            if job is None:
                self.wake.wait(self.cfg.poll)
                continue
            self.run_one(job)
        event("worker_stopped", worker=self.worker_id)
        return 0


def _stop_signals() -> tuple[int, ...]:
    return tuple(s for s in (getattr(signal, "SIGTERM", None), signal.SIGINT) if s is not None)


def _child(cfg: PoolConfig, worker_id: str) -> None:
    """A worker process (multiprocessing's spawn target)."""
    from ..core.privacy import restrict_new_files

    restrict_new_files()
    setup_logging()
    sigs = _stop_signals()
    if hasattr(signal, "pthread_sigmask"):
        # every thread blocks them; one waits for them: handled at once, even inside native decoding
        signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        runner = Runner(cfg, worker_id)
    except Exception as exc:
        event("worker_failed", logging.ERROR, worker=worker_id, error=type(exc).__name__,
              reason=" ".join(str(exc).split()) if isinstance(exc, (ValueError, ConnectionError)) else None)
        sys.exit(3)
    if hasattr(signal, "sigwait"):
        def waiter():
            while True:
                signal.sigwait(sigs)
                runner.request_stop()

        threading.Thread(target=waiter, name="signals", daemon=True).start()
    else:
        for sig in sigs:
            signal.signal(sig, lambda *_: runner.request_stop())
    sys.exit(runner.serve())


class Pool:
    """N worker processes on this machine, restarted when one dies; :meth:`stop` ends them gracefully."""

    def __init__(self, cfg: PoolConfig, n: int):
        self.cfg, self.n = cfg, max(1, int(n))
        self._ctx = multiprocessing.get_context("spawn")
        self._slots: list[dict] = []
        self._stopping = threading.Event()
        self._store = None
        for _ in range(self.n):
            self._slots.append(self._spawn())
        self._monitor = threading.Thread(target=self._watch, name="pool-monitor", daemon=True)
        self._monitor.start()

    def _spawn(self, failures: int = 0) -> dict:
        wid = new_worker_id()
        proc = self._ctx.Process(target=_child, args=(self.cfg, wid), name=f"clinscribe-worker-{wid}")
        proc.start()
        return {"proc": proc, "id": wid, "started": time.monotonic(), "failures": failures}

    @property
    def worker_ids(self) -> list[str]:
        return [slot["id"] for slot in self._slots]

    def _jobs(self):
        if self._store is None:
            from ..store.pgjobstore import PgJobStore

            self._store = PgJobStore(self.cfg.url, max_connections=1)
        return self._store

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            for i, slot in enumerate(self._slots):
                proc = slot["proc"]
                if proc.is_alive() or self._stopping.is_set():
                    continue
                lived = time.monotonic() - slot["started"]
                event("worker_exited", logging.WARNING, worker=slot["id"], code=proc.exitcode,
                      lived_s=round(lived, 1))
                try:  # its job (a native crash): re-queued now, the attempt counted, not after the lease
                    for seq, status in self._jobs().requeue_dead(worker_id=slot["id"]):
                        event("job_requeued", logging.WARNING, worker=slot["id"], job=seq, status=status)
                except Exception as exc:
                    event("store_unavailable", logging.WARNING, error=type(exc).__name__)
                failures = slot["failures"] + 1 if lived < 30 and proc.exitcode else 0
                if failures and self._stopping.wait(min(60.0, 2.0 ** failures)):
                    return  # a worker that cannot start (database away, bad model): back off
                self._slots[i] = self._spawn(failures)

    def stop(self, grace: float | None = None) -> None:
        """SIGTERM to every worker; each finishes its job within the grace or gives it back."""
        self._stopping.set()
        grace = self.cfg.grace if grace is None else grace
        for slot in self._slots:
            if slot["proc"].is_alive() and slot["proc"].pid:
                os.kill(slot["proc"].pid, signal.SIGTERM)
        deadline = time.monotonic() + grace + 15
        for slot in self._slots:
            slot["proc"].join(max(0.0, deadline - time.monotonic()))
            if slot["proc"].is_alive():  # stuck past the grace: killed; its job goes back uncounted
                slot["proc"].kill()
                slot["proc"].join(5)
                try:
                    self._jobs().release(None, slot["id"])
                except Exception as exc:
                    event("store_unavailable", logging.WARNING, error=type(exc).__name__)
        if self._store is not None:
            self._store.close()
        event("pool_stopped", workers=len(self._slots))


def start_pool(home: Path, n: int, **overrides) -> Pool:
    """N workers for ``home``'s PostgreSQL job store (``clinscribe serve`` may run them in-process)."""
    return Pool(PoolConfig.from_home(Path(home), **overrides), n)


def cmd_worker(args) -> int:
    from ..core.config import home as default_home

    setup_logging()
    base = Path(args.home).expanduser() if args.home else default_home()
    pool = start_pool(base, args.workers, grace=args.grace_seconds, lease=args.lease_seconds,
                      model=args.model, device=args.device, compute_type=args.compute_type)
    event("pool_started", workers=pool.n, worker_ids=pool.worker_ids)
    stop = threading.Event()
    for sig in _stop_signals():
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
    pool.stop()
    return 0


def register(sub) -> None:
    """``clinscribe worker``: the top-level command (app/cli.py calls this)."""
    p = sub.add_parser("worker", help="run transcription workers for the PostgreSQL job store (job_store_url)")
    p.add_argument("--workers", type=int, default=1, help="worker processes on this machine (default 1)")
    p.add_argument("--home", help="ClinScribe home whose settings name the job store (default: the usual home)")
    p.add_argument("--grace-seconds", type=float, default=60.0,
                   help="at SIGTERM/Ctrl-C: time the running job may take before it is re-queued (default 60)")
    p.add_argument("--lease-seconds", type=float, help="heartbeat lease (default: the worker_lease_seconds setting)")
    p.add_argument("--model", help="speech model for every job (default: each job's)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), help="default: the settings' (auto: CUDA if present)")
    p.add_argument("--compute-type", help="CTranslate2 compute type (default: float16 on CUDA, int8 on CPU)")
    p.set_defaults(func=cmd_worker)
