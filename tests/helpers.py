"""Shared constants and helpers for the tests: real audio from ../shared/data."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# ../shared/data beside the checkout (or beside a folder of worktrees above it)
DATA = next((p / "shared" / "data" for p in ROOT.parents if (p / "shared" / "data").is_dir()),
            ROOT.parent / "shared" / "data")
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


def item(i, word, start, end, conf="0.99", spk=None, kind="pronunciation"):
    out = {"id": i, "type": kind, "alternatives": [{"confidence": conf if kind == "pronunciation" else "0.0",
                                                     "content": word}]}
    if kind == "pronunciation":
        out["start_time"], out["end_time"] = str(start), str(end)
    if spk is not None:
        out["speaker_label"] = spk
    return out


def conversation_transcript() -> dict:
    """A small two-speaker transcript in AWS's layout, with alternatives and a PHI entity."""
    items = [item(0, "Hello", 0.1, 0.4, spk="spk_0"), item(1, "John", 0.5, 0.8, "0.95", "spk_0"),
             item(2, "Smith", 0.8, 1.1, "0.45", "spk_0"), item(3, ".", 0, 0, spk="spk_0", kind="punctuation"),
             item(4, "I", 1.5, 1.6, spk="spk_1"), item(5, "have", 1.6, 1.8, "0.7", "spk_1"),
             item(6, "chest", 1.8, 2.1, spk="spk_1"), item(7, "pane", 2.1, 2.4, "0.4", "spk_1"),
             item(8, ".", 0, 0, spk="spk_1", kind="punctuation")]
    return {"jobName": "visit-1", "accountId": "0", "status": "COMPLETED", "results": {
        "transcripts": [{"transcript": "Hello John Smith. I have chest pane."}],
        "items": items,
        "audio_segments": [
            {"id": 0, "transcript": "Hello John Smith.", "start_time": "0.1", "end_time": "1.1",
             "speaker_label": "spk_0", "items": [0, 1, 2, 3]},
            {"id": 1, "transcript": "I have chest pane.", "start_time": "1.5", "end_time": "2.4",
             "speaker_label": "spk_1", "items": [4, 5, 6, 7, 8]}],
        "segments": [{"start_time": "1.5", "end_time": "2.4", "alternatives": [
            {"transcript": "I have chest pane.", "items": []},
            {"transcript": "I have chest pain.", "items": [
                {"start_time": "1.5", "end_time": "1.6", "confidence": "0.9", "content": "I", "type": "pronunciation"},
                {"start_time": "1.6", "end_time": "1.8", "confidence": "0.9", "content": "have", "type": "pronunciation"},
                {"start_time": "1.8", "end_time": "2.1", "confidence": "0.9", "content": "chest", "type": "pronunciation"},
                {"start_time": "2.1", "end_time": "2.4", "confidence": "0.8", "content": "pain", "type": "pronunciation"}]}]}],
        "entities": [{"start_time": 0.5, "end_time": 1.1, "category": "PHI-Personal", "content": "John Smith",
                      "confidence": 0.99}],
    }}
