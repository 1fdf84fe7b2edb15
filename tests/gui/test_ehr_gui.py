"""Issue 12 in the desktop app (real widgets, offscreen): Export… (DOCX read back with python-docx),
the clipboard, Note details, and Send to EHR against the real FHIR server, the fault proxy and the
MLLP listener of tests/ehr."""

from __future__ import annotations

import base64
import copy
import io
import json
import os
import sqlite3
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QApplication

from app.core.document import TranscriptDocument
from app.ehr.outbox import FAILED, SENT, Outbox
from app.export.note import NoteHeader, load_header, save_header
from helpers import DATA

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ehr"))
from ehrservers import fhir_server, mllp, proxy  # noqa: E402,F401  (the real servers' fixtures)

SAMPLE = DATA / "aws-samples" / "03-speaker-identification.json"
JOB = "aws-sample-visit"
HEADER = dict(patient_id="MRN-004211", patient_id_system="urn:oid:2.16.840.1.113883.3.7418.2.1",
              patient_name="Garcia-O'Neil, María José", patient_birth_date="1961-07-14", encounter_id="ENC-88120",
              author_name="Okafor, Chidi", author_id="1234567893", organization="Riverside Family Practice",
              service_date="2026-12-01")
URI = "urn:ietf:rfc:3986"




def phi_sample() -> dict:
    """The real AWS speaker sample with "village" marked as PHI (the sample itself has no entities)."""
    if not SAMPLE.exists():
        pytest.skip(f"{SAMPLE} is not available")
    sample = copy.deepcopy(json.loads(SAMPLE.read_text(encoding="utf-8")))
    found = [it for it in sample["results"]["items"] if it["alternatives"][0]["content"].lower() == "village"]
    sample["results"]["entities"] = [{"start_time": float(it["start_time"]), "end_time": float(it["end_time"]),
                                      "category": "PHI-Geographic", "content": "village", "confidence": 0.9}
                                     for it in found]
    return sample


@pytest.fixture()
def opened(make_window, home):
    """The main window with the sample open in the editor."""
    w = make_window(restore=False)
    w.editor.set_document(TranscriptDocument.open(phi_sample(), home, "aws", JOB), None)
    w.show_page("Transcript")
    return w, w.editor


def type_at_end(qtbot, ed, text: str) -> None:
    """Type into the last turn; the edit is still pending (debounced) when this returns."""
    last = ed.turn_widgets[-1].text
    last.setFocus()
    last.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(last, text)


def set_settings(w, **values) -> None:
    w.ctx.apply_settings(replace(w.ctx.settings, **values))


def docx_text(path: Path) -> tuple[str, dict]:
    import docx

    document = docx.Document(io.BytesIO(path.read_bytes()))
    table = {row.cells[0].text: row.cells[1].text for t in document.tables for row in t.rows}
    body = "\n".join(p.text for p in document.paragraphs)
    return body, table


def export_to(qtbot, dialog, path: Path, fmt: str = "docx") -> str:
    dialog.format.setCurrentIndex(dialog.format.findData(fmt))
    qtbot.waitUntil(dialog.export_button.isEnabled, timeout=5000)
    dialog.path.setText(str(path))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.written == path or "Not exported" in dialog.message.text(), timeout=20000)
    return dialog.message.text()


# -- export and clipboard -------------------------------------------------------------------
def test_export_docx_from_the_dialog_has_the_edit_and_the_redacted_one_no_phi(opened, home, qtbot, tmp_path):
    w, ed = opened
    save_header(home, "aws", JOB, NoteHeader(**HEADER))
    type_at_end(qtbot, ed, " Amoxicillin")  # not yet committed: Export commits it
    ed.export_button.click()
    dialog = ed.export_dialog
    [export_action] = [a for a in w.actions() if a.text() == "&Export…"]
    export_action.trigger()  # Ctrl+E again: the same dialog, brought forward
    assert ed.export_dialog is dialog
    assert sorted(dialog.format.itemData(i) for i in range(dialog.format.count())) == sorted(
        __import__("app.export", fromlist=["FORMATS"]).FORMATS)
    assert Path(dialog.path.text()).name == f"{JOB}.docx"  # neutral: the job's name
    out = tmp_path / "note.docx"
    message = export_to(qtbot, dialog, out)
    assert message.startswith(f"Wrote {out} (Word document, ") and dialog.message.property("role") == "hint"
    assert os.stat(out).st_mode & 0o777 == 0o600
    body, table = docx_text(out)
    assert "Amoxicillin" in body and "village" in body
    assert table["Patient"] == HEADER["patient_name"] and table["MRN"] == HEADER["patient_id"]
    assert "reviewed by Okafor, Chidi" in " ".join(
        p.text for p in __import__("docx").Document(str(out)).sections[0].footer.paragraphs)

    dialog.redact.setChecked(True)
    dialog.redact_header.setChecked(True)
    redacted = tmp_path / "note-redacted.docx"
    export_to(qtbot, dialog, redacted)
    body, table = docx_text(redacted)
    assert "Amoxicillin" in body and "[PHI-Geographic]" in body
    everything = body + json.dumps(table, ensure_ascii=False)
    for phi in ("village", "Garcia", "MRN-004211", "1961-07-14"):
        assert phi not in everything
    assert ed.doc.turn_text(len(ed.turn_widgets) - 1).endswith(" Amoxicillin")  # the edit is saved too

    bad = tmp_path / "no-such-folder" / "x.docx"
    assert "Not exported: there is no folder" in export_to(qtbot, dialog, bad)
    assert dialog.message.property("role") == "error"


