"""Live dictation, measured as a clinician would feel it: recordings played into a live session at
real-time pace (the recorder's blocks of 100 ms), then Stop; and the same audio as a normal job, in
the same run, with the same model.

    .venv/bin/python bench/live_dictation.py [--audio FILE ...] [--model tiny.en] [--speed 1.0] [--stop-after 0.0]

Default audio (real speech): jfk.flac, and the doctor's channel of day1_consultation01 (first 60 s).
A reference text is read from the consultations' JSON (its utterances for the channel) or from
FILE.txt or FILE.json (utterances, as bench/paused_dictations.py writes) beside the audio; without one, WER is measured against the normal job's text.

Stop is pressed as the recording ends, or ``--stop-after S`` seconds later (a quiet room's noise
floor played meanwhile, as when a clinician finishes the sentence and then reaches for Stop; the
normal job hears the same audio).

Per file: stop-to-final (Stop to the final AWS JSON: the open chunk's tail decoded and the job
pipeline run), the delay of settled words behind the end of their speech (mean, 95th percentile),
how often a word shown as settled was different in the final transcript, WER of the live text,
of the final transcript and of a normal job, and the CPU used per second of audio.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from app.live.session import LiveSession, _norm  # noqa: E402
from app.local import asr, media, pipeline  # noqa: E402
from helpers import DATA, JFK_TEXT, normalise  # noqa: E402

try:  # OpenAI's Whisper normaliser: "one hundred and ninety" and "190", "litres" and "liters" are one word
    from whisper_normalizer.english import EnglishTextNormalizer

    _whisper_norm = EnglishTextNormalizer()
    NORMALISER = "Whisper's English normaliser (numbers, spellings)"
except ImportError:  # pip install whisper-normalizer (the bench extra)
    _whisper_norm = None
    NORMALISER = "lower case and punctuation only (whisper-normalizer not installed: numbers count as errors)"


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    norm = (lambda t: normalise(_whisper_norm(t))) if _whisper_norm else normalise
    return jiwer.wer(norm(reference), norm(hypothesis))

REQUEST = {"MedicalTranscriptionJobName": "live-bench", "LanguageCode": "en-US", "Type": "DICTATION",
           "Specialty": "PRIMARYCARE", "Media": {"MediaFileUri": "file:///live"}, "OutputBucketName": "b"}


def material(paths: list[str]) -> list[tuple[str, np.ndarray, str | None]]:
    out = []
    if not paths:
        out.append(("jfk.flac", media.decode(DATA / "audio" / "jfk.flac", 1)[0], JFK_TEXT))
        name = "day1_consultation01"
        left = media.decode(DATA / "consultations" / f"{name}.flac", 2)[0][: 60 * 16000]
        ref = json.loads((DATA / "consultations" / f"{name}.json").read_text())
        text = " ".join(u["text"] for u in ref["utterances"] if u["channel"] == 0 and u["start"] < 60)
        out.append((f"{name} doctor 60 s", left, text))
        return out
    for p in map(Path, paths):
        info = media.probe(p)
        audio = media.mixdown(media.decode(p, info.channels))
        txt, ref = p.with_suffix(".txt"), p.with_suffix(".json")
        text = txt.read_text() if txt.exists() else None
        if text is None and ref.exists():   # the consultations' / bench/paused_dictations.py's reference shape
            text = " ".join(u["text"] for u in json.loads(ref.read_text()).get("utterances", [])) or None
        out.append((p.name, audio, text))
    return out


def run_live(model, audio: np.ndarray, speed: float):
    import psutil

    proc = psutil.Process()
    session = LiveSession(model).start()
    block = 1600
    cpu0, t0 = proc.cpu_times(), time.perf_counter()
    for i in range(0, len(audio), block):
        session.feed(audio[i:i + block])
        target = t0 + (i + block) / 16000 / speed
        time.sleep(max(0.0, target - time.perf_counter()))
    shown = session.state().words   # what the recorder shows as Stop is pressed
    settled = [w for w in shown if w.settled]
    shown_settled = list(session._settled) + list(session.closed_words)
    stop = time.perf_counter()
    transcription = session.stop()
    doc = pipeline.transcribe_job(REQUEST, [audio], model, decode=session.decode, decoded=[transcription])
    stop_to_final = time.perf_counter() - stop
    print(f"  {len(audio) / 16000:.1f} s: Stop waited {session.stop_wait:.2f} s for the pass in flight "
          f"({session.passes_cancelled} pass cut short), decoded {session.stop_decode:.2f} s, "
          f"job's steps {stop_to_final - session.stop_wait - session.stop_decode:.2f} s", file=sys.stderr)
    cpu1 = proc.cpu_times()
    cpu = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / (len(audio) / 16000)
    live_text = " ".join(w.text for w in shown)
    final_words = [(_norm(i["alternatives"][0]["content"]), float(i["start_time"]), float(i["end_time"]))
                   for i in doc["results"]["items"] if i["type"] == "pronunciation"]
    changed = 0
    for w in shown_settled:
        if not any(t == _norm(w.text) and s < w.end + 0.3 and e > w.start - 0.3 for t, s, e in final_words):
            changed += 1
    delays = [w.settled_at - w.end for w in shown_settled if w.settled_at is not None]
    return dict(stop_to_final=stop_to_final, delays=delays, changed=changed / max(1, len(shown_settled)),
                live_text=live_text, final_text=doc["results"]["transcripts"][0]["transcript"], cpu=cpu,
                passes=session.passes)


def room_noise(seconds: float) -> np.ndarray:
    """A quiet room's noise floor (-70 dBFS)."""
    return (np.random.default_rng(7).standard_normal(int(seconds * 16000)) * 10 ** (-70 / 20)).astype(np.float32)


