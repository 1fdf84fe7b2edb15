"""Speaker diarization benchmark for app/local/diarize.py, new vs old (a script, not a test).

Run from the project root:  .venv/bin/python bench/diarization_eval.py [--no-json] [--only new|old]
Needs the bench-only package `pyannote.metrics` (pip install pyannote.metrics).

Diarizers, both run in this same process on the same audio:
  new   app/local/diarize.py: segmentation-3.0 + CAM++ (ONNX), overlap-aware
  old   bench/old_diarize.py: the previous Silero VAD + Resemblyzer + agglomerative diarizer (its
        model is taken from git history; without it the peer is skipped)

Data (read-only, beside the project): ../shared/data
  audio/ami_debug/*.wav  three 30 s AMI meeting excerpts with overlapping speech, reference RTTM
  consultations/*.flac   doctor on channel 0, patient on channel 1, reference JSON per file; the
                         channels are mixed to mono before diarization (as the job pipeline does)
  audio/jfk.flac, each consultation channel alone: one speaker
  audio/stereo_diarization.wav: its two channels summed (two voices, partly at once)

Metrics
  DER    pyannote.metrics DiarizationErrorRate, overlapped speech scored (skip_overlap=False);
         AMI: pooled over the three files (errors summed / reference speech summed), with no
         collar and with a 0.25 s collar (pyannote's `collar` is the total width: 0.5)
  acc    consultations: share of reference one-speaker speech time whose speaker, as
         `speaker_at` gives it for a word there, is right after the best one-to-one mapping
  k      speakers found (max_speakers=4 unless said), against the reference count
  s/s    diarization compute time per second of audio (2 CPU cores here; shared, see the notes)
  RSS    peak resident memory of a fresh process that diarizes the longest consultation
JSON     (unless --no-json) what a reader of the job's transcript gets: app.local.pipeline's
         transcribe_job with ShowSpeakerLabels, MaxSpeakerLabels 4 and Whisper tiny.en, then
         results.speaker_labels.segments scored like the turns (AMI pooled DER, consultations)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DATA = ROOT.parent / "shared" / "data"
FRAME = 0.01


# --------------------------------------------------------------------------- data


def load_ami(wav: Path):
    audio, sr = sf.read(wav, dtype="float32")
    assert sr == 16000
    segs = []
    for rttm in wav.parent.glob("*.rttm"):
        for line in rttm.read_text().splitlines():
            f = line.split()
            if f and f[0] == "SPEAKER" and f[1] == wav.stem:
                segs.append((float(f[3]), float(f[3]) + float(f[4]), f[7]))
    return audio, segs


def load_consultation(flac: Path):
    stereo, sr = sf.read(flac, dtype="float32")
    assert sr == 16000 and stereo.ndim == 2
    meta = json.loads(flac.with_suffix(".json").read_text())
    segs = [(u["start"], u["end"], u["speaker"]) for u in meta["utterances"]]
    return stereo, segs


# --------------------------------------------------------------------------- scoring


def annotation(segs):
    from pyannote.core import Annotation, Segment

    ann = Annotation()
    for i, (s, e, lab) in enumerate(segs):
        if e > s:
            ann[Segment(s, e), i] = lab
    return ann


def der_parts(ref_segs, hyp_segs, collar: float) -> dict:
    from pyannote.metrics.diarization import DiarizationErrorRate

    metric = DiarizationErrorRate(collar=2 * collar, skip_overlap=False)
    d = metric(annotation(ref_segs), annotation(hyp_segs), detailed=True)
    return {k: d[k] for k in ("missed detection", "false alarm", "confusion", "total")}


def pooled(parts: list[dict]) -> float:
    err = sum(p["missed detection"] + p["false alarm"] + p["confusion"] for p in parts)
    return 100 * err / max(sum(p["total"] for p in parts), 1e-9)


def word_accuracy(ref_segs, hyp_segs, duration, speaker_at, turn_type):
    """Share of reference one-speaker speech (10 ms frames) whose speaker_at label is right under
    the best one-to-one mapping of hypothesis to reference speakers."""
    from pyannote.metrics.diarization import DiarizationErrorRate  # noqa: F401 (scipy present)
    from scipy.optimize import linear_sum_assignment

    n = int(np.ceil(duration / FRAME)) + 1
    refs = sorted({s[2] for s in ref_segs})
    ref = np.zeros((len(refs), n), bool)
    for s, e, lab in ref_segs:
        ref[refs.index(lab), int(round(s / FRAME)):int(round(e / FRAME))] = True
    single = ref.sum(axis=0) == 1
    turns = sorted((turn_type(s, e, c) for s, e, c in hyp_segs), key=lambda t: t.start)
    centers = (np.arange(n) + 0.5) * FRAME
    label = np.array([speaker_at(turns, c - 0.005, c + 0.005) for c in centers[single]])
    hyps = sorted(set(label.tolist())) or [0]
    conf = np.array([[np.sum((label == h) & ref[r, single]) for h in hyps] for r in range(len(refs))])
    rows, cols = linear_sum_assignment(-conf)
    return conf[rows, cols].sum() / max(single.sum(), 1)


# --------------------------------------------------------------------------- runs


def speaker_count(segs) -> int:
    return len({s[2] for s in segs})


def run_diarizer(name, module, ami, consults, jfk, stereo_mix):
    diarize = module.diarize
    diarize(np.zeros(16000, np.float32))  # load the models once
    times, audio_s = [], []

    def timed(audio, k=4):
        t0 = time.perf_counter()
        turns = diarize(audio, max_speakers=k)
        times.append(time.perf_counter() - t0)
        audio_s.append(len(audio) / 16000)
        return [(t.start, t.end, t.speaker) for t in turns]

    out = {"name": name, "ami": {}, "consult": {}, "single": {}}
    parts0, parts25 = [], []
    for stem, (audio, ref) in ami.items():
        hyp = timed(audio)
        p0, p25 = der_parts(ref, hyp, 0.0), der_parts(ref, hyp, 0.25)
        parts0.append(p0)
        parts25.append(p25)
        out["ami"][stem] = dict(k=speaker_count(hyp), ref_k=speaker_count(ref), der=pooled([p0]),
                                der25=pooled([p25]), k2=speaker_count(timed(audio, 2)))
    out["ami_der"], out["ami_der25"] = pooled(parts0), pooled(parts25)
    out["ami_parts"] = {k: sum(p[k] for p in parts0) for k in parts0[0]}
    for stem, (stereo, ref) in consults.items():
        mix = stereo.mean(axis=1)
        hyp = timed(mix)
        out["consult"][stem] = dict(
            k=speaker_count(hyp), der25=pooled([der_parts(ref, hyp, 0.25)]),
            acc=100 * word_accuracy(ref, hyp, len(mix) / 16000, module.speaker_at, module.SpeakerTurn))
        for c in (0, 1):
            out["single"][f"{stem} ch{c}"] = speaker_count(timed(np.ascontiguousarray(stereo[:, c])))
    out["single"]["jfk.flac"] = speaker_count(timed(jfk))
    out["single"]["jfk.flac, max 1"] = speaker_count(timed(jfk, 1))
    hyp = timed(stereo_mix)
    out["stereo_mix"] = hyp
    out["s_per_s"] = sum(times) / sum(audio_s)
    out["audio_s"] = sum(audio_s)
    return out


def isolated_rss(module_name: str, flac: Path) -> str:
    """Peak RSS (VmHWM) of a fresh process that imports the diarizer and diarizes one file."""
    code = f"""
