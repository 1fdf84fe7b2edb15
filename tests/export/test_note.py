"""The note model: its header (kept with the job, checked, defaults from Settings) and the note text."""

from __future__ import annotations

import json
import os
import stat
import uuid
from datetime import datetime, timezone

import pytest

from app.core.config import Settings
from app.core.document import TranscriptDocument, edits_path
from app.export import FORMATS, ExportUnavailable, renderer
from app.export.clipboard import render as clipboard
from app.export.note import (NOTE_TYPES, NoteHeader, build_note, header_path, load_header, note_text,
                             save_header)
from helpers import AUDIO, conversation_transcript, job_request
from readback import html_blocks


def test_note_types_are_loinc_document_codes():
    assert NOTE_TYPES == {"11506-3": "Progress note", "34117-2": "History and physical note",
                          "11488-4": "Consult note", "18842-5": "Discharge summary", "28570-0": "Procedure note"}


def test_header_saved_beside_the_edits_owner_only_and_defaults_from_settings(tmp_path):
    path = header_path(tmp_path, "local", "visit-1")
    assert path.parent == edits_path(tmp_path, "local", "visit-1").parent and path != edits_path(tmp_path, "local",
                                                                                                   "visit-1")
    Settings(note_author="Dr. Ana Lee", note_author_id="1234567893", note_organization="North Clinic").save(tmp_path)
    fresh = load_header(tmp_path, "local", "visit-1")
    assert (fresh.author_name, fresh.author_id, fresh.organization, fresh.note_type, fresh.status) == (
        "Dr. Ana Lee", "1234567893", "North Clinic", "11506-3", "final")
    assert load_header(tmp_path, "local", "visit-1", {"note_author": "Dr. B"}).author_name == "Dr. B"
    fresh.patient_name, fresh.patient_birth_date = "Smith, John", "1961-04-23"
    save_header(tmp_path, "local", "visit-1", fresh)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert load_header(tmp_path, "local", "visit-1") == fresh
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    assert NoteHeader.from_dict({**fresh.to_dict(), "future_field": 1}) == fresh
    path.write_text("{not json")
    with pytest.raises(ValueError, match="damaged"):
        load_header(tmp_path, "local", "visit-1")


@pytest.mark.parametrize("changes, problem", [
    ({"patient_birth_date": "23/04/1961"}, "not a date like"),
    ({"patient_birth_date": "1961-02-30"}, "not a real date"),
    ({"patient_birth_date": "2999-01-01"}, "in the future"),
    ({"note_type": "12345-6"}, "note type"),
    ({"status": "draft"}, "final or preliminary"),
    ({"service_date": "yesterday"}, "date of service"),
    ({"service_date": "1950-01-01", "patient_birth_date": "1961-04-23"}, "before the date of birth"),
    ({"patient_id_system": "not a uri"}, "not a URI"),
])
def test_header_problems_in_words(changes, problem):
    assert NoteHeader().problems() == []
    problems = NoteHeader(**changes).problems()
    assert len(problems) == 1 and problem in problems[0]


def test_note_of_an_edited_conversation(tmp_path):
    doc = TranscriptDocument.open(conversation_transcript(), tmp_path, "local", "visit-1")
    doc.rename_speaker("spk_1", "Patient")
    doc.pick_alternative(0, 1)
    header = NoteHeader(patient_name="Smith, John", patient_id="42", patient_birth_date="1961-04-23",
                        note_type="34117-2", service_date="2026-11-30T09:15")
    created = datetime(2026, 11, 30, 9, 20, tzinfo=timezone.utc)
    note = build_note(doc, header, created=created)
    assert note.title == "History and physical note — 2026-11-30" and note.created == created
    assert [(p.speaker, p.text) for p in note.paragraphs] == [("Speaker 1", "Hello John Smith."),
                                                              ("Patient", "I have chest pain.")]
    assert [w for w, _ in note.paragraphs[0].words] == ["Hello", "John", "Smith."]
    assert note.paragraphs[0].words[2][1] == pytest.approx(0.45)
    assert note.paragraphs[1].start == pytest.approx(1.5) and note.paragraphs[1].end == pytest.approx(2.4)
    assert note_text(note) == "Speaker 1: Hello John Smith.\n\nPatient: I have chest pain."
    assert note_text(note, speakers=False, timestamps=True) == "[00:00:00] Hello John Smith.\n\n[00:00:01] I have chest pain."

    redacted = build_note(doc, header, redact=True, redact_header=True)
    assert redacted.paragraphs[0].text == "Hello [PHI-Personal]." == doc.redacted_text(0)
    assert redacted.paragraphs[0].words == [("Hello", pytest.approx(0.99)), ("[PHI-Personal].", None)]
    assert (redacted.header.patient_name, redacted.header.patient_id, redacted.header.patient_birth_date) == ("", "", "")
    assert header.patient_name == "Smith, John"  # the caller's header is untouched
    doc.rename_speaker("spk_0", "John Smith")  # named after the PHI: not named when redacted
    assert [p.speaker for p in build_note(doc, header, redact=True).paragraphs] == ["Speaker 1", "Patient"]
    assert build_note(doc, header).paragraphs[0].speaker == "John Smith"
    assert build_note(doc, NoteHeader(), created=created).title == "Progress note — 2026-11-30"


