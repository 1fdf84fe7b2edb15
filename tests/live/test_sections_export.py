"""results.sections / results.layout read by TranscriptDocument and kept by the note exporters
(a small transcript as the local engine writes it for a dictation with a template)."""

from __future__ import annotations

from app.core.document import TranscriptDocument, join_tokens, token_offsets, tokenize
from app.export import fhir, hl7
from app.export import text as text_export
from app.export.note import NoteHeader, build_note
from app.live.commands import apply_commands, layout_text
from app.local.pipeline import _groups
from app.core import transcript as aws
from app.live.templates import get_template


def dictated_transcript() -> dict:
    """The pipeline's last steps on timed words: commands, audio segments, the AWS JSON."""
    spec = ("cough for three days | period | next field | lungs clear | period | go to plan | bullet | "
            "aspirin | open bracket | as needed | close bracket | bullet | rest | period").split()
    items, t = [], 0.0
    for word in spec:
        if word == "|":
            t += 0.6
            continue
        items.append({"type": "pronunciation", "content": word, "confidence": 0.9, "start": t, "end": t + 0.3,
                      "_segment": 1})
        t += 0.32
    done = apply_commands(items, get_template("soap").sections)
    groups = _groups(done.items)
    for item in done.items:
        del item["_segment"]
    doc = aws.build("dictated", "0", done.items, groups, {"layout": done.layout, "sections": done.sections,
                                                          "template": {"id": "soap", "name": "SOAP note"}})
    doc["results"]["transcripts"][0]["transcript"] = layout_text(done.items, done.layout)
    return doc


def test_the_transcript_json():
    results = dictated_transcript()["results"]
    assert results["transcripts"][0]["transcript"] == ("cough for three days.\n\nLungs clear.\n\n• Aspirin (as needed)"
                                                       "\n• Rest.")
    assert [s["title"] for s in results["sections"]] == ["Subjective", "Objective", "Plan"]
    assert len(results["audio_segments"]) == 4


def test_document_turns_carry_their_section_and_bullets():
    doc = TranscriptDocument(dictated_transcript())
    assert [(t.get("section"), bool(t.get("bullet"))) for t in doc.turns] == [
        ("Subjective", False), ("Objective", False), ("Plan", True), ("Plan", True)]
    assert doc.turn_text(2) == "Aspirin (as needed)"
    assert doc.sections[0] == ("Subjective", 0, 4)


def test_opening_brackets_join_to_the_next_word():
    tokens = [{"type": "pronunciation", "content": "aspirin"}, {"type": "punctuation", "content": "("},
              {"type": "pronunciation", "content": "as"}, {"type": "pronunciation", "content": "needed"},
              {"type": "punctuation", "content": ")"}, {"type": "punctuation", "content": "."}]
    text = join_tokens(tokens)
    assert text == "aspirin (as needed)."
    assert [text[a:b] for a, b in token_offsets(tokens)] == ["aspirin", "(", "as", "needed", ")", "."]
    plain = tokenize("one, two.")
    assert [join_tokens(plain)[a:b] for a, b in token_offsets(plain)] == ["one", ",", "two", "."]


def test_every_exporter_keeps_the_headings():
    note = build_note(TranscriptDocument(dictated_transcript()), NoteHeader(patient_name="Doe, Jane", patient_id="MRN1"))
    assert [p.section for p in note.paragraphs] == ["Subjective", "Objective", "Plan", "Plan"]
    assert [p.text for p in note.paragraphs][2:] == ["• Aspirin (as needed)", "• Rest."]
    for p in note.paragraphs:
        assert " ".join(w for w, _ in p.words) == p.text and len(p.words) == len(p.times)
    assert text_export.render(note, speakers=False) == (
        "Subjective\n\ncough for three days.\n\nObjective\n\nLungs clear.\n\nPlan\n\n"
        "• Aspirin (as needed)\n\n• Rest.\n")
    composition = fhir.resource_json(fhir.composition(note))
    assert [s["title"] for s in composition["section"]] == ["Subjective", "Objective", "Plan"]
    message = hl7.render(note)
    lines = [seg.split("|")[5] for seg in message.split("\r") if seg.startswith("OBX")]
    assert "SUBJECTIVE:" in lines and "OBJECTIVE:" in lines and "PLAN:" in lines
    assert lines.index("SUBJECTIVE:") < lines.index("OBJECTIVE:") < lines.index("PLAN:")
