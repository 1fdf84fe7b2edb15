"""``clinscribe send`` / ``outbox`` / EHR settings, in-process with a real AWS transcript, and as a
real process on a real local-engine job (its edited transcript is what reaches the EHR)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import hl7

from app import cli as app_cli
from app.core.config import Settings
from app.core.document import TranscriptDocument
from app.ehr import send
from app.export.note import NoteHeader
from ehrdata import HEADER, sample_note
from helpers import AUDIO, ROOT


def run(capsys, *args) -> tuple[int, str, str]:
    rc = app_cli.main([*map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def test_send_outbox_and_retry_from_the_command_line(ehr_home, proxy, fhir_server, mllp, capsys, monkeypatch):
    monkeypatch.setattr(send, "load_note", lambda name, engine=None, redact=False, base=None: sample_note())
    rc, out, _ = run(capsys, "settings", "--fhir-base-url", proxy.url, "--mllp-host", "127.0.0.1",
                     "--mllp-port", mllp.port)
    assert rc == 0 and json.loads(out)["fhir_base_url"] == proxy.url and Settings.load().mllp_port == mllp.port
    assert run(capsys, "settings", "--mllp-port", "99999")[0] == 252
    assert run(capsys, "send", "--medical-transcription-job-name", "x", "--to", "hl7", "--bundle")[0] == 252

    proxy.faults = [401]
    rc, out, err = run(capsys, "send", "--medical-transcription-job-name", "aws-03", "--to", "fhir")
    assert rc == 1 and json.loads(out)["Status"] == "failed"
    assert "not sent: The FHIR server refused the credentials (401)" in err and "outbox retry" in err
    rc, out, _ = run(capsys, "outbox")
    [row] = json.loads(out)["Sends"]
    assert row["Summary"].startswith("failed: ") and row["Summary"].endswith("— Retry")
    rc, out, _ = run(capsys, "outbox", "retry", "--all")
    assert rc == 0 and [r["Status"] for r in json.loads(out)["Sends"]] == ["sent"]
    server_id = json.loads(out)["Sends"][0]["ServerId"]
    assert fhir_server.get(server_id)["resourceType"] == "DocumentReference"

    rc, out, _ = run(capsys, "send", "--medical-transcription-job-name", "aws-03", "--to", "hl7")
    assert rc == 0 and json.loads(out)["Status"] == "sent" and len(mllp.received) == 1
    rc, out, _ = run(capsys, "outbox", "list", "--medical-transcription-job-name", "aws-03-speaker-identification")
    assert [r["To"] for r in json.loads(out)["Sends"]] == ["hl7", "fhir"]


def test_a_real_local_job_with_edits_reaches_the_ehr(ehr_home, fhir_server, mllp, capsys, monkeypatch):
    home = ehr_home
    env = dict(os.environ, CLINSCRIBE_HOME=str(home))

    def clinscribe(*args):
        return subprocess.run([sys.executable, "-m", "app", *map(str, args)], capture_output=True, text=True,
                              env=env, cwd=ROOT, timeout=300, stdin=subprocess.DEVNULL)

    done = clinscribe("transcribe", AUDIO / "jfk.flac", "--job-name", "ehr-jfk")
    assert done.returncode == 0, done.stderr
    # the user's edit in the editor, saved beside the job as the editor saves it
    transcript = json.loads(clinscribe("get-transcript", "--medical-transcription-job-name", "ehr-jfk",
                                       "--engine", "local").stdout)
    doc = TranscriptDocument.open(transcript, home, "local", "ehr-jfk")
    doc.set_turn_text(0, doc.turn_text(0) + " Reviewed by the physician.")
    doc.save()
    assert clinscribe("settings", "--fhir-base-url", fhir_server.url, "--mllp-host", "127.0.0.1",
                      "--mllp-port", mllp.port).returncode == 0
    rc, _, err = run(capsys, "send", "--medical-transcription-job-name", "ehr-jfk", "--to", "fhir", "--engine", "local")
    assert rc == 255 and "no patient identifier (MRN)" in err  # refused before anything is queued
    # the header the user fills in for the job, kept with it
    filled = clinscribe("note-header", "--medical-transcription-job-name", "ehr-jfk", "--engine", "local",
                        "--mrn", HEADER["patient_id"], "--mrn-system", HEADER["patient_id_system"],
                        "--patient-name", HEADER["patient_name"], "--author", HEADER["author_name"],
                        "--author-id", HEADER["author_id"], "--encounter", HEADER["encounter_id"])
    assert filled.returncode == 0, filled.stderr
    rc, out, err = run(capsys, "send", "--medical-transcription-job-name", "ehr-jfk", "--to", "fhir",
                       "--engine", "local")
    assert rc == 0, err
    row = json.loads(out)
    stored = fhir_server.get(row["ServerId"])
    text = base64.b64decode(stored["content"][0]["attachment"]["data"]).decode("utf-8")
    assert "ask not what your country can do for you" in text and text.endswith("Reviewed by the physician.")
    rc, _, err = run(capsys, "send", "--medical-transcription-job-name", "ehr-jfk", "--to", "hl7", "--engine", "local")
    assert rc == 0, err
    lines = [hl7.parse(mllp.received[0]).unescape(str(o[5])) for o in hl7.parse(mllp.received[0]).segments("OBX")]
    assert "Reviewed by the physician." in " ".join(lines)
    assert (home / "outbox.db").stat().st_mode & 0o077 == 0  # PHI: owner-only


def test_redact_reaches_the_note_and_phi_is_replaced(ehr_home, fhir_server, capsys, monkeypatch):
    from helpers import conversation_transcript

    from app.export.note import build_note

    asked = {}

    def load(name, engine=None, redact=False, base=None):
        asked["redact"] = redact
        doc = TranscriptDocument(conversation_transcript(), job_name=name, engine="local")
        return build_note(doc, NoteHeader(**HEADER), redact=redact)

    monkeypatch.setattr(send, "load_note", load)
    assert run(capsys, "settings", "--fhir-base-url", fhir_server.url)[0] == 0
    rc, out, _ = run(capsys, "send", "--medical-transcription-job-name", "phi-job", "--to", "fhir", "--redact")
    assert rc == 0 and asked["redact"] is True
    stored = fhir_server.get(json.loads(out)["ServerId"])
    text = base64.b64decode(stored["content"][0]["attachment"]["data"]).decode("utf-8")
    assert "[PHI" in text and "John Smith" not in text