def test_sections_headings_and_the_clipboard(tmp_path):
    doc = TranscriptDocument.open(conversation_transcript(), tmp_path, "local", "visit-1")
    doc.set_turn_text(1, "Pain <3 days & worse at night.")
    note = build_note(doc, NoteHeader())
    note.paragraphs[0].section, note.paragraphs[1].section = "Subjective", "Assessment & plan"
    assert note_text(note).split("\n\n") == ["Subjective", "Speaker 1: Hello John Smith.", "Assessment & plan",
                                             "Speaker 2: Pain <3 days & worse at night."]
    text, html = clipboard(note)
    assert text == note_text(note)
    assert "&lt;3 days &amp; worse" in html and "<h2>Assessment &amp; plan</h2>" in html
    assert html_blocks(html) == [("h2", "Subjective"), ("p", "Speaker 1: Hello John Smith."),
                                 ("h2", "Assessment & plan"), ("p", "Speaker 2: Pain <3 days & worse at night.")]


def test_registry():
    assert set(FORMATS) == {"text", "html", "docx", "pdf", "srt", "vtt", "aws-json", "fhir", "hl7"}
    assert FORMATS["docx"].binary and FORMATS["pdf"].media_type == "application/pdf"
    assert not FORMATS["vtt"].binary and FORMATS["vtt"].extension == ".vtt"
    with pytest.raises(ExportUnavailable, match="Unknown export format"):
        renderer("rtf")
    for name in FORMATS:
        try:
            assert callable(renderer(name))
        except ExportUnavailable as exc:  # fhir / hl7 before their modules are merged
            assert name in ("fhir", "hl7") and "is missing" in str(exc)


keyring = pytest.importorskip("keyring")
from keyring.backends import fail, null  # noqa: E402

needs_keyring = pytest.mark.skipif(isinstance(keyring.get_keyring(), (fail.Keyring, null.Keyring)),
                                   reason="no OS keyring backend here: run via scripts/test.sh")


@needs_keyring
def test_an_encrypted_job_exports_with_its_edits_and_header_kept_sealed(home, monkeypatch, capsys, tmp_path):
    from app import cli
    from app.engine.local import LocalEngine
    from app.store import credentials

    monkeypatch.setattr(credentials, "SERVICE_NAME", f"ClinScribe-test-{uuid.uuid4().hex[:8]}")
    engine = LocalEngine(base=home)
    uri = engine.put_media(AUDIO / "jfk.flac", key="kms/jfk.flac")
    engine.start_medical_transcription_job(**job_request("kms-export", uri, OutputEncryptionKMSKeyId="alias/notes",
                                                         KMSEncryptionContext={"department": "cardiology"}))
    assert engine.wait("kms-export", poll=0.2, timeout=300)["TranscriptionJobStatus"] == "COMPLETED"
    name = ["--medical-transcription-job-name", "kms-export"]
    assert cli.main(["note-header", *name, "--patient-name", "Smith, John", "--author", "Dr. Ana Lee"]) == 0
    capsys.readouterr()
    sealed = header_path(home, "local", "kms-export").read_bytes()
    assert b"Smith" not in sealed  # sealed with the job's key and context
    from app.store.kms import LocalKms, Sealer

    sealer = Sealer(LocalKms(home), "alias/notes", {"department": "cardiology"})
    doc = TranscriptDocument.open(engine.get_transcript("kms-export"), home, "local", "kms-export", sealer=sealer)
    doc.set_turn_text(0, doc.turn_text(0).replace("fellow Americans", "fellow clinicians"))
    assert b"clinicians" not in edits_path(home, "local", "kms-export").read_bytes()
    out = tmp_path / "kms.docx"
    assert cli.main(["export", *name, "--format", "docx", "--output", str(out)]) == 0
    from readback import docx_parts

    parts = docx_parts(out.read_bytes())
    assert "fellow clinicians" in " ".join(parts["body"]) and parts["header"]["Patient"] == "Smith, John"
    assert cli.main(["export", *name, "--format", "aws-json"]) == 0
    assert "fellow clinicians" in json.loads(capsys.readouterr().out)["results"]["transcripts"][0]["transcript"]


def test_documents_never_fail_on_odd_characters(tmp_path):
    from app.export import export
    from readback import docx_parts, pdf_text, squash

    doc = TranscriptDocument.open(conversation_transcript(), tmp_path, "local", "visit-1")
    doc.set_turn_text(1, "Temp 38.5\u00b0C \u2013 pain\x0b\x01 since Mo\u00efra\u2019s visit \u80ba.")
    note = build_note(doc, NoteHeader(patient_name="M\u00fcller, J\u00f6rg\x07", author_name="Dr. \u0141ukasz"))
    parts = docx_parts(export(note, "docx"))
    assert "Temp 38.5\u00b0C \u2013 pain since Mo\u00efra\u2019s visit" in squash(" ".join(parts["body"]))
    assert parts["header"]["Patient"] == "M\u00fcller, J\u00f6rg"
    for font in (True, None):
        text = pdf_text(export(note, "pdf", font=font))
        assert "38.5\u00b0C" in text and "M\u00fcller" in text and "visit ?" in text
