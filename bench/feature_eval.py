"""Issue 3 evaluation on the two-channel consultations (a script, not a test).

For each consultation, in one run with one loaded model (tiny.en, CPU int8):
- WER per channel with ChannelIdentification, and channel-label correctness
  (share of words whose ch_N matches the reference speaker talking at that time);
- on the mono mix with ShowSpeakerLabels (MaxSpeakerLabels=2): speaker-label accuracy
  (share of reference speech time given the right speaker after the best mapping,
  measured on words) and the speaker count found;
- time of each feature as a ratio to bare transcription of the same audio.

    .venv/bin/python bench/feature_eval.py [--seconds N]   (N: only the first N seconds)
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "consultations"


def norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]", " ", text.lower()).split())


def at(reference, t):
    return min(reference, key=lambda u: 0 if u["start"] <= t <= u["end"] else min(abs(u["start"] - t), abs(u["end"] - t)))


def words(doc):
    return [i for i in doc["results"]["items"] if i["type"] == "pronunciation"]


def mid(item):
    return (float(item["start_time"]) + float(item["end_time"])) / 2


def speaker_accuracy(items, reference):
    hyp = [i["speaker_label"] for i in items]
    ref = [at(reference, mid(i))["speaker"] for i in items]
    dur = [float(i["end_time"]) - float(i["start_time"]) + 1e-3 for i in items]
    speakers, people = sorted(set(hyp)), sorted(set(ref))
    best = 0.0
    for perm in itertools.permutations(speakers + [None] * max(0, len(people) - len(speakers)), len(people)):
        mapping = dict(zip(perm, people))
        best = max(best, sum(d for h, r, d in zip(hyp, ref, dur) if mapping.get(h) == r))
    return best / sum(dur)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=0.0)
    args = parser.parse_args()

    import jiwer
    import numpy as np

    from app.local import asr, media, pipeline

    model = asr.load_model(str(asr.resolve_model("tiny.en")), "cpu", "int8")
    from app.local import phi  # load the PHI analyzer and the speaker model before timing
    phi.detect_phi([{"content": "warmup", "start": 0.0, "end": 0.1, "confidence": 1.0}])
    from app.local import diarize
    diarize.diarize(np.zeros(16000 * 3, dtype=np.float32) + 0.01 * np.random.default_rng(0).standard_normal(48000).astype(np.float32))

    rows, totals = [], {"bare": 0.0, "channels": 0.0, "speakers": 0.0, "phi": 0.0, "speakers+phi": 0.0}
    for flac in sorted(DATA.glob("*.flac")):
        reference = json.loads(flac.with_suffix(".json").read_text())["utterances"]
        channels = media.decode(flac, 2)
        if args.seconds:
            channels = [c[: int(args.seconds * 16000)] for c in channels]
            reference = [u for u in reference if u["start"] < args.seconds]
        duration = len(channels[0]) / 16000

        def job(**req):
            request = {"MedicalTranscriptionJobName": "bench", **req}
            t0 = time.perf_counter()
            doc = pipeline.transcribe_job(request, channels, model)
            return doc, time.perf_counter() - t0

        t0 = time.perf_counter()
        asr.transcribe(model, media.mixdown(channels))
        bare = time.perf_counter() - t0
        chan_doc, chan_t = job(Settings={"ChannelIdentification": True})
        spk_doc, spk_t = job(Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2})
        _, phi_t = job(ContentIdentificationType="PHI")
        _, both_t = job(Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2}, ContentIdentificationType="PHI")

        wers, right = [], 0
        items = words(chan_doc)
        for c in (0, 1):
            ref = norm(" ".join(u["text"] for u in reference if u["channel"] == c))
            hyp = norm(" ".join(i["alternatives"][0]["content"] for i in items if i["channel_label"] == f"ch_{c}"))
            wers.append(jiwer.wer(ref, hyp))
        right = sum(at(reference, mid(i))["channel"] == int(i["channel_label"][3:]) for i in items)
        spk_items = words(spk_doc)
        rows.append((flac.stem, duration, wers[0], wers[1], right / len(items),
                     speaker_accuracy(spk_items, reference), spk_doc["results"]["speaker_labels"]["speakers"],
                     bare, chan_t / bare, spk_t / bare, phi_t / bare, both_t / bare))
        for key, value in (("bare", bare), ("channels", chan_t), ("speakers", spk_t), ("phi", phi_t),
                           ("speakers+phi", both_t)):
            totals[key] += value
        print(f"done {flac.stem}", file=sys.stderr)

    print(f"\ntiny.en int8, CPU; features run through app.local.pipeline.transcribe_job on the same decoded audio\n")
    print("| consultation | audio (s) | WER ch_0 (doctor) | WER ch_1 (patient) | channel labels right | "
          "speaker accuracy (mono mix) | speakers found | bare (s) | channels × | speakers × | PHI × | speakers+PHI × |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:.0f} | {r[2]:.3f} | {r[3]:.3f} | {r[4]:.1%} | {r[5]:.1%} | {r[6]} | {r[7]:.1f} | "
              f"{r[8]:.2f} | {r[9]:.2f} | {r[10]:.2f} | {r[11]:.2f} |")
    b = totals["bare"]
    print(f"| **all** | {sum(r[1] for r in rows):.0f} | {np.mean([r[2] for r in rows]):.3f} | "
          f"{np.mean([r[3] for r in rows]):.3f} | {np.mean([r[4] for r in rows]):.1%} | "
          f"{np.mean([r[5] for r in rows]):.1%} | | {b:.1f} | {totals['channels'] / b:.2f} | "
          f"{totals['speakers'] / b:.2f} | {totals['phi'] / b:.2f} | {totals['speakers+phi'] / b:.2f} |")


if __name__ == "__main__":
    main()
