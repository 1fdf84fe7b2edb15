"""Issue 2 benchmark: a full local job versus bare faster-whisper on the same recording.

Prints real-time factor (processing seconds / audio seconds), the job/bare ratio and
peak memory. The job is measured on a warm worker (model already loaded, as in use);
the first, cold job (worker start + model load) is reported separately.

    .venv/bin/python bench/job_overhead.py [--repeats 3] [--recording PATH] [--channel 0]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT = ROOT.parent / "shared" / "data" / "consultations" / "day1_consultation01.flac"


def bare_run(model_path: str, audio_path: str, queue) -> None:
    from faster_whisper import WhisperModel

    model = WhisperModel(model_path, device="cpu", compute_type="int8")
    t0 = time.perf_counter()
    segments, _ = model.transcribe(audio_path, word_timestamps=True)
    words = sum(len(s.words or []) for s in segments)
    queue.put((time.perf_counter() - t0, words, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def bare(model_path: str, audio_path: str) -> tuple[float, int, float]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=bare_run, args=(model_path, audio_path, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def worker_peak_mb(home: Path) -> float:
    import psutil

    for proc in psutil.process_iter(["cmdline"]):
        cmd = proc.info["cmdline"] or []
        if "_worker" in cmd and str(home) in cmd:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return float("nan")


def job(engine, uri: str, name: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    engine.start_medical_transcription_job(
        MedicalTranscriptionJobName=name, LanguageCode="en-US", Media={"MediaFileUri": uri},
        OutputBucketName="bench", Specialty="PRIMARYCARE", Type="CONVERSATION")
    done = engine.wait(name, poll=0.05)
    elapsed = time.perf_counter() - t0
    assert done["TranscriptionJobStatus"] == "COMPLETED", done.get("FailureReason")
    words = sum(1 for i in engine.get_transcript(name)["results"]["items"] if i["type"] == "pronunciation")
    return elapsed, words


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recording", type=Path, default=DEFAULT)
    parser.add_argument("--channel", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import soundfile

    from app.local.asr import resolve_model
    from app.engine.local import LocalEngine

    tmp = Path(tempfile.mkdtemp(prefix="clinscribe-bench-"))
    data, rate = soundfile.read(args.recording)
    mono = data[:, args.channel] if data.ndim == 2 else data
    audio_path = tmp / "recording.wav"
    soundfile.write(audio_path, mono, rate)
    duration = len(mono) / rate
    model_path = str(resolve_model("tiny.en"))
    os.environ["CLINSCRIBE_WORKER_IDLE"] = "600"

    modes = {
        "job, one chunk at a time (batch 1, VAD, coverage pass)": {"batch_size": 1},
        "job, ClinScribe default (batched, VAD, coverage pass)": {},
    }
    rows = []
    bare_times, bare_mem = [], 0.0
    job_times = {m: [] for m in modes}
    engines, cold = {}, {}
    for label, decode in modes.items():
        home = tmp / f"home-{len(engines)}"
        engine = LocalEngine(base=home, decode=decode)
        uri = engine.put_media(audio_path)
        cold[label] = job(engine, uri, "cold")[0]
        engines[label] = (engine, uri, home)
    words = {}
    for r in range(args.repeats):  # interleaved, so drift hits every variant alike
        t, n, mem = bare(model_path, str(audio_path))
        bare_times.append(t)
        bare_mem = max(bare_mem, mem)
        words["bare"] = n
        for label, (engine, uri, _) in engines.items():
            t, n = job(engine, uri, f"run-{r}")
            job_times[label].append(t)
            words[label] = n
    bare_med = statistics.median(bare_times)
    print(f"\nRecording: {args.recording.name} channel {args.channel}, {duration:.1f} s; tiny.en int8 on CPU, "
          f"{os.cpu_count()} cores; {args.repeats} repeats, medians\n")
    print(f"| variant | time (s) | RTF | ratio to bare | words | peak RSS (MB) | cold first job (s) |")
    print(f"|---|---|---|---|---|---|---|")
    print(f"| bare WhisperModel.transcribe(word_timestamps=True) | {bare_med:.1f} | {bare_med / duration:.4f} | 1.00 | "
          f"{words['bare']} | {bare_mem:.0f} | - |")
    for label, (engine, _, home) in engines.items():
        med = statistics.median(job_times[label])
        print(f"| {label} | {med:.1f} | {med / duration:.4f} | {med / bare_med:.2f} | {words[label]} | "
              f"{worker_peak_mb(home):.0f} | {cold[label]:.1f} |")
    print("\nJob time = start_medical_transcription_job → COMPLETED seen by polling (media checks, decoding, "
          "transcription, JSON, SQLite, 50 ms polling). Bare time includes decoding the file.")


if __name__ == "__main__":
    main()