import sys
sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'bench')!r}]
import soundfile as sf
mb = lambda key: int([l for l in open("/proc/self/status") if l.startswith(key)][0].split()[1]) / 1024
audio = sf.read({str(flac)!r}, dtype="float32")[0].mean(axis=1)
before = mb("VmRSS")
import importlib
m = importlib.import_module({module_name!r})
if hasattr(m, "ensure_model"):
    m.ensure_model()
m.diarize(audio, max_speakers=4)
print(f"{{mb('VmHWM'):.0f}} MB peak ({{before:.0f}} MB before: python, numpy, {{len(audio) / 16000:.0f}} s of audio)")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return done.stdout.strip() or f"not measured ({done.stderr.strip().splitlines()[-1:]})"


def json_reader_scores(ami, consults):
    """Score results.speaker_labels.segments of a real transcribe_job (tiny.en)."""
    from app.local import asr, pipeline

    model = asr.load_model(str(asr.resolve_model("tiny.en")))
    request = {"MedicalTranscriptionJobName": "x", "LanguageCode": "en-US",
               "Media": {"MediaFileUri": "file:///x"}, "OutputBucketName": "b", "Specialty": "PRIMARYCARE",
               "Type": "CONVERSATION", "Settings": {"ShowSpeakerLabels": True, "MaxSpeakerLabels": 4}}

    def segments(audio):
        doc = pipeline.transcribe_job(request, [audio], model)
        segs = doc["results"].get("speaker_labels", {}).get("segments", [])
        return [(float(s["start_time"]), float(s["end_time"]), s["speaker_label"]) for s in segs]

    parts0, parts25 = [], []
    rows = []
    for stem, (audio, ref) in ami.items():
        hyp = segments(audio)
        parts0.append(der_parts(ref, hyp, 0.0))
        parts25.append(der_parts(ref, hyp, 0.25))
        rows.append(f"  {stem:24} k {speaker_count(hyp)} (ref {speaker_count(ref)})")
    rows.append(f"  AMI pooled DER {pooled(parts0):.1f} % no collar, {pooled(parts25):.1f} % 0.25 s collar")
    for stem, (stereo, ref) in consults.items():
        hyp = segments(stereo.mean(axis=1))
        rows.append(f"  {stem:24} k {speaker_count(hyp)} DER(0.25) {pooled([der_parts(ref, hyp, 0.25)]):.1f} %")
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-json", action="store_true", help="skip the transcribe_job scoring (ASR, slow)")
    ap.add_argument("--only", choices=["new", "old"])
    ap.add_argument("--no-consultations", action="store_true", help="AMI, jfk and the stereo mix only")
    args = ap.parse_args()

    from faster_whisper import decode_audio

    ami = {f.stem: load_ami(f) for f in sorted((DATA / "audio" / "ami_debug").glob("*.wav"))}
    consults = {} if args.no_consultations else {
        f.stem: load_consultation(f) for f in sorted((DATA / "consultations").glob("*.flac"))}
    jfk = decode_audio(str(DATA / "audio" / "jfk.flac"))
    left, right = decode_audio(str(DATA / "audio" / "stereo_diarization.wav"), split_stereo=True)
    if not ami:
        sys.exit(f"no data under {DATA}")

    import old_diarize
    from app.local import diarize as new_diarize

    peers = [("new", new_diarize, "app.local.diarize")]
    if old_diarize.ensure_model():
        peers.append(("old", old_diarize, "old_diarize"))
    else:
        print("old diarizer skipped: its model is not in this checkout's git history")
    peers = [p for p in peers if args.only in (None, p[0])]

    results = []
    for name, module, module_name in peers:
        r = run_diarizer(name, module, ami, consults, jfk, left + right)
        longest = max(consults, key=lambda k: len(consults[k][0]), default=None)
        r["rss"] = isolated_rss(module_name, DATA / "consultations" / f"{longest}.flac") if longest else "-"
        results.append(r)

    print("\n| | " + " | ".join(r["name"] for r in results) + " |")
    print("|---|" + "---|" * len(results))

    def row(label, fn):
        print(f"| {label} | " + " | ".join(fn(r) for r in results) + " |")

    row("AMI pooled DER, no collar", lambda r: f"{r['ami_der']:.1f} %")
    row("AMI pooled DER, 0.25 s collar", lambda r: f"{r['ami_der25']:.1f} %")
    row("AMI miss / FA / confusion (s)", lambda r: " / ".join(
        f"{r['ami_parts'][k]:.1f}" for k in ("missed detection", "false alarm", "confusion")))
    for stem in ami:
        row(f"{stem}: speakers found (ref {results[0]['ami'][stem]['ref_k']}), max 4 / max 2",
            lambda r, s=stem: f"{r['ami'][s]['k']} / {r['ami'][s]['k2']}")
        row(f"{stem}: DER no collar / 0.25", lambda r, s=stem: f"{r['ami'][s]['der']:.1f} / {r['ami'][s]['der25']:.1f} %")
    for stem in consults:
        row(f"{stem} mix: speakers (ref 2), acc, DER 0.25", lambda r, s=stem: (
            f"{r['consult'][s]['k']}, {r['consult'][s]['acc']:.1f} %, {r['consult'][s]['der25']:.1f} %"))
    row("one-speaker recordings with 1 speaker found", lambda r: (
        f"{sum(v == 1 for v in r['single'].values())} of {len(r['single'])}"))
    for key in results[0]["single"]:
        row(f"  {key}", lambda r, k=key: str(r["single"][k]))
    row("stereo_diarization.wav L+R: turns", lambda r: "; ".join(f"{s:.1f}-{e:.1f} s{c}" for s, e, c in r["stereo_mix"]))
    row("s per audio s", lambda r: f"{r['s_per_s']:.3f} (over {r['audio_s']:.0f} s)")
    row("peak RSS, longest consultation", lambda r: r["rss"])

    if not args.no_json and "new" in [r["name"] for r in results]:
        print("\nJSON reader (transcribe_job, tiny.en, current app.local.diarize):")
        for line in json_reader_scores(ami, consults):
            print(line)


if __name__ == "__main__":
    main()
