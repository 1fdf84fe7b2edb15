"""Shared constants and helpers for the tests: real audio from ../shared/data."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
AUDIO = DATA / "audio"

JFK_TEXT = ("And so my fellow Americans, ask not what your country can do for you, "
            "ask what you can do for your country.")
STEREO_LEFT = ("He began a confused complaint against the wizard, who had vanished behind "
               "the curtain on the left.")
STEREO_RIGHT = "The horizon seems extremely distant."


def normalise(text: str) -> str:
    text = re.sub(r"[^a-z0-9' ]", " ", text.lower())
    return " ".join(text.split())


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return jiwer.wer(normalise(reference), normalise(hypothesis))



def job_request(name: str, media_uri: str, **extra) -> dict:
    request = {
        "MedicalTranscriptionJobName": name,
        "LanguageCode": "en-US",
        "Media": {"MediaFileUri": media_uri},
        "OutputBucketName": "test-transcripts",
        "Specialty": "PRIMARYCARE",
        "Type": "DICTATION",
    }
    request.update(extra)
    return request
