"""Issue 15 benchmark: jobs through PostgreSQL to 1, 2, 4 `clinscribe worker` processes on this machine.

A real PostgreSQL (initdb in a temp folder, as tests/pg does), a front end's LocalEngine submitting
``--jobs`` short dictations (``--seconds`` of jfk.flac each) at once, and N worker processes
(each loads tiny.en once; timing starts when all are ready). Prints a table: jobs per minute,
p50/p95 submit-to-COMPLETED latency, and the claim/queue overhead (latency minus the workers' own
wall time per job), so the cost of the queue itself is visible beside the decoding.

    .venv/bin/python bench/pool_throughput.py [--workers 1 2 4] [--jobs 8] [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def run(server, n_workers: int, jobs: int, seconds: float, tmp: Path) -> dict:
    import soundfile as sf

    from app.core.config import Settings
    from app.engine.local import LocalEngine
    from helpers import AUDIO, job_request

    url = server.create_database(f"bench_{n_workers}_{int(time.time())}")
    base = tmp / f"w{n_workers}"
    shared = base / "buckets"
    shared.mkdir(parents=True)
    homes = []
    for name in ("frontend", "worker"):
        (base / name).mkdir()
        Settings(job_store_url=url, storage_root=str(shared)).save(base / name)
        homes.append(base / name)
    log = base / "worker.log"
    proc = subprocess.Popen([sys.executable, "-m", "app", "worker", "--home", str(homes[1]), "--workers",
                             str(n_workers)], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.DEVNULL, stderr=open(log, "wb"), start_new_session=True)
    try:
        events = lambda name: [e for e in map(json.loads, filter(lambda l: l.startswith("{"),  # noqa: E731
                               log.read_text().splitlines())) if e["event"] == name]
        while len(events("worker_ready")) < n_workers:
            time.sleep(0.2)
        engine = LocalEngine(base=homes[0])
        audio, rate = sf.read(AUDIO / "jfk.flac", dtype="float32")
        uris = []
        for i in range(jobs):
            start = (i * 1.3) % (len(audio) / rate - seconds)
            path = base / f"clip{i}.flac"
            sf.write(path, audio[int(start * rate):int((start + seconds) * rate)], rate)
            uris.append(engine.put_media(path))
        t0 = time.monotonic()
        submitted = {}
        for i, uri in enumerate(uris):
            name = f"bench-{i}"
            submitted[name] = time.monotonic()
            engine.start_medical_transcription_job(**job_request(name, uri))
        done: dict[str, float] = {}
        while len(done) < jobs:
            for rec in engine.store.list(limit=jobs + 1):
                if rec.status in ("COMPLETED", "FAILED") and rec.name not in done:
                    assert rec.status == "COMPLETED", rec.failure_reason
                    done[rec.name] = time.monotonic()
            time.sleep(0.05)
        total = time.monotonic() - t0
        latency = [done[n] - submitted[n] for n in submitted]
        walls = [e["wall_s"] for e in events("job_finished")]
        engine.store.close()
    finally:
        proc.terminate()
        proc.wait(60)
    return {"workers": n_workers, "jobs_per_min": jobs / total * 60, "p50": pct(latency, 0.5),
            "p95": pct(latency, 0.95), "wall": statistics.mean(walls)}


def main() -> int:
    from servers.postgres import PostgresServer  # the tests' PostgreSQL (initdb in a temp folder)

    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    server = PostgresServer().start()
    os.environ["PGPASSWORD"] = server.password
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in args.workers:
                rows.append(run(server, n, args.jobs, args.seconds, Path(tmp)))
    finally:
        server.stop()
    print(f"{args.jobs} jobs of {args.seconds:g} s audio each, tiny.en, CPU ({os.cpu_count()} cores)")
    print(f"{'workers':>7} {'jobs/min':>9} {'p50 s':>7} {'p95 s':>7} {'job wall s':>10}")
    for r in rows:
        print(f"{r['workers']:>7} {r['jobs_per_min']:>9.1f} {r['p50']:>7.2f} {r['p95']:>7.2f} {r['wall']:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
