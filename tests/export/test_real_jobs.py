"""Every export of real jobs of the local engine (a two-channel consultation with PHI, a
speaker-labelled meeting, a dictation), edited as a user edits them, read back independently."""

from __future__ import annotations

import pytest

from app.core.document import TranscriptDocument
from app.export import export
from app.export.note import NoteHeader, build_note
from checks import assert_everywhere, texts
from readback import pdf_text, squash, srt_cues

HEADER = NoteHeader(patient_id="00417", patient_name="Smith, Jane", patient_birth_date="1996-11-14",
                    encounter_id="V-2026-88", author_name="Dr. Ana Lee", author_id="1234567893",
                    organization="Babylon North", note_type="11488-4")


def fresh(job) -> TranscriptDocument:
    doc = TranscriptDocument.open(job.transcript, job.home, "local", job.name)
    doc.delete_edits()
    return TranscriptDocument.open(job.transcript, job.home, "local", job.name)


@pytest.fixture(scope="module")
def consult(jobs):
    """The consultation as the clinician left it: both speakers named, a word added, an alternative picked."""
    doc = fresh(jobs["consult-phi"])
    doc.rename_speaker("ch_0", "Dr. Ana Lee")
    doc.rename_speaker("ch_1", "Patient")
    k = next(i for i in range(len(doc.turns)) if "tightness" in doc.turn_text(i))
    assert doc.set_turn_text(k, doc.turn_text(k).replace("some tightness", "some chest tightness"))
    picked = False
    for ti in range(len(doc.turns)):
        for seg in doc.segments_for_turn(ti):
            alt = next((a for a in seg.alternatives if "all right" in a["transcript"]), None)
            if alt and "alright" in doc.turn_text(ti):
                doc.pick_alternative(seg.index, alt["index"], seg.turn)
                picked = True
    assert picked, "the engine offered no 'all right' alternative"
    return doc


def test_consultation_every_format(consult, jobs):
    note = build_note(consult, HEADER)
    seen = texts(note, consult, confidence=True)
    assert_everywhere(seen, ["some chest tightness", "is it all right"], ["is it alright"])
    for fmt in ("text", "html", "docx", "pdf", "srt"):
        assert "Dr. Ana Lee:" in seen[fmt] and "Patient:" in seen[fmt], fmt
    assert seen["vtt-voices"] == ["Dr. Ana Lee", "Patient"]
    assert "Jacob" in seen["text"]  # not redacted: the PHI is there
    results = seen["_aws"]["results"]
    assert results["channel_labels"]["number_of_channels"] == 2
    assert {e["category"] for e in results["entities"]} == {e["category"] for e in consult.entities}
    for ent in results["entities"]:
        words = [it["alternatives"][0]["content"] for it in results["items"] if it["type"] == "pronunciation"
                 and ent["start_time"] <= float(it["start_time"]) < ent["end_time"]]
        assert ent["content"] == " ".join(words)
    # the captions are timed from the words: the first cue starts with the first word
    first = min(float(it["start_time"]) for it in jobs["consult-phi"].transcript["results"]["items"]
                if it["type"] == "pronunciation")
    assert srt_cues(seen["_raw"]["srt"])[0].start.total_seconds() == pytest.approx(first, abs=0.01)
    assert "Consult note" in seen["docx-header"] and "Smith, Jane" in seen["pdf"]


def test_consultation_redacted(consult):
    note = build_note(consult, HEADER, redact=True, redact_header=True)
    seen = texts(note, consult)
    assert_everywhere(seen, ["[PHI-Personal]", "[PHI-Geographic]", "some chest tightness"],
                      ["Jacob", "November 1996", "great road"])
    raw = seen["_raw"]
    assert "Jacob" not in raw["aws-json"] and "November" not in raw["aws-json"]
    for value in ("Smith", "00417", "1996-11-14"):
        assert value not in seen["docx-header"] and value not in seen["pdf"], value
    assert "Dr. Ana Lee" in seen["docx-header"] and "PHI in the text has been redacted" in seen["pdf"]
    assert all(e["content"].startswith("[PHI-") for e in seen["_aws"]["results"]["entities"])


def test_meeting_with_speaker_labels(jobs):
    doc = fresh(jobs["meeting-speakers"])
    doc.rename_speaker("spk_1", "Marketing")
    edited = [k for k in range(len(doc.turns)) if "marketing expert" in doc.turn_text(k)]
    assert edited
    for k in edited:   # every turn that says it (a turn change may fall inside the phrase's sentence)
        doc.set_turn_text(k, doc.turn_text(k).replace("marketing expert", "marketing lead"))
    seen = texts(build_note(doc, NoteHeader()), doc)
    # (the edited words only: where the diarizer puts the turn change, "the" may end the turn before)
    assert_everywhere(seen, ["marketing lead"], ["marketing expert"])
    assert "Marketing" in seen["vtt-voices"] and "Speaker 1" in seen["vtt-voices"]
    results = seen["_aws"]["results"]
    assert results["speaker_labels"]["speakers"] == 2
    assert {it["speaker_label"] for it in results["items"]} == {"spk_0", "spk_1"}
    assert len(results["audio_segments"]) == len(doc.turns)


def test_dictation_without_speakers_and_with_timestamps(jobs):
    doc = fresh(jobs["dictation"])
    seg = doc.segments_for_turn(0)[0]
    alt = next(a for a in seg.alternatives if a["index"])
    doc.pick_alternative(seg.index, alt["index"], seg.turn)
    note = build_note(doc, NoteHeader(author_name="Dr. Ana Lee"))
    assert [p.speaker for p in note.paragraphs] == [""]
    seen = texts(note, doc)
    words = alt["transcript"].split()
    assert_everywhere(seen, [" ".join(words[2:6])], ["Dictation:"])
    assert seen["vtt-voices"] == []
    text = export(note, "text", timestamps=True)
    assert text.startswith("[00:00:00] ") and alt["transcript"].rstrip(".")[:20] in text
    assert export(note, "text", header=True).rstrip().endswith(
        f"reviewed by Dr. Ana Lee on {__import__('datetime').date.today().isoformat()}")
    # no Unicode font: the PDF is still made, with the characters Latin-1 lacks replaced
    note.paragraphs[0].text = "Café – naïve “quoted” 肺 text"
    body = squash(pdf_text(export(note, "pdf", font=None)))
    assert "Café - naïve \"quoted\" ? text" in body
    unicode_pdf = export(note, "pdf")
    from app.export.pdf import find_font

    if find_font():  # a character the font lacks is a "?", not a crash nor a warning naming it
        assert "Café – naïve “quoted” ? text" in pdf_text(unicode_pdf)