def test_copy_to_clipboard_has_text_and_html(opened, home, qtbot):
    w, ed = opened
    type_at_end(qtbot, ed, " Amoxicillin")
    ed.export_button.click()
    dialog = ed.export_dialog
    qtbot.waitUntil(dialog.copy_button.isEnabled, timeout=5000)
    dialog.copy_button.click()
    mime = QApplication.clipboard().mimeData()
    assert mime.hasText() and mime.hasHtml()
    assert mime.text().endswith("Amoxicillin") and "Speaker 1: " in mime.text()
    assert "<p><b>Speaker 1:</b> " in mime.html() and "Amoxicillin</p>" in mime.html()

    QApplication.clipboard().clear()
    [copy_action] = [a for a in w.actions() if a.text() == "&Copy note to clipboard"]
    assert copy_action.shortcut().toString() == "Ctrl+Shift+C"
    ed.redact.setChecked(True)  # the menu copies what the editor shows: here redacted
    copy_action.trigger()
    qtbot.waitUntil(lambda: (QApplication.clipboard().mimeData() or QMimeData()).hasHtml(), timeout=5000)
    mime = QApplication.clipboard().mimeData()
    assert "[PHI-Geographic]" in mime.text() and "village" not in mime.text() + mime.html()


def test_actions_without_a_transcript_say_so(make_window, qtbot):
    w = make_window(restore=False)
    names = {"&Export…": "Ctrl+E", "&Copy note to clipboard": "Ctrl+Shift+C", "&Send to EHR…": "Ctrl+Shift+E",
             "Note &details…": ""}
    actions = {a.text(): a for a in w.actions() if a.text() in names}
    assert {t: a.shortcut().toString() for t, a in actions.items()} == names
    for action in actions.values():
        w.statusBar().clearMessage()
        action.trigger()
        assert w.statusBar().currentMessage() == "Open a transcript first."
    assert not hasattr(w.editor, "export_dialog")


# -- note details ----------------------------------------------------------------------------
def test_note_details_saved_reloaded_with_settings_defaults_and_problems(opened, home, qtbot):
    w, ed = opened
    sv = w.settings_view
    sv.note_author.setText("Okafor, Chidi")
    sv.note_author_id.setText("1234567893")
    sv.note_organization.setText("Riverside Family Practice")
    assert sv.save()
    ed.note_actions.details_action.trigger()
    dialog = ed.note_details_dialog
    qtbot.waitUntil(lambda: dialog.loaded, timeout=5000)
    form = dialog.form
    assert form.fields["author_name"].text() == "Okafor, Chidi" and form.fields["author_id"].text() == "1234567893"
    assert form.fields["organization"].text() == "Riverside Family Practice"
    assert form.note_type.currentData() == "11506-3" and not form.preliminary.isChecked()  # Progress note, final

    qtbot.keyClicks(form.fields["patient_birth_date"], "1961-13-40")
    assert form.problems_label.isVisible() and form.problems_label.property("role") == "error"
    assert "is not a real date" in form.problems_label.text()
    assert not dialog.save_button.isEnabled()
    form.fields["patient_birth_date"].setText("14/07/1961")
    assert "is not a date like 1961-04-23" in form.problems_label.text()
    for name, value in HEADER.items():
        form.fields[name].setText(value)
    form.note_type.setCurrentIndex(form.note_type.findData("11488-4"))
    form.preliminary.setChecked(True)
    assert not form.problems_label.isVisible() and dialog.save_button.isEnabled()
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.message.text() == "Saved.", timeout=5000)
    saved = load_header(home, "aws", JOB)
    assert saved == NoteHeader(**HEADER, note_type="11488-4", status="preliminary")
    dialog.close()

    ed.note_actions.details_action.trigger()  # a new dialog shows what was saved
    again = ed.note_details_dialog
    assert again is not dialog
    qtbot.waitUntil(lambda: again.loaded, timeout=5000)
    assert again.form.header() == saved


