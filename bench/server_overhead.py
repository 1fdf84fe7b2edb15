"""Protocol overhead of the clinic server: one job in-process on the LocalEngine vs the same job through
``clinscribe serve`` (uvicorn, SigV4, JSON 1.1) with boto3. A script, not a test.

Run from the project root:  .venv/bin/python bench/server_overhead.py [--reps 3]

Both paths use the same home, so the same (warm) worker process and model run the jobs; only the
submission and polling differ. Polling every 0.1 s on both paths; submit-to-COMPLETED is the wall
time from just before StartMedicalTranscriptionJob to the first Get that says COMPLETED.
Clips: jfk.flac (11 s) and the first 60 s of consultations/day1_consultation01.flac (made here).
Runs alternate (local, server, local, ...) so drift in the shared CPUs hits both.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = next(p / "shared" / "data" for p in ROOT.parents if (p / "shared" / "data").is_dir())


def _clip(folder: Path) -> Path:
    import soundfile as sf

    data, rate = sf.read(DATA / "consultations" / "day1_consultation01.flac", frames=60 * 44100, always_2d=True)
    out = folder / "consult60.flac"
    sf.write(out, data[: 60 * rate], rate)
    return out


def _wait(engine, name: str) -> float:
    while True:
        job = engine.get_medical_transcription_job(MedicalTranscriptionJobName=name)["MedicalTranscriptionJob"]
        if job["TranscriptionJobStatus"] in ("COMPLETED", "FAILED"):
            assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
            return time.perf_counter()
        time.sleep(0.1)


def _run(engine, name: str, uri: str) -> float:
    start = time.perf_counter()
    engine.start_medical_transcription_job(
        MedicalTranscriptionJobName=name, LanguageCode="en-US", Media={"MediaFileUri": uri},
        OutputBucketName="clinscribe-transcripts", Specialty="PRIMARYCARE", Type="DICTATION")
    return _wait(engine, name) - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("CLINSCRIBE_WORKER_IDLE", "60")
    import boto3
    import uvicorn

    from app.engine.local import LocalEngine
    from app.server.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="server-bench-"))
    engine = LocalEngine(base=tmp / "home")
    clips = {"jfk 11 s": engine.put_media(DATA / "audio" / "jfk.flac", "clinscribe-media", "jfk.flac"),
             "consult 60 s": engine.put_media(_clip(tmp), "clinscribe-media", "consult60.flac")}
    app = create_app(LocalEngine(base=tmp / "home"))
    import logging
    logging.getLogger("clinscribe.server").setLevel(logging.WARNING)  # no request lines in the table
    user = app.state.server.users.add("bench")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not srv.started:
        time.sleep(0.05)
    client = boto3.client("transcribe", endpoint_url=f"http://127.0.0.1:{sock.getsockname()[1]}",
                          region_name="us-east-1", aws_access_key_id=user.access_key_id,
                          aws_secret_access_key=user.secret_access_key)
    _run(engine, "warmup", clips["jfk 11 s"])  # the worker loads the model once
    rows = []
    for label, uri in clips.items():
        times = {"local": [], "server": []}
        for rep in range(args.reps):
            for path, eng in (("local", engine), ("server", client)):
                times[path].append(_run(eng, f"{path}-{label.split()[0]}-{rep}", uri))
        local, served = statistics.median(times["local"]), statistics.median(times["server"])
        rows.append((label, local, served, min(times["local"]), min(times["server"]),
                     100 * (served - local) / local))
    # per-request cost of the protocol alone: a Get in-process vs through the server
    name = "local-jfk-0"
    admin = app.state.server.users.add("bench-admin", admin=True)
    admin_client = boto3.client("transcribe", endpoint_url=client.meta.endpoint_url, region_name="us-east-1",
                                aws_access_key_id=admin.access_key_id, aws_secret_access_key=admin.secret_access_key)
    per_call = {}
    for path, eng in (("local", engine), ("server", admin_client)):
        t = time.perf_counter()
        for _ in range(100):
            eng.get_medical_transcription_job(MedicalTranscriptionJobName=name)
        per_call[path] = (time.perf_counter() - t) * 10  # ms per call
    srv.should_exit = True
    print(f"submit-to-COMPLETED, median of {args.reps} (min), poll 0.1 s, tiny.en, {os.cpu_count()} CPUs\n")
    print("| clip | in-process s | via server s | overhead % |")
    print("|---|---|---|---|")
    for label, local, served, lmin, smin, pct in rows:
        print(f"| {label} | {local:.2f} ({lmin:.2f}) | {served:.2f} ({smin:.2f}) | {pct:+.1f} |")
    print(f"\nGetMedicalTranscriptionJob: {per_call['local']:.1f} ms in-process, {per_call['server']:.1f} ms "
          "through the server (boto3, SigV4, JSON 1.1, keep-alive)")
    print("goal: overhead <= 5 %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
