"""Every export of the four transcripts the real Amazon Transcribe wrote, with the user's edits."""

from __future__ import annotations

import copy

import pytest

from app.core.document import TranscriptDocument
from app.export.note import NoteHeader, build_note
from checks import assert_everywhere, texts
from checks import aws_sample

HEADER = NoteHeader(patient_id="MRN-00417", patient_name="Smith, John", patient_birth_date="1961-04-23",
                    encounter_id="ENC-9", author_name="Dr. Ana Lee", author_id="1234567893",
                    organization="North Clinic", note_type="11488-4", service_date="2026-11-30")


def edited(name: str, tmp_path) -> tuple[TranscriptDocument, dict]:
    """The sample opened as the editor opens it, edited as a user would; what to look for."""
    doc = TranscriptDocument.open(aws_sample(name), tmp_path, "aws", f"sample-{name[:2]}")
    expect = {"present": [], "absent": [], "speaker": None}
    if doc.segments:
        # pick an alternative that differs from the text, as a user does from the turn's menu
        for ti in range(len(doc.turns)):
            for seg in doc.segments_for_turn(ti):
                current = doc.turn_text(ti)
                alts = [a for a in seg.alternatives if a["index"] and a["transcript"] not in current]
                if alts:
                    doc.pick_alternative(seg.index, alts[0]["index"], seg.turn)
                    expect["picked"] = alts[0]["transcript"]
                    break
            if "picked" in expect:
                break
        assert "picked" in expect
    assert "village on some errand" in doc.turn_text(0)
    doc.set_turn_text(0, doc.turn_text(0).replace("village on some errand", "clinic on some errand"))
    expect["present"].append("clinic on some errand")
    expect["absent"].append("village on some")
    label = doc.turns[0]["label"]
    if label:
        doc.rename_speaker(label, "Dr. Ana Lee")
        expect["speaker"] = "Dr. Ana Lee"
    return doc, expect


@pytest.mark.parametrize("name", ["01-plain.json", "02-channel-identification.json",
                                  "03-speaker-identification.json", "04-alternative-results.json"])
def test_every_format_of_an_edited_aws_sample(name, tmp_path):
    doc, expect = edited(name, tmp_path)
    note = build_note(doc, HEADER)
    seen = texts(note, doc, confidence=True)
    assert_everywhere(seen, expect["present"], expect["absent"])
    if "picked" in expect:
        picked = expect["picked"].split()
        assert " ".join(picked[-4:]) in seen["text"] and " ".join(picked[-4:]) in seen["aws-json"]
    if expect["speaker"]:
        for fmt in ("text", "html", "docx", "pdf", "srt"):
            assert "Dr. Ana Lee:" in seen[fmt], fmt
        assert "Dr. Ana Lee" in seen["vtt-voices"]
    else:  # a plain job has no speakers: no "Dictation:" prefixes anywhere
        assert all(not p.speaker for p in note.paragraphs)
        assert "Dictation:" not in seen["text"] and not seen["vtt-voices"]
    header = seen["docx-header"]
    for value in ("Smith, John", "1961-04-23", "MRN-00417", "ENC-9", "Dr. Ana Lee (1234567893)", "North Clinic",
                  "Consult note", "2026-11-30"):
        assert value in header, value
        assert value in seen["pdf"], value
    footer = "Transcribed by ClinScribe from audio, reviewed by Dr. Ana Lee on"
    assert seen["docx-footer"].startswith(footer) and footer in seen["pdf"]
    # an edited word has no confidence: never coloured; the engine's low-confidence words may be
    low = [w for p in note.paragraphs for w, c in p.words if c is not None and c < 0.5]
    assert sorted(w.strip() for w in low) == sorted(_coloured(seen))


def _coloured(seen) -> list[str]:
    from readback import docx_parts

    return docx_parts(seen["_raw"]["docx"])["coloured"]


def test_channel_and_speaker_labels_stay_consistent_after_edits(tmp_path):
    for name, key in (("02-channel-identification.json", "channel_labels"),
                      ("03-speaker-identification.json", "speaker_labels")):
        doc, _ = edited(name, tmp_path)
        doc.set_turn_text(1, doc.turn_text(1) + " Zoster reviewed.")
        seen = texts(build_note(doc, HEADER), doc)
        results = seen["_aws"]["results"]
        assert key in results
        items = results["items"]
        added = [it for it in items if it["alternatives"][0]["content"] in ("Zoster", "reviewed")]
        assert len(added) == 2 and all(float(it["alternatives"][0]["confidence"]) == 1.0 for it in added)
        label = "channel_label" if key == "channel_labels" else "speaker_label"
        assert len({it[label] for it in items}) >= 2
        if key == "speaker_labels":
            assert results["speaker_labels"]["speakers"] == aws_sample(name)["results"]["speaker_labels"]["speakers"]


def test_redaction_of_an_aws_transcript_with_phi_entities(tmp_path):
    sample = copy.deepcopy(aws_sample("03-speaker-identification.json"))
    items = sample["results"]["items"]
    found = [it for it in items if it["alternatives"][0]["content"].lower() == "village"]
    assert len(found) >= 2
    sample["results"]["entities"] = [{"start_time": float(it["start_time"]), "end_time": float(it["end_time"]),
                                      "category": "PHI-Geographic", "content": "village", "confidence": 0.9}
                                     for it in found]
    doc = TranscriptDocument.open(sample, tmp_path, "aws", "sample-phi")
    note = build_note(doc, HEADER, redact=True, redact_header=True)
    seen = texts(note, doc)
    assert_everywhere(seen, ["into the [PHI-Geographic] on some"], ["village"])
    assert "village" not in seen["_raw"]["aws-json"].lower()  # nor in entities, segments, labels
    entities = seen["_aws"]["results"]["entities"]
    assert entities == [{"start_time": float(it["start_time"]), "end_time": float(it["end_time"]),
                         "category": "PHI-Geographic", "content": "[PHI-Geographic]", "confidence": 0.9}
                        for it in found]
    for value in ("Smith", "MRN-00417", "1961-04-23"):
        assert value not in seen["docx-header"] and value not in seen["pdf"]
    assert "North Clinic" in seen["docx-header"]
    # not redacted: the entity follows the words
    plain = texts(build_note(doc, HEADER), doc)["_aws"]["results"]["entities"]
    assert [e["content"].lower() for e in plain] == ["village"] * len(found)