def test_note_details_of_an_encrypted_job_are_sealed(make_window, home, qtbot):
    from app.store.kms import LocalKms, Sealer

    kms = LocalKms(home)
    key_id = kms.ensure_key("alias/notes")  # in the real OS keyring of scripts/test.sh
    sealer = Sealer(kms, key_id, {"job": JOB})
    w = make_window(restore=False)
    w.editor.set_document(TranscriptDocument.open(phi_sample(), home, "aws", JOB, sealer=sealer), None)
    dialog = w.editor.note_actions.details()
    qtbot.waitUntil(lambda: dialog.loaded, timeout=5000)
    for name, value in HEADER.items():
        dialog.form.fields[name].setText(value)
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.message.text() == "Saved.", timeout=5000)
    from app.export.note import header_path

    raw = header_path(home, "aws", JOB).read_bytes()
    assert b"MRN-004211" not in raw and Sealer.is_sealed(raw)
    assert load_header(home, "aws", JOB, sealer=sealer).patient_id == "MRN-004211"


# -- send to the EHR -------------------------------------------------------------------------
def stored(fhir_server, row) -> list[dict]:
    return fhir_server.search("DocumentReference", identifier=f"{URI}|{row.document_id}")


def send_now(qtbot, ed, kind: str | None = None):
    ed.note_actions.send_action.trigger()
    dialog = ed.send_dialog
    if kind:
        dialog.kind.setCurrentIndex(dialog.kind.findData(kind))
    qtbot.waitUntil(dialog.send_button.isEnabled, timeout=5000)
    before = dialog.message.text()
    dialog.send_button.click()
    qtbot.waitUntil(lambda: dialog.message.text() not in (before, "Sending…"), timeout=30000)
    return dialog


def test_send_to_the_real_fhir_server(opened, home, qtbot, fhir_server):
    w, ed = opened
    set_settings(w, fhir_base_url=fhir_server.url)
    save_header(home, "aws", JOB, NoteHeader(**HEADER))
    type_at_end(qtbot, ed, " Amoxicillin")
    dialog = send_now(qtbot, ed)
    assert [dialog.kind.itemData(i) for i in range(dialog.kind.count())] == ["fhir"]  # HL7 is not set up
    row = dialog.row
    assert row.status == SENT and row.server_id.startswith("DocumentReference/")
    assert dialog.message.text().startswith("Sent to the EHR at ") and f"({row.server_id})" in dialog.message.text()
    assert not dialog.retry_button.isVisible()
    [resource] = stored(fhir_server, row)
    text = base64.b64decode(resource["content"][0]["attachment"]["data"]).decode("utf-8")
    assert text.endswith("Amoxicillin")  # what the editor shows, the pending edit included
    assert resource["subject"]["identifier"]["value"] == "MRN-004211"
    qtbot.waitUntil(lambda: ed.note_actions.status.text().startswith("EHR: sent to EHR "), timeout=5000)

    dialog.redact.setChecked(True)  # sent again, redacted: it replaces the first one
    dialog.send_button.click()
    qtbot.waitUntil(lambda: dialog.row.id != row.id and dialog.message.text().startswith("Sent"), timeout=30000)
    [second] = stored(fhir_server, dialog.row)
    text = base64.b64decode(second["content"][0]["attachment"]["data"]).decode("utf-8")
    assert "[PHI-Geographic]" in text and "village" not in text and text.endswith("Amoxicillin")
    assert second["relatesTo"][0]["code"] == "replaces"
    assert second["relatesTo"][0]["target"]["reference"] == row.server_id


