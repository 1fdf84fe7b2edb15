"""Live dictation in the recorder (issue 14): words while the clinician speaks, the job at Stop.
A real recording (jfk.flac) is played into the recorder's input at real-time pace; the real model."""

from __future__ import annotations

import functools

from helpers import AUDIO, JFK_TEXT, wer


def test_words_appear_while_dictating_and_the_job_is_ready_at_stop(make_window, qtbot):
    from app.audio.recording import FileInputStream

    w = make_window(restore=False)
    w.recorder.add_input("Sample speech (test input)", functools.partial(FileInputStream, AUDIO / "jfk.flac",
                                                                           speed=1.0))
    w.recorder.channels.setCurrentIndex(w.recorder.channels.findData(1))
    w.job_form.phi.setChecked(True)                       # the form's settings are the live job's
    live = w.recorder.live
    assert live.enabled.isChecked()
    w.recorder.start()
    qtbot.waitUntil(lambda: len(live.text.toPlainText().split()) >= 4, timeout=30000)   # while recording
    assert w.recorder.is_recording
    shown_early = live.text.toPlainText()
    qtbot.waitUntil(lambda: w.recorder.recorder.elapsed >= 11.0, timeout=30000)
    w.recorder.stop()
    qtbot.waitUntil(lambda: w.current_page() == "Transcript" and w.editor.doc is not None, timeout=30000)
    name = w.editor.job_name
    engine = w.ctx.engine("local")
    job = engine.get_medical_transcription_job(MedicalTranscriptionJobName=name)["MedicalTranscriptionJob"]
    assert job["TranscriptionJobStatus"] == "COMPLETED" and job["Type"] == "DICTATION"
    assert job["ContentIdentificationType"] == "PHI"
    results = engine.get_transcript(name)["results"]
    assert wer(JFK_TEXT, results["transcripts"][0]["transcript"]) < 0.2
    assert "entities" in results and all(i.get("start_time") for i in results["items"]
                                          if i["type"] == "pronunciation")
    assert engine.media_path(name).exists()                # the recording is kept with the job
    assert shown_early.split()[0].lower().strip(",.") in JFK_TEXT.lower()


CRASHING_APP = r"""
import functools, os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
sys.path.insert(0, sys.argv[2])
from pathlib import Path
from PySide6.QtWidgets import QApplication
from app.audio.recording import FileInputStream
from app.gui.main import create_app
from app.gui.window import MainWindow
app = create_app([])
w = MainWindow(Path(sys.argv[1]), restore=False)
w.recorder.add_input("file", functools.partial(FileInputStream, Path(sys.argv[3]), speed=1.0))
w.recorder.channels.setCurrentIndex(w.recorder.channels.findData(1))
w.recorder.start()
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.05)
    if list(Path(sys.argv[1], "recordings").glob("*.live.txt")):
        print("SETTLED", flush=True)
        break
time.sleep(30)   # killed here, mid-dictation
"""


def test_a_crash_mid_dictation_offers_back_the_recording_and_the_settled_words(make_window, home, qtbot,
                                                                                tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from helpers import ROOT

    script = tmp_path / "crash.py"
    script.write_text(CRASHING_APP)
    proc = subprocess.Popen([sys.executable, str(script), str(home), str(ROOT), str(AUDIO / "jfk.flac")],
                            stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert proc.stdout.readline().strip() == "SETTLED"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    kept = next((home / "recordings").glob("*.live.txt")).read_text()
    assert len(kept.split()) >= 2
    w = make_window(restore=False)
    qtbot.waitUntil(lambda: w.recorder.banner.isVisibleTo(w.recorder), timeout=10000)
    from PySide6.QtWidgets import QPushButton

    recover = next(b for b in w.recorder.banner.findChildren(QPushButton) if b.text() == "Recover")
    recover.click()
    assert kept in w.recorder.live.text.toPlainText()
    assert "interruption" in w.recorder.live.status.text()
    assert w.recorder.last_path is not None and w.recorder.last_path.exists()


def test_spoken_commands_show_as_the_note_will_have_them(make_window, qtbot, tmp_path):
    """While dictating, "colon", "period" and "new paragraph" show as the marks and the break the
    final note has, never as the words; what was shown at Stop is the note's text."""
    import re

    from app.audio.recording import FileInputStream
    from live.dictations import render

    wav = render("Allergies | <colon> || penicillin | <period> || <new paragraph> || "
                 "The patient is feeling much better today | <period>", tmp_path / "commands.wav",
                 voice="en-gb", speed=150)
    w = make_window(restore=False)
    w.recorder.add_input("Dictation (test input)", functools.partial(FileInputStream, wav, speed=1.0))
    w.recorder.channels.setCurrentIndex(w.recorder.channels.findData(1))
    live = w.recorder.live
    w.recorder.start()
    qtbot.waitUntil(lambda: w.recorder.recorder.elapsed >= 9.5, timeout=40000)
    w.recorder.stop()
    qtbot.waitUntil(lambda: w.current_page() == "Transcript" and w.editor.doc is not None, timeout=40000)
    shown = live.text.toPlainText()
    final = w.ctx.engine("local").get_transcript(w.editor.job_name)["results"]["transcripts"][0]["transcript"]
    words = lambda text: re.findall(r"[a-z]+", text.lower())  # noqa: E731
    assert "period" not in words(final) and "colon" not in words(final)   # the engine heard the commands
    assert words(shown) == words(final)                  # so the panel shows no command word either
    assert ":" in shown and "." in shown
    assert "\n" in shown.strip()                         # the paragraph break


def test_the_dictation_box_stays_on_top_and_stops_the_recording(make_window, qtbot):
    """Ticked, a small box above other windows shows the live words while dictating; its Stop makes
    the job like the recorder's own."""
    from PySide6.QtCore import Qt

    from app.audio.recording import FileInputStream

    w = make_window(restore=False)
    w.show()
    w.recorder.add_input("Sample speech (test input)", functools.partial(FileInputStream, AUDIO / "jfk.flac",
                                                                           speed=1.0))
    w.recorder.channels.setCurrentIndex(w.recorder.channels.findData(1))
    live = w.recorder.live
    live.on_top.setChecked(True)
    w.recorder.start()
    box = live.box
    assert box.isVisible() and box.windowFlags() & Qt.WindowStaysOnTopHint
    qtbot.waitUntil(lambda: len(box.text.toPlainText().split()) >= 4, timeout=30000)
    assert box.text.toPlainText().split()[0] in live.text.toPlainText()
    qtbot.waitUntil(lambda: box.elapsed.text() not in ("", "0:00"), timeout=5000)
    qtbot.waitUntil(lambda: w.recorder.recorder.elapsed >= 11.0, timeout=30000)
    box.stop_button.click()
    assert not w.recorder.is_recording and not box.isVisible()
    qtbot.waitUntil(lambda: w.current_page() == "Transcript" and w.editor.doc is not None, timeout=30000)
    text = w.ctx.engine("local").get_transcript(w.editor.job_name)["results"]["transcripts"][0]["transcript"]
    assert wer(JFK_TEXT, text) < 0.2
