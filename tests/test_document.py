"""The editable transcript document over AWS transcript JSON."""

from __future__ import annotations

import json

import pytest

from app.core.document import TranscriptDocument, edits_path, tokenize
from helpers import conversation_transcript


def conversation() -> dict:
    return conversation_transcript()


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


def test_a_phone_number_is_one_entity_and_its_neighbours_stay_words(tmp_path):
    """A dictated number with commas is one tag; a word whose time only touches the entity stays."""
    from helpers import item

    words = [("call", 0.0, 0.3), ("six", 0.3, 0.5), ("one", 0.5, 0.7), ("seven", 0.7, 1.0), (",", 0, 0),
             ("five", 1.0, 1.2), ("five", 1.2, 1.4), (",", 0, 0), ("one", 1.4, 1.6), ("two", 1.6, 1.8),
             ("today", 1.75, 2.2), (".", 0, 0)]   # "today" starts 50 ms before the entity ends
    items = [item(i, w, a, b, kind="punctuation" if w in ",." else "pronunciation")
             for i, (w, a, b) in enumerate(words)]
    transcript = {"jobName": "phone", "results": {
        "transcripts": [{"transcript": "call six one seven, five five, one two today."}], "items": items,
        "entities": [{"start_time": 0.3, "end_time": 1.8, "category": "PHI-Personal",
                      "content": "six one seven, five five, one two", "confidence": 0.9}]}}
    doc = TranscriptDocument.open(transcript, tmp_path, "local", "phone")
    assert doc.redacted_text(0) == "call [PHI-Personal] today."
    spans = doc.phi_spans(0)
    assert spans[0] is None and spans[-2] is None and set(spans[1:10]) == {0}