def idle_cpu(model, seconds: float = 6.0) -> float:
    """CPU seconds per second while the clinician says nothing (a quiet room's noise floor)."""
    import psutil

    proc = psutil.Process()
    session = LiveSession(model).start()
    noise = room_noise(seconds)
    cpu0, t0 = proc.cpu_times(), time.perf_counter()
    for i in range(0, len(noise), 1600):
        session.feed(noise[i:i + 1600])
        time.sleep(max(0.0, t0 + (i + 1600) / 16000 - time.perf_counter()))
    cpu1 = proc.cpu_times()
    session.stop()
    return (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", nargs="*", default=[])
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--speed", type=float, default=1.0, help="playback pace (1.0 = real time)")
    parser.add_argument("--stop-after", type=float, default=0.0,
                        help="seconds of quiet after the recording before Stop is pressed")
    args = parser.parse_args()
    model = asr.load_model(str(asr.resolve_model(args.model)), "cpu", "auto")
    rows, totals = [], {"stop": [], "delays": [], "changed": [], "live": [], "final": [], "normal": []}
    for name, audio, reference in material(args.audio):
        audio = np.concatenate([audio, room_noise(args.stop_after)])
        live = run_live(model, audio, args.speed)
        t = time.perf_counter()
        normal = pipeline.transcribe_job(REQUEST, [audio], model)
        normal_s = time.perf_counter() - t
        normal_text = normal["results"]["transcripts"][0]["transcript"]
        ref = reference or normal_text
        w_live, w_final, w_normal = (wer(ref, live["live_text"]), wer(ref, live["final_text"]),
                                     wer(ref, normal_text))
        d = np.array(live["delays"]) if live["delays"] else np.array([0.0])
        rows.append(f"| {name} | {len(audio) / 16000:.1f} | {live['stop_to_final']:.2f} | {normal_s:.2f} | "
                    f"{d.mean():.2f} | {np.percentile(d, 95):.2f} | {100 * live['changed']:.1f} | "
                    f"{100 * w_live:.1f} | {100 * w_final:.1f} | {100 * w_normal:.1f} | {live['cpu']:.2f} |")
        totals["stop"].append(live["stop_to_final"])
        totals["delays"].extend(live["delays"])
        totals["changed"].append(live["changed"])
        totals["live"].append(w_live)
        totals["final"].append(w_final)
        totals["normal"].append(w_normal)
    idle = idle_cpu(model)
    print(f"model {args.model}, CPU, pace {args.speed:g}× real time; Stop pressed {args.stop_after:g} s after "
          f"the recording ends; CPU while nothing is said: {idle:.3f} s per s; WER text normalised with "
          f"{NORMALISER}\n")
    print("| audio | s | stop→final s | normal job s | settled delay mean s | p95 s | changed % "
          "| WER live % | WER final % | WER normal job % | CPU s per s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    d = np.array(totals["delays"]) if totals["delays"] else np.array([0.0])
    print(f"\nlive: stop-to-final {max(totals['stop']):.2f} s, settled delay mean {d.mean():.2f} s "
          f"p95 {np.percentile(d, 95):.2f} s, changed {100 * np.mean(totals['changed']):.1f} %, "
          f"WER live {100 * np.mean(totals['live']):.1f} final {100 * np.mean(totals['final']):.1f} "
          f"normal {100 * np.mean(totals['normal']):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
