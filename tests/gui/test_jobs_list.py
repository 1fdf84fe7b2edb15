"""The jobs list a clinician works from: what each row says, search, "job finished" notices, 1024×700.

Three real local jobs on jfk.flac are made once for the module (a dictation, a conversation and an
encrypted dictation whose key is then not on this computer); the tests open windows over them.
"""

from __future__ import annotations

import re
import uuid

import pytest
from PySide6.QtCore import Qt

from app.engine.local import LocalEngine
from app.store import credentials
from helpers import job_request

keyring = pytest.importorskip("keyring")
from keyring.backends import fail, null  # noqa: E402

REAL_KEYRING = not isinstance(keyring.get_keyring(), (fail.Keyring, null.Keyring))
JOB_TIMEOUT_S = 300


class Jobs:
    """The module's home, its jobs (submitted, maybe not finished) and how to wait for them."""

    def __init__(self, home, engine, names, patch):
        self.home, self.engine, self.names, self.patch = home, engine, names, patch
        self.done = False

    def wait(self):
        if not self.done:
            for name in self.names:
                job = self.engine.wait(name, poll=0.3, timeout=JOB_TIMEOUT_S)
                assert job["TranscriptionJobStatus"] == "COMPLETED", job
            self.done = True
        if "sealed-note" in self.names:   # from now on this computer has not the key of sealed-note
            self.patch.setattr(credentials, "SERVICE_NAME", f"ClinScribe-test-{uuid.uuid4().hex[:8]}")
        return self


@pytest.fixture(scope="module")
def started(tmp_path_factory, jfk_module):
    patch = pytest.MonkeyPatch()
    patch.setattr(credentials, "SERVICE_NAME", f"ClinScribe-test-{uuid.uuid4().hex[:8]}")
    home = tmp_path_factory.mktemp("jobs-list-home")
    engine = LocalEngine(base=home)
    uri = engine.put_media(jfk_module, key="jobs/jfk.flac")
    engine.start_medical_transcription_job(**job_request("ward-round-note", uri))
    engine.start_medical_transcription_job(**job_request("consult-two", uri, Type="CONVERSATION"))
    names = ["ward-round-note", "consult-two"]
    if REAL_KEYRING:
        engine.start_medical_transcription_job(**job_request("sealed-note", uri,
                                                             OutputEncryptionKMSKeyId="alias/jobs-list"))
        names.append("sealed-note")
    yield Jobs(home, engine, names, patch)
    engine.close()
    patch.undo()


@pytest.fixture(scope="module")
def jfk_module():
    from helpers import AUDIO
    return AUDIO / "jfk.flac"


@pytest.fixture()
def window(qtbot):
    from app.gui.main import create_app
    from app.gui.window import MainWindow
    from app.gui.workers import wait_idle

    create_app([])
    made = []

    def make(home):
        w = MainWindow(home, restore=False)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        w.show_page("Jobs")
        made.append(w)
        return w

    yield make
    for w in made:
        w.jobs.timer.stop()
    wait_idle(10000)


def cell(w, name, column):
    for r in range(w.jobs.table.rowCount()):
        if w.jobs.table.item(r, 0).text() == name:
            return w.jobs.table.item(r, w.jobs.column(column)).text()
    raise AssertionError(f"no row for {name}")


def shown(w):
    return sorted(w.jobs.table.item(r, 0).text() for r in range(w.jobs.table.rowCount()))


def test_a_notice_is_raised_when_a_job_completes_or_fails(started, window, qtbot, tmp_path):
    if started.done:
        pytest.skip("the module's jobs have finished already: this test must run first in the module")
    w = window(started.home)   # opened while the module's jobs are still queued or running
    qtbot.waitUntil(lambda: len(w.jobs.jobs) >= len(started.names), timeout=20000)
    assert any(j["TranscriptionJobStatus"] != "COMPLETED" for j in w.jobs.jobs), "jobs finished too soon"
    assert w.jobs.notifications == []         # nothing had finished yet: no notice at the first look
    started.wait()
    qtbot.waitUntil(lambda: len(w.jobs.notifications) >= len(started.names), timeout=20000)
    for name in started.names:
        assert f"Job {name} is completed: its transcript is ready." in w.jobs.notifications
    last = w.jobs.notifications[-1]
    assert w.statusBar().currentMessage() == last    # said in the window (no system tray offscreen)
    assert w.jobs.status.text() == last

    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF....WAVEnot really")
    form = w.job_form
    form.media_uri.setText(bad.as_uri())
    form.name.setText("broken-visit")
    qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any("broken-visit failed" in n for n in w.jobs.notifications), timeout=60000)
    assert "Job broken-visit failed: Unsupported media format." in w.jobs.notifications
    assert "broken-visit failed" in w.statusBar().currentMessage()
    assert w.jobs.notifications.count("Job ward-round-note is completed: its transcript is ready.") == 1
    w.jobs.confirm_delete = lambda name: True
    assert w.jobs.select("local", "broken-visit")
    qtbot.mouseClick(w.jobs.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.jobs.job("local", "broken-visit") is None, timeout=10000)


