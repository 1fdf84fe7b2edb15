"""``clinscribe note-header`` and ``clinscribe export`` as a user runs them, on real jobs."""

from __future__ import annotations

import importlib.util
import json
import os
import stat

import pytest

from app.core.document import TranscriptDocument
from app.export.note import header_path
from readback import aws_check, docx_parts, html_blocks, pdf_text, srt_cues, vtt_cues


@pytest.fixture(scope="module")
def dictation(jobs):
    """The dictation with a text edit made in the editor (saved beside the job)."""
    job = jobs["dictation"]
    doc = TranscriptDocument.open(job.transcript, job.home, "local", job.name)
    doc.delete_edits()
    doc = TranscriptDocument.open(job.transcript, job.home, "local", job.name)
    doc.set_turn_text(0, doc.turn_text(0).replace("fellow Americans", "fellow clinicians"))
    return job.name


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_note_header_is_set_kept_with_the_job_and_checked(clinscribe, dictation, export_home):
    proc = clinscribe("note-header", "--medical-transcription-job-name", dictation, "--patient-name", "Smith, John",
                      "--mrn", "00417", "--birth-date", "1961-04-23", "--author", "Dr. Ana Lee", "--author-id",
                      "1234567893", "--organization", "North Clinic", "--note-type", "Consult note",
                      "--encounter", "V-88", "--save-as-default", check_rc=0)
    out = json.loads(proc.stdout)
    assert out["NoteHeader"]["patient_name"] == "Smith, John" and out["NoteHeader"]["note_type"] == "11488-4"
    assert out["NoteType"] == "Consult note" and out["Problems"] == []
    path = header_path(export_home, "local", dictation)
    assert path.parent == (export_home / "edits" / "local") and mode(path) == 0o600
    assert json.loads(path.read_text())["patient_id"] == "00417"
    settings = json.loads((export_home / "settings.json").read_text())
    assert settings["note_author"] == "Dr. Ana Lee" and settings["note_organization"] == "North Clinic"
    # shown again, unchanged; a bad date is refused in one line and nothing is saved
    again = json.loads(clinscribe("note-header", "--medical-transcription-job-name", dictation, check_rc=0).stdout)
    assert again["NoteHeader"] == out["NoteHeader"]
    bad = clinscribe("note-header", "--medical-transcription-job-name", dictation, "--birth-date", "23/04/1961",
                     check_rc=252)
    assert bad.stderr.count("\n") == 1 and "date of birth" in bad.stderr and not bad.stdout
    assert json.loads(path.read_text())["patient_birth_date"] == "1961-04-23"
    bad = clinscribe("note-header", "--medical-transcription-job-name", dictation, "--note-type", "Poem",
                     check_rc=252)
    assert "note type" in bad.stderr


def test_export_every_format_from_the_command_line(clinscribe, dictation, tmp_path):
    clinscribe("note-header", "--medical-transcription-job-name", dictation, "--patient-name", "Smith, John",
               "--mrn", "00417", "--author", "Dr. Ana Lee", check_rc=0)
    name = ("--medical-transcription-job-name", dictation)
    text = clinscribe("export", *name, "--format", "text", check_rc=0).stdout.decode()
    assert "fellow clinicians" in text and "Americans" not in text and "Dictation:" not in text
    assert clinscribe("export", *name, "--format", "text", "--timestamps", check_rc=0).stdout.startswith(b"[00:00:00]")
    blocks = html_blocks(clinscribe("export", *name, "--format", "html", check_rc=0).stdout.decode())
    assert [tag for tag, _ in blocks] == ["p"] and "fellow clinicians" in blocks[0][1]
    assert "fellow clinicians" in " ".join(c.content for c in srt_cues(
        clinscribe("export", *name, "--format", "srt", check_rc=0).stdout.decode()))
    assert "fellow clinicians" in " ".join(c.text for c in vtt_cues(
        clinscribe("export", *name, "--format", "vtt", check_rc=0).stdout.decode()))
    data = aws_check(clinscribe("export", *name, "--format", "aws-json", check_rc=0).stdout.decode())
    assert "fellow clinicians" in data["results"]["transcripts"][0]["transcript"]

    refused = clinscribe("export", *name, "--format", "docx", check_rc=252)
    assert "--output" in refused.stderr and refused.stderr.count("\n") == 1 and not refused.stdout
    docx_file, pdf_file = tmp_path / "note.docx", tmp_path / "note.pdf"
    clinscribe("export", *name, "--format", "docx", "--output", docx_file, "--confidence", check_rc=0)
    parts = docx_parts(docx_file.read_bytes())
    assert mode(docx_file) == 0o600
    assert parts["header"]["Patient"] == "Smith, John" and parts["header"]["MRN"] == "00417"
    assert "fellow clinicians" in " ".join(parts["body"])
    assert parts["footer"].startswith("Transcribed by ClinScribe from audio, reviewed by Dr. Ana Lee on ")
    clinscribe("export", *name, "--format", "pdf", "--output", pdf_file, "--redact-header", check_rc=0)
    body = pdf_text(pdf_file.read_bytes())
    assert "fellow clinicians" in body and "Smith" not in body and "00417" not in body and mode(pdf_file) == 0o600


def test_redacted_export_of_the_consultation(clinscribe, jobs, tmp_path):
    name = ("--medical-transcription-job-name", "consult-phi")
    text = clinscribe("export", *name, "--format", "text", "--redact", check_rc=0).stdout.decode()
    assert "[PHI-Personal]" in text and "Jacob" not in text and "November" not in text
    plain = clinscribe("export", *name, "--format", "text", "--no-speakers", check_rc=0).stdout.decode()
    assert "Jacob" in plain and "Channel 1:" not in plain


def test_export_errors_are_one_line(clinscribe, dictation, tmp_path):
    cases = [
        (("export", "--medical-transcription-job-name", dictation, "--format", "rtf"), 252, "invalid choice"),
        (("export", "--medical-transcription-job-name", dictation, "--format", "pdf", "--output", tmp_path),
         252, "folder"),
        (("export", "--medical-transcription-job-name", dictation, "--format", "pdf", "--output",
          tmp_path / "missing" / "x.pdf"), 252, "no such folder"),
    ]
    for args, rc, message in cases:
        proc = clinscribe(*args, check_rc=rc)
        assert message in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    missing = clinscribe("export", "--medical-transcription-job-name", "no-such-job", "--format", "text")
    assert missing.returncode != 0 and missing.stderr.count("\n") == 1 and not missing.stdout


@pytest.mark.parametrize("fmt", ["fhir", "hl7"])
def test_fhir_and_hl7_export_from_the_command_line(clinscribe, dictation, fmt):
    """The EHR formats from the CLI, read back by their own libraries (the sending side is tests/ehr)."""
    proc = clinscribe("note-header", "--medical-transcription-job-name", dictation, "--mrn", "MRN-1",
                      "--patient-name", "Doe, Jane", "--author", "Okafor, Chidi", "--author-id", "1234567893")
    proc = clinscribe("export", "--medical-transcription-job-name", dictation, "--format", fmt, check_rc=0)
    out = proc.stdout.decode("utf-8")
    if fmt == "fhir":
        from fhir.resources.R4B.documentreference import DocumentReference

        resource = DocumentReference.model_validate_json(out)
        assert resource.subject.identifier.value == "MRN-1"
    else:
        import hl7

        message = hl7.parse(out.replace("\n", "\r").strip())
        assert str(message.segment("MSH")[9]).startswith("MDM^T02") and str(message.segment("PID")[3][0][0]) == "MRN-1"
