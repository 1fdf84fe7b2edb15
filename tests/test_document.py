"""The editable transcript document over AWS transcript JSON."""

from __future__ import annotations

import json

import pytest

from app.document import TranscriptDocument, edits_path, tokenize


def item(i, word, start, end, conf="0.99", spk=None, kind="pronunciation"):
    out = {"id": i, "type": kind, "alternatives": [{"confidence": conf if kind == "pronunciation" else "0.0",
                                                     "content": word}]}
    if kind == "pronunciation":
        out["start_time"], out["end_time"] = str(start), str(end)
    if spk is not None:
        out["speaker_label"] = spk
    return out


def conversation() -> dict:
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


def test_turns_names_and_text(tmp_path):
    doc = TranscriptDocument.open(conversation(), tmp_path, "local", "visit-1")
    assert [doc.turn_text(i) for i in range(2)] == ["Hello John Smith.", "I have chest pane."]
    assert [doc.speaker_name(t["label"]) for t in doc.turns] == ["Speaker 1", "Speaker 2"]
    assert doc.text().startswith("Speaker 1: Hello John Smith.")


def test_edits_saved_beside_job_and_reloaded(tmp_path):
    transcript = conversation()
    original = json.dumps(transcript, sort_keys=True)
    doc = TranscriptDocument.open(transcript, tmp_path, "local", "visit-1")
    doc.rename_speaker("spk_0", "Dr. Lee")
    assert doc.set_turn_text(1, "I have chest pain since Monday.")
    path = edits_path(tmp_path, "local", "visit-1")
    assert path.exists()
    again = TranscriptDocument.open(transcript, tmp_path, "local", "visit-1")
    assert again.speaker_name("spk_0") == "Dr. Lee"
    assert again.turn_text(1) == "I have chest pain since Monday."
    assert json.dumps(transcript, sort_keys=True) == original  # the engine's transcript is untouched
    # corrected words keep their timing; typed words have no confidence
    pain = again.turns[1]["tokens"][3]
    assert pain["content"] == "pain" and pain["start"] == pytest.approx(2.1) and pain["confidence"] is None
    assert again.turns[1]["tokens"][0]["confidence"] == pytest.approx(0.99)


def test_pick_alternative_replaces_segment_words(tmp_path):
    doc = TranscriptDocument.open(conversation(), tmp_path, "local", "visit-1")
    segs = doc.segments_for_turn(1)
    assert [s.index for s in segs] == [0] and doc.segments_for_turn(0) == []
    doc.pick_alternative(0, 1)
    assert doc.turn_text(1) == "I have chest pain."
    assert doc.picked(0) == 1
    assert doc.turn_text(0) == "Hello John Smith."


def test_phi_highlight_and_redaction(tmp_path):
    doc = TranscriptDocument.open(conversation(), tmp_path, "local", "visit-1")
    cats = [doc.phi_category(t) for t in doc.turns[0]["tokens"]]
    assert cats == [None, "PHI-Personal", "PHI-Personal", None]
    assert doc.redacted_text(0) == "Hello [PHI-Personal]."
    assert "John" not in doc.text(redact=True)


def test_undo_by_snapshot_and_replace_all(tmp_path):
    doc = TranscriptDocument.open(conversation(), tmp_path, "local", "visit-1")
    before = doc.snapshot()
    assert doc.replace_all("pane", "pain") == 1
    assert doc.turn_text(1) == "I have chest pain."
    doc.restore(before)
    assert doc.turn_text(1) == "I have chest pane."
    assert TranscriptDocument.open(conversation(), tmp_path, "local", "visit-1").turn_text(1) == "I have chest pane."


def test_word_at_follows_time(tmp_path):
    doc = TranscriptDocument.open(conversation(), tmp_path, "local", "visit-1")
    assert doc.word_at(0.6) == (0, 1)
    assert doc.word_at(2.2) == (1, 3)
    assert doc.word_at(10.0) is None


def test_plain_items_without_segments_and_tokenize():
    t = conversation()
    del t["results"]["audio_segments"]
    doc = TranscriptDocument(t)
    assert len(doc.turns) == 2 and doc.turns[1]["label"] == "spk_1"
    assert [x["content"] for x in tokenize("Hi, Dr. Lee.")] == ["Hi", ",", "Dr", ".", "Lee", "."]


def test_corrupt_edits_file_falls_back_to_transcript(tmp_path):
    path = edits_path(tmp_path, "local", "visit-1")
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    doc = TranscriptDocument.open(conversation(), tmp_path, "local", "visit-1")
    assert doc.turn_text(0) == "Hello John Smith."
    assert path.with_suffix(".json.bak").exists()