def test_rows_show_duration_type_engine_and_the_first_words(started, window, qtbot):
    started.wait()
    w = window(started.home)
    qtbot.waitUntil(lambda: bool(cell_or_none(w, "consult-two", "Transcript")), timeout=20000)
    headers = [w.jobs.table.horizontalHeaderItem(c).text() for c in range(w.jobs.table.columnCount())]
    assert {"Duration", "Type", "Engine", "Transcript", "Status"} <= set(headers)
    assert cell(w, "ward-round-note", "Type") == "Dictation"
    assert cell(w, "consult-two", "Type") == "Conversation"
    assert cell(w, "ward-round-note", "Engine") == "Local"
    assert re.fullmatch(r"0:1\d", cell(w, "ward-round-note", "Duration")), cell(w, "ward-round-note", "Duration")
    first = cell(w, "ward-round-note", "Transcript")
    assert first.lower().startswith("and so my fellow americans") and first.endswith("…")
    assert len(first.split()) <= 12
    if "sealed-note" in started.names:
        # its key is not on this computer: no words, no error, and the rest of the row as usual
        assert cell(w, "sealed-note", "Transcript") == ""
        assert cell(w, "sealed-note", "Status") == "Completed"
        assert re.fullmatch(r"0:1\d", cell(w, "sealed-note", "Duration"))   # from the media file
        assert not w.jobs.problem.isVisible()


def cell_or_none(w, name, column):
    try:
        return cell(w, name, column)
    except AssertionError:
        return None


def test_search_finds_jobs_by_name_and_by_what_was_said(started, window, qtbot):
    started.wait()
    w = window(started.home)
    qtbot.waitUntil(lambda: bool(cell_or_none(w, "consult-two", "Transcript")), timeout=20000)
    qtbot.keyClicks(w.jobs.filter, "americans")          # in no job's name, only in what was said
    readable = sorted(n for n in started.names if n != "sealed-note")
    assert shown(w) == readable
    w.jobs.filter.clear()
    qtbot.keyClicks(w.jobs.filter, "ward round")          # words of a name, in any order
    assert shown(w) == ["ward-round-note"]
    w.jobs.filter.setText("country consult")              # a name word and a transcript word together
    assert shown(w) == ["consult-two"]
    w.jobs.filter.setText("appendicitis")
    assert shown(w) == []
    w.jobs.filter.clear()
    assert shown(w) == sorted(started.names)
    qtbot.wait(1500)                                      # later polls keep the search and the cache
    w.jobs.filter.setText("americans")
    assert shown(w) == readable


def test_at_1024_by_700_the_status_column_is_in_view_without_scrolling(started, window, qtbot):
    w = window(started.home)
    w.resize(1024, 700)
    qtbot.waitUntil(lambda: w.width() == 1024 and w.height() == 700, timeout=3000)
    qtbot.waitUntil(lambda: w.jobs.table.rowCount() >= len(started.names), timeout=20000)
    started.wait()
    qtbot.waitUntil(lambda: bool(cell_or_none(w, "consult-two", "Transcript")), timeout=20000)
    qtbot.wait(200)
    table = w.jobs.table
    header = table.horizontalHeader()
    status = w.jobs.column("Status")
    left = header.sectionViewportPosition(status)
    assert 0 <= left and left + header.sectionSize(status) <= table.viewport().width()
    assert table.horizontalScrollBar().maximum() == 0, "the table needs sideways scrolling"
    assert header.sectionSize(w.jobs.column("Job")) >= 80


def test_with_a_system_tray_the_notice_is_a_desktop_notification_too(make_window, monkeypatch):
    from PySide6.QtWidgets import QSystemTrayIcon

    shown_messages = []
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    monkeypatch.setattr(QSystemTrayIcon, "supportsMessages", staticmethod(lambda: True))
    monkeypatch.setattr(QSystemTrayIcon, "showMessage",
                        lambda self, title, text, *rest: shown_messages.append((title, text)))
    w = make_window(restore=False)
    w.jobs._statuses = {("local", "visit-7"): "IN_PROGRESS"}    # seen running at the last poll
    w.jobs.jobs = [{"engine": "local", "MedicalTranscriptionJobName": "visit-7",
                    "TranscriptionJobStatus": "COMPLETED"}]
    w.jobs._announce_finished()
    assert shown_messages == [("Transcript ready", "Job visit-7 is completed: its transcript is ready.")]
    assert w.jobs._tray is not None and w.jobs._tray.isVisible()
    assert w.statusBar().currentMessage() == "Job visit-7 is completed: its transcript is ready."
    w.jobs._tray.hide()