def test_send_through_the_fault_proxy_fails_is_kept_and_retry_delivers_once(opened, home, qtbot, fhir_server,
                                                                           proxy):
    w, ed = opened
    set_settings(w, fhir_base_url=proxy.url)
    save_header(home, "aws", JOB, NoteHeader(**HEADER))
    proxy.faults = [503] * 5  # every attempt of the client's own retries
    dialog = send_now(qtbot, ed)
    assert dialog.message.text() == ("Failed: " + dialog.row.last_error + " — kept in the outbox; Retry.")
    assert "503" in dialog.row.last_error and dialog.message.property("role") == "error"
    assert dialog.retry_button.isVisible()
    [row] = Outbox.open(home).list(JOB, "aws")
    assert row.status == FAILED and row.next_attempt is not None
    assert stored(fhir_server, row) == []
    qtbot.waitUntil(lambda: ed.note_actions.status.text().startswith("EHR: failed: "), timeout=5000)

    dialog.retry_button.click()
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Sent to the EHR at "), timeout=30000)
    assert Outbox.open(home).get(row.id).status == SENT and not dialog.retry_button.isVisible()
    assert len(stored(fhir_server, row)) == 1
    dialog.retry_button.click()  # hidden, but a second click does not send it twice
    qtbot.wait(300)
    assert len(stored(fhir_server, row)) == 1


def test_the_app_wide_timer_retries_what_is_due(opened, home, qtbot, fhir_server, proxy):
    w, ed = opened
    set_settings(w, fhir_base_url=proxy.url)
    save_header(home, "aws", JOB, NoteHeader(**HEADER))
    proxy.faults = [503] * 5
    dialog = send_now(qtbot, ed)
    row = dialog.row
    assert row.status == FAILED
    assert w.outbox_retrier.timer.isActive() and w.outbox_retrier.timer.interval() == 60_000
    with sqlite3.connect(home / "outbox.db") as db:  # its wait is over
        db.execute("UPDATE sends SET next_attempt = 0 WHERE id = ?", (row.id,))
    w.outbox_retrier.timer.timeout.emit()
    qtbot.waitUntil(lambda: Outbox.open(home).get(row.id).status == SENT, timeout=30000)
    qtbot.waitUntil(lambda: ed.note_actions.status.text().startswith("EHR: sent to EHR "), timeout=5000)
    assert len(stored(fhir_server, row)) == 1
    w.close()
    assert not w.outbox_retrier.timer.isActive()  # it stops with its window


def test_hl7_to_the_mllp_listener(opened, home, qtbot, fhir_server, mllp):
    w, ed = opened
    set_settings(w, fhir_base_url=fhir_server.url, mllp_host="127.0.0.1", mllp_port=mllp.port)
    save_header(home, "aws", JOB, NoteHeader(**HEADER))
    mllp.behaviours = [("AE", "Unknown patient")]
    dialog = send_now(qtbot, ed, "hl7")
    assert [dialog.kind.itemData(i) for i in range(dialog.kind.count())] == ["fhir", "hl7"]
    assert dialog.message.text().startswith("Failed: ") and "Unknown patient" in dialog.message.text()
    dialog.retry_button.click()
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Sent to the EHR at "), timeout=30000)
    assert len(mllp.received) == 2 and "MDM^T02" in mllp.received[-1]


def test_a_note_without_a_patient_identifier_is_refused(opened, home, qtbot, fhir_server):
    w, ed = opened
    set_settings(w, fhir_base_url=fhir_server.url)
    save_header(home, "aws", JOB, NoteHeader(**{**HEADER, "patient_id": ""}))
    dialog = send_now(qtbot, ed)
    assert dialog.message.text().startswith("Not sent: The note has no patient identifier (MRN)")
    assert dialog.message.property("role") == "error"
    assert Outbox.open(home).list(JOB, "aws") == []
    dialog.details_button.click()  # offered: Note details, and what it saves is what is sent next
    details = ed.note_details_dialog
    qtbot.waitUntil(lambda: details.loaded, timeout=5000)
    details.form.fields["patient_id"].setText("MRN-004211")
    details.save_button.click()
    qtbot.waitUntil(lambda: dialog.header is not None and dialog.header.patient_id == "MRN-004211", timeout=5000)
    dialog.send_button.click()
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Sent to the EHR at "), timeout=30000)


def test_send_says_what_to_set_when_no_ehr_is_set_up(opened, qtbot):
    w, ed = opened
    ed.note_actions.send_action.trigger()
    dialog = ed.send_dialog
    assert dialog.kind.count() == 0 and not dialog.send_button.isEnabled()
    assert "In Settings ▸ Notes and EHR" in dialog.message.text() and dialog.message.property("role") == "error"
    sv = w.settings_view  # and there they are
    sv.fhir_base_url.setText("fhir.clinic.example")
    assert not sv.save() and "https://" in sv.status.text()
    sv.fhir_base_url.setText("https://fhir.clinic.example/r4")
    sv.mllp_host.setText("hl7.clinic.example")
    sv.mllp_port.setValue(6661)
    sv.mllp_tls.setChecked(True)
    assert sv.save()
    s = w.ctx.settings
    assert (s.fhir_base_url, s.mllp_host, s.mllp_port, s.mllp_tls) == ("https://fhir.clinic.example/r4",
                                                                      "hl7.clinic.example", 6661, True)


