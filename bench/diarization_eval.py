"""Speaker diarization benchmark for app/diarize.py (a script, not a test).

Run from the project root:  .venv/bin/python bench/diarization_eval.py

Data (read-only, beside the project): ../shared/data
  consultations/*.flac  doctor on channel 0, patient on channel 1, reference JSON per file;
                        the two channels are mixed to mono before diarization
  audio/ami_debug/*.wav meeting excerpts with overlapping speech, reference RTTM

Metrics, on 10 ms frames:
  acc    share of reference single-speaker speech time whose speaker, as `speaker_at` would
         give it (largest overlap, else nearest turn), is the right one after the best
         one-to-one mapping of hypothesis to reference speakers
  DER    (missed + false alarm + confusion) / reference speech, overlapping reference speech
         included, frames within 0.25 s of a reference boundary not scored
  miss / FA / conf  the three DER parts
  s/s    diarization compute time per second of audio (2 CPU cores here)
Then: the speaker count found on one-speaker recordings (each consultation channel alone,
jfk.flac) with max_speakers=4, and the peak memory of a fresh process diarizing one file.
"""

from __future__ import annotations

import itertools
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from app.local.diarize import diarize  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
FRAME = 0.01
COLLAR = 0.25


def to_frames(segments, n_frames):
    """segments: [(start, end, label)] -> {label: bool frame mask}."""
    masks = {}
    for s, e, lab in segments:
        m = masks.setdefault(lab, np.zeros(n_frames, bool))
        m[int(round(s / FRAME)):int(round(e / FRAME))] = True
    return masks


def best_mapping(ref, hyp, scored):
    """One-to-one hypothesis -> reference mapping maximising correctly labelled frames."""
    r_labs, h_labs = list(ref), list(hyp)
    best, best_map = -1, {}
    for perm in itertools.permutations(r_labs + [None] * len(h_labs), len(h_labs)):
        score = sum(int((hyp[h] & ref[r] & scored).sum()) for h, r in zip(h_labs, perm) if r is not None)
        if score > best:
            best, best_map = score, dict(zip(h_labs, perm))
    return best_map


def evaluate(ref_segs, turns, duration):
    n = int(np.ceil(duration / FRAME)) + 1
    ref = to_frames(ref_segs, n)
    hyp = to_frames([(t.start, t.end, t.speaker) for t in turns], n)
    n_ref = sum(m.astype(int) for m in ref.values())
    n_hyp = sum((m.astype(int) for m in hyp.values()), np.zeros(n, int))

    scored = np.ones(n, bool)  # collar around every reference boundary
    c = int(round(COLLAR / FRAME))
    for s, e, _ in ref_segs:
        for b in (int(round(s / FRAME)), int(round(e / FRAME))):
            scored[max(0, b - c):b + c] = False

    mapping = best_mapping(ref, hyp, scored)
    correct = sum(((hyp[h] & ref[r]).astype(int) for h, r in mapping.items() if r is not None),
                  np.zeros(n, int))
    total = n_ref[scored].sum()
    miss = np.maximum(n_ref - n_hyp, 0)[scored].sum() / total
    fa = np.maximum(n_hyp - n_ref, 0)[scored].sum() / total
    conf = (np.minimum(n_ref, n_hyp) - correct)[scored].sum() / total

    # accuracy as speaker_at would label words: every frame gets the nearest turn's speaker
    single = n_ref == 1
    label = np.full(n, -1)
    if turns:
        centers = (np.arange(n) + 0.5) * FRAME
        starts = np.array([t.start for t in turns])
        ends = np.array([t.end for t in turns])
        speakers = np.array([t.speaker for t in turns])
        prev = np.clip(np.searchsorted(starts, centers, side="right") - 1, 0, len(turns) - 1)
        nxt = np.minimum(prev + 1, len(turns) - 1)
        d_prev = np.maximum(np.maximum(starts[prev] - centers, centers - ends[prev]), 0)
        d_next = np.maximum(starts[nxt] - centers, 0)
        label = np.where(d_next < d_prev, speakers[nxt], speakers[prev])
    inv = {r: h for h, r in mapping.items() if r is not None}
    right = sum((ref[r] & (label == inv[r]) for r in ref if r in inv), np.zeros(n, bool))
    acc = (right & single).sum() / max(single.sum(), 1)
    return dict(acc=acc, der=miss + fa + conf, miss=miss, fa=fa, conf=conf, n_ref=len(ref))


def load_consultation(flac):
    audio, sr = sf.read(flac, dtype="float32")
    assert sr == 16000 and audio.ndim == 2
    meta = json.loads(Path(flac).with_suffix(".json").read_text())
    segs = [(u["start"], u["end"], u["speaker"]) for u in meta["utterances"]]
    return audio.mean(axis=1), segs


