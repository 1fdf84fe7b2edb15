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

SCRIPTS = {"soap": SOAP, "lookalikes": LOOKALIKES, "mixed": MIXED}


def spoken(chunk: str) -> str:
    return re.sub(r"[<>\[\]]", "", chunk).strip()


def commands_in(script: str) -> list[str]:
    return re.findall(r"<([^>]+)>", script)


def lookalikes_in(script: str) -> list[str]:
    return re.findall(r"\[([^\]]+)\]", script)


def render(script: str, path: Path, *, voice: str = "en-us", speed: int = 160) -> Path:
    """The script spoken by espeak-ng into ``path`` (mono WAV), pauses as written."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise RuntimeError("espeak-ng is not installed")
    pieces: list[np.ndarray] = [np.zeros(int(0.3 * RATE))]
    parts = re.split(r"(\|\|?)", script)
    with tempfile.TemporaryDirectory() as tmp:
        for n, part in enumerate(parts):
            if part in ("|", "||"):
                pieces.append(np.zeros(int((SHORT if part == "|" else LONG) * RATE)))
                continue
            text = spoken(part)
            if not text:
                continue
            wav = Path(tmp) / f"{n}.wav"
            subprocess.run([espeak, "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True,
                           capture_output=True)
            data, rate = soundfile.read(wav, dtype="float32")
            assert rate == RATE, rate
            # espeak pads each utterance with silence: trim it so the pauses are the script's
            loud = np.flatnonzero(np.abs(data) > 0.01)
            pieces.append(data[max(0, loud[0] - 200): loud[-1] + 200] if loud.size else data)
    pieces.append(np.zeros(int(0.5 * RATE)))
    soundfile.write(path, np.concatenate(pieces), RATE)
    return path