def test_an_encrypted_local_job_from_open_to_the_fhir_server(make_window, home, jfk, qtbot, fhir_server,
                                                             monkeypatch, tmp_path):
    """A real local job with a KMS key, opened as the app opens it: its note details are sealed, the
    note sent is the edited one dated when the job was made, and its outbox payload is sealed."""
    import uuid

    from app.engine.local import LocalEngine
    from app.export.note import header_path
    from app.store import credentials
    from app.store.kms import is_envelope
    from helpers import job_request

    monkeypatch.setattr(credentials, "SERVICE_NAME", f"ClinScribe-test-{uuid.uuid4().hex[:8]}")
    engine = LocalEngine(base=home)
    uri = engine.put_media(jfk, key="kms/jfk.flac")
    engine.start_medical_transcription_job(**job_request("ehr-gui", uri, OutputEncryptionKMSKeyId="alias/notes",
                                                         KMSEncryptionContext={"ward": "3"}))
    job = engine.wait("ehr-gui", poll=0.2, timeout=300)
    assert job["TranscriptionJobStatus"] == "COMPLETED"
    w = make_window(restore=False)
    set_settings(w, fhir_base_url=fhir_server.url)
    ed = w.editor
    ed.open_job("local", "ehr-gui")
    qtbot.waitUntil(lambda: ed.doc is not None and ed.doc.job_name == "ehr-gui", timeout=20000)
    assert ed.doc.sealer is not None
    type_at_end(qtbot, ed, " Zanzibar")

    [details_action] = [a for a in w.actions() if a.text() == "Note &details…"]
    details_action.trigger()
    details = ed.note_details_dialog
    qtbot.waitUntil(lambda: details.loaded, timeout=5000)
    for name, value in HEADER.items():
        if name != "service_date":  # none: the note is dated when the job was made
            details.form.fields[name].setText(value)
    details.save_button.click()
    qtbot.waitUntil(lambda: details.message.text() == "Saved.", timeout=5000)
    raw = header_path(home, "local", "ehr-gui").read_bytes()
    assert is_envelope(raw) and b"MRN-004211" not in raw

    import datetime as dt

    made = job["CreationTime"].astimezone()  # sent well after it: the note's date is the job's, not now
    qtbot.waitUntil(lambda: (dt.datetime.now().astimezone() - made).total_seconds() > 4, timeout=10000)
    [send_action] = [a for a in w.actions() if a.text() == "&Send to EHR…"]
    send_action.trigger()
    dialog = ed.send_dialog
    qtbot.waitUntil(dialog.send_button.isEnabled, timeout=5000)
    dialog.send_button.click()
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Sent to the EHR at "), timeout=30000)
    [resource] = stored(fhir_server, dialog.row)
    text = base64.b64decode(resource["content"][0]["attachment"]["data"]).decode("utf-8")
    assert "ask not what your country" in text and text.endswith("Zanzibar")
    sent_date = dt.datetime.fromisoformat(resource["date"].replace("Z", "+00:00"))
    assert abs((sent_date - made).total_seconds()) < 1.5
    payload = Outbox.open(home).get(dialog.row.id).payload
    assert payload.startswith("sealed:") and "Zanzibar" not in payload

    ed.export_button.click()
    out = tmp_path / "jfk.docx"
    export_to(qtbot, ed.export_dialog, out)
    body, table = docx_text(out)
    assert "Zanzibar" in body and table["Date of service"] == job["CreationTime"].astimezone().strftime(
        "%Y-%m-%d %H:%M")


@pytest.mark.parametrize("fmt", ["fhir", "hl7", "srt", "vtt", "aws-json", "pdf", "html", "text"])
def test_every_format_exports_from_the_dialog(opened, home, qtbot, tmp_path, fmt):
    """Each format of the dialog writes a file (the FHIR and HL7 ones once crashed on layout options)."""
    from app.export import FORMATS

    w, ed = opened
    save_header(home, "aws", JOB, NoteHeader(**HEADER))
    ed.export_button.click()
    out = tmp_path / f"note{FORMATS[fmt].extension}"
    message = export_to(qtbot, ed.export_dialog, out, fmt)
    assert message.startswith(f"Wrote {out}"), message
    data = out.read_bytes()
    assert data and (b"village" in data or fmt == "pdf" or fmt == "fhir")
    if fmt == "fhir":
        assert b"village" in __import__("base64").b64decode(json.loads(data)["content"][0]["attachment"]["data"])
