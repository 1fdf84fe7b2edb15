"""An encrypted job in the app: the editor opens it with its key and keeps the edits encrypted."""

from __future__ import annotations

import uuid

import pytest
from PySide6.QtGui import QTextCursor

from app.core.document import edits_path
from app.engine.local import LocalEngine
from app.store import credentials
from app.store.kms import is_envelope
from helpers import job_request

keyring = pytest.importorskip("keyring")
from keyring.backends import fail, null  # noqa: E402

pytestmark = pytest.mark.skipif(isinstance(keyring.get_keyring(), (fail.Keyring, null.Keyring)),
                                reason="no OS keyring backend here: run via scripts/test.sh")


def test_an_encrypted_transcript_opens_and_its_edits_stay_encrypted(make_window, home, jfk, qtbot, monkeypatch):
    monkeypatch.setattr(credentials, "SERVICE_NAME", f"ClinScribe-test-{uuid.uuid4().hex[:8]}")
    engine = LocalEngine(base=home)
    uri = engine.put_media(jfk, key="kms/jfk.flac")
    engine.start_medical_transcription_job(**job_request("kms-gui", uri, OutputEncryptionKMSKeyId="alias/notes",
                                                         KMSEncryptionContext={"ward": "3"}))
    assert engine.wait("kms-gui", poll=0.2, timeout=300)["TranscriptionJobStatus"] == "COMPLETED"
    w = make_window(restore=False)
    w.editor.open_job("local", "kms-gui")
    qtbot.waitUntil(lambda: w.editor.doc is not None and w.editor.doc.job_name == "kms-gui", timeout=20000)
    te = w.editor.turn_widgets[0].text
    assert "ask not what your country" in te.toPlainText()
    te.setFocus()
    te.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(te, " Zanzibar")
    qtbot.waitUntil(lambda: "Zanzibar" in w.editor.doc.turn_text(0), timeout=3000)
    saved = edits_path(home, "local", "kms-gui")
    qtbot.waitUntil(saved.exists, timeout=3000)
    data = saved.read_bytes()
    assert is_envelope(data) and b"Zanzibar" not in data
