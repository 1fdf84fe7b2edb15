"""Issue 15 benchmark: N concurrent boto3 clients dictating to ``clinscribe serve --workers W``.

The clinic as tests/server/test_full_stack.py starts it (tests/servers/clinic.py): a real PostgreSQL
(initdb in a temp folder), moto's S3 server over HTTP as the clinic's object store (media and
transcripts), ``clinscribe serve --port P --workers W`` as a subprocess, a user from ``clinscribe
server add-user``. Each client is a thread with its own boto3 client, closed-loop like a workstation:
start a job on a short dictation (3-4 s cuts of jfk.flac and of the consultations), poll Get every
0.1 s until COMPLETED, next one. Timing starts when every worker has loaded tiny.en.

Protocol overhead: with the same server, its idle workers and the same clip (4 s), one job at a
time, alternating: started and polled in-process on a LocalEngine on the server's home (same
PostgreSQL store, same pool) vs through the server with boto3 (uvicorn, SigV4, JSON 1.1); both
poll every 0.1 s; median of --reps. (bench/server_overhead.py does the same on the SQLite store.)
bench/pool_throughput.py measures the pool without the API.

    .venv/bin/python bench/server_throughput.py [--workers 1 2 4] [--clients 4] [--jobs 12] [--reps 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
POLL = 0.1


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def make_clips(folder: Path) -> list[Path]:
    """3-4 s of real speech: three cuts of jfk.flac and three of the consultations (mono)."""
    import soundfile as sf

    from helpers import AUDIO, DATA

    cuts = [(AUDIO / "jfk.flac", 0.0, 3.5), (AUDIO / "jfk.flac", 3.5, 3.5), (AUDIO / "jfk.flac", 7.0, 4.0)]
    consult = sorted((DATA / "consultations").glob("*.flac"))
    cuts += [(consult[i % len(consult)], 20.0 + 40 * i, 3.5) for i in range(3)]
    out = []
    for i, (src, start, seconds) in enumerate(cuts):
        data, rate = sf.read(src, dtype="float32", always_2d=True)
        piece = data[int(start * rate):int((start + seconds) * rate)].mean(axis=1)
        path = folder / f"clip{i}.flac"
        sf.write(path, piece, rate)
        out.append(path)
    return out


def timed_job(engine, name: str, uri: str) -> float:
    from servers.clinic import job_params

    started = time.perf_counter()
    engine.start_medical_transcription_job(**job_params(name, uri))
    while True:
        job = engine.get_medical_transcription_job(MedicalTranscriptionJobName=name)["MedicalTranscriptionJob"]
        if job["TranscriptionJobStatus"] in ("COMPLETED", "FAILED"):
            assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
            return time.perf_counter() - started
        time.sleep(POLL)


def run(pg, s3_url: str, workers: int, clients: int, jobs: int, reps: int, clips: list[Path], tmp: Path) -> dict:
    from app.engine.local import LocalEngine
    from servers.clinic import Clinic

    clinic = Clinic(tmp / f"w{workers}", pg, s3_url)
    try:
        uris = [clinic.upload(p, f"bench/{p.name}") for p in clips]
        clinic.start_serve(workers)
        user = clinic.add_user("bench")
        boto = [clinic.transcribe_client(user) for _ in range(clients)]
        latency: list[float] = []
        errors: list[BaseException] = []
        share = [list(range(c, jobs, clients)) for c in range(clients)]

        def client(c: int) -> None:
            try:
                for j in share[c]:
                    latency.append(timed_job(boto[c], f"w{workers}-job-{j}", uris[j % len(uris)]))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        total = time.perf_counter() - t0
        if errors:
            raise errors[0]
        # overhead: the same 4 s clip, idle workers, in-process vs through the server, alternating
        local = LocalEngine(base=clinic.home)
        times: dict[str, list[float]] = {"local": [], "server": []}
        for rep in range(reps):
            for path, engine in (("local", local), ("server", boto[0])):
                times[path].append(timed_job(engine, f"w{workers}-{path}-{rep}", uris[2]))
        local.store.close()
        walls = [e["wall_s"] for e in clinic.serve.events("job_finished")]
    finally:
        clinic.close()
    lo, sv = statistics.median(times["local"]), statistics.median(times["server"])
    return {"workers": workers, "clients": clients, "jobs": jobs, "per_min": jobs / total * 60,
            "p50": pct(latency, 0.5), "p95": pct(latency, 0.95), "wall": statistics.mean(walls),
            "local": lo, "server": sv, "overhead": 100 * (sv - lo) / lo}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=12)
    parser.add_argument("--reps", type=int, default=7, help="jobs per path for the overhead column")
    parser.add_argument("--poll", type=float, default=0.1, help="seconds between a client's Get calls (0.1)")
    args = parser.parse_args(argv)
    global POLL
    POLL = args.poll
    from servers.clinic import S3_KEYS, start_moto
    from servers.postgres import PostgresServer

    import logging
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request lines
    os.environ.update(S3_KEYS)  # the in-process engine reads the clinic's S3 store too
    started = time.monotonic()
    pg = PostgresServer().start()
    os.environ.update(pg.environ())
    moto, s3_url = start_moto()
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            clips = make_clips(Path(tmp))
            for n in args.workers:
                rows.append(run(pg, s3_url, n, args.clients, args.jobs, args.reps, clips, Path(tmp)))
                print(f"workers={n} done", file=sys.stderr, flush=True)
    finally:
        moto.stop()
        pg.stop()
    print(f"clinscribe serve --workers W, PostgreSQL store, media and transcripts on moto's S3 server (HTTP); "
          f"tiny.en on CPU ({os.cpu_count()} cores); {args.clients} closed-loop boto3 clients, 3-4 s dictations; "
          f"poll {POLL} s; whole run {time.monotonic() - started:.0f} s\n")
    print("| workers | clients | jobs | jobs/min | p50 s | p95 s | worker wall s/job | in-process s | via server s "
          "| overhead % |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['workers']} | {r['clients']} | {r['jobs']} | {r['per_min']:.1f} | {r['p50']:.2f} | {r['p95']:.2f} "
              f"| {r['wall']:.2f} | {r['local']:.2f} | {r['server']:.2f} | {r['overhead']:+.1f} |")
    print(f"\noverhead: one 4 s job at a time on idle workers, median of {args.reps}; goal <= 5 %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
