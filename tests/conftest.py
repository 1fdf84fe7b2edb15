"""Shared fixtures: real audio from ../shared/data, isolated ClinScribe homes."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

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


@pytest.fixture(scope="session", autouse=True)
def _worker_idle_short():
    # Workers spawned by tests exit soon after their queue empties.
    os.environ.setdefault("CLINSCRIBE_WORKER_IDLE", "5")
    yield


@pytest.fixture(scope="session")
def shared_home(tmp_path_factory):
    """One ClinScribe home (and so one worker and one loaded model) shared by a session."""
    return tmp_path_factory.mktemp("clinscribe-home")


@pytest.fixture()
def home(tmp_path, monkeypatch):
    """A fresh, isolated ClinScribe home for one test."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("CLINSCRIBE_HOME", str(path))
    return path


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