def load_ami(wav):
    audio, sr = sf.read(wav, dtype="float32")
    assert sr == 16000
    name = Path(wav).stem
    segs = []
    for rttm in Path(wav).parent.glob("*.rttm"):
        for line in rttm.read_text().splitlines():
            f = line.split()
            if f and f[0] == "SPEAKER" and f[1] == name:
                segs.append((float(f[3]), float(f[3]) + float(f[4]), f[7]))
    return audio, segs


def main():
    cases = [(Path(f).stem, "consult", *load_consultation(f))
             for f in sorted((DATA / "consultations").glob("*.flac"))]
    cases += [(Path(f).stem, "AMI", *load_ami(f))
              for f in sorted((DATA / "audio" / "ami_debug").glob("*.wav"))]
    if not cases:
        sys.exit(f"no data under {DATA}")

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    diarize(np.zeros(16000, np.float32))  # load the ONNX model and the VAD once
    load_s = time.perf_counter() - t0

    head = f"{'file':22} {'set':8} {'max':>3} {'ref k':>5} {'hyp k':>5} {'acc %':>6} {'DER %':>6} " \
           f"{'miss':>5} {'FA':>5} {'conf':>5} {'audio s':>7} {'s/s':>6}"
    print(head)
    print("-" * len(head))
    rows = []
    for name, kind, audio, segs in cases:
        for max_spk in (2, 4):
            t0 = time.perf_counter()
            turns = diarize(audio, max_speakers=max_spk)
            dt = time.perf_counter() - t0
            dur = len(audio) / 16000
            m = evaluate(segs, turns, dur)
            k = len({t.speaker for t in turns})
            rows.append((kind, max_spk, m, dt, dur))
            print(f"{name:22} {kind:8} {max_spk:>3} {m['n_ref']:>5} {k:>5} {100 * m['acc']:6.1f} "
                  f"{100 * m['der']:6.1f} {100 * m['miss']:5.1f} {100 * m['fa']:5.1f} "
                  f"{100 * m['conf']:5.1f} {dur:7.1f} {dt / dur:6.4f}")
    print("-" * len(head))
    for kind in ("consult", "AMI"):
        for max_spk in (2, 4):
            sel = [r for r in rows if r[0] == kind and r[1] == max_spk]
            if not sel:
                continue
            acc = np.mean([r[2]["acc"] for r in sel])
            der = np.mean([r[2]["der"] for r in sel])
            rt = sum(r[3] for r in sel) / sum(r[4] for r in sel)
            print(f"{'mean':22} {kind:8} {max_spk:>3} {'':>5} {'':>5} {100 * acc:6.1f} {100 * der:6.1f} "
                  f"{'':>5} {'':>5} {'':>5} {'':>7} {rt:6.4f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nmodel + VAD load {load_s:.2f} s; peak RSS of this script {rss:.0f} MB "
          f"(all audio loaded, before diarization: {rss0:.0f} MB)")
    single_speaker_table()
    longest = max((DATA / "consultations").glob("*.flac"), key=lambda f: sf.info(f).duration, default=None)
    if longest is not None:
        print(f"fresh process, {longest.name} only: {isolated_rss(longest)}")


def single_speaker_table():
    """Speaker-count estimation on one-speaker recordings: each channel alone, and jfk.flac."""
    from faster_whisper import decode_audio

    print(f"\n{'one-speaker recording':34} {'max':>3} {'hyp k':>5} {'audio s':>7}")
    items = [("jfk.flac", decode_audio(str(DATA / "audio" / "jfk.flac")))]
    for f in sorted((DATA / "consultations").glob("*.flac")):
        stereo = sf.read(f, dtype="float32")[0]
        items += [(f"{f.stem} ch{c} only", stereo[:, c]) for c in (0, 1)]
    for name, audio in items:
        k = len({t.speaker for t in diarize(audio, max_speakers=4)})
        print(f"{name:34} {4:>3} {k:>5} {len(audio) / 16000:7.1f}")


def isolated_rss(flac):
    """Peak RSS of a fresh process that loads one file as mono and diarizes it (Linux: VmHWM,
    reset after loading the audio, so the figure is diarization's own peak plus the baseline)."""
    code = f"""
import gc, sys
sys.path.insert(0, {str(ROOT)!r})
import soundfile as sf
mb = lambda key: int([l for l in open("/proc/self/status") if l.startswith(key)][0].split()[1]) / 1024
audio = sf.read({str(flac)!r}, dtype="float32")[0].mean(axis=1)
gc.collect()
before = mb("VmRSS")
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM)
from app.local.diarize import diarize
diarize(audio, max_speakers=2)
print(f"peak RSS {{mb('VmHWM'):.0f}} MB during import + diarize, {{before:.0f}} MB before "
      f"(python, numpy, soundfile and {{len(audio) / 16000:.0f}} s of audio)")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return done.stdout.strip() or f"not measured ({done.stderr.strip().splitlines()[-1:]})"


if __name__ == "__main__":
    main()
