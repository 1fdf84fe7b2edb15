"""Job form, jobs view, recorder, settings and vocabularies, window state and accessibility."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QLineEdit, QPlainTextEdit, QSpinBox, QTextEdit

from app.audio import recording
from app.core.config import Settings


def test_job_form_presets_defaults_and_live_validation(make_window):
    w = make_window(restore=False)
    form = w.job_form
    assert form.language.currentText() == "en-US" and form.specialty.currentData() == "PRIMARYCARE"
    assert form.name.text().startswith("clinscribe-")
    assert [form.engine.itemData(i) for i in range(form.engine.count())] == ["local", "aws"]
    assert not form.submit_button.isEnabled()                    # no audio yet
    form.media_uri.setText("s3://clinical-audio/visit.wav")
    assert form.submit_button.isEnabled() and not form.errors

    form.preset.setCurrentText("Conversation, 2 speakers")
    p = form.params()
    assert p["Type"] == "CONVERSATION" and p["Settings"] == {"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2}
    form.preset.setCurrentText("Two-channel recording")
    assert form.params()["Settings"] == {"ChannelIdentification": True}
    form.preset.setCurrentText("Dictation")
    assert form.params()["Type"] == "DICTATION" and "Settings" not in form.params()

    form.who_speakers.setChecked(True)
    assert form.preset.currentText() == "Custom"
    form.max_speakers.setValue(1)
    assert (not form.labels["speakers"].isHidden()) and "MaxSpeakerLabels" in form.labels["speakers"].text()
    assert not form.submit_button.isEnabled()
    form.max_speakers.setValue(31)
    assert "less than or equal to 30" in form.labels["speakers"].text()
    form.max_speakers.setValue(3)
    assert not (not form.labels["speakers"].isHidden()) and form.submit_button.isEnabled()

    form.bucket.setText("Bad_Bucket")
    assert "outputBucketName" in form.labels["bucket"].text()
    form.bucket.setText("clinscribe-out")
    form.language.setCurrentText("en-GB")
    assert "isn't supported for medical transcription" in form.labels["language"].text()
    form.language.setCurrentText("en-US")
    form.context.setText("dept=cardio")
    assert "OutputEncryptionKMSKeyId" in form.labels["context"].text()
    form.kms.setText("alias/clinic")
    assert not (not form.labels["context"].isHidden())
    form.add_tag("aws:owner", "x")
    assert "reserved" in form.labels["tags"].text()
    form.tags.item(0, 0).setText("owner")
    form.show_alternatives.setChecked(True)
    form.max_alternatives.setValue(11)
    assert "less than or equal to 10" in form.labels["alternatives"].text()
    form.max_alternatives.setValue(4)
    form.phi.setChecked(True)
    assert form.submit_button.isEnabled()
    p = form.params()
    assert p["Tags"] == [{"Key": "owner", "Value": "x"}] and p["ContentIdentificationType"] == "PHI"
    assert p["Settings"]["MaxAlternatives"] == 4 and p["KMSEncryptionContext"] == {"dept": "cardio"}


def test_failed_job_rerun_and_delete(make_window, tmp_path, qtbot):
    w = make_window(restore=False)
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF....WAVEnot really")
    form = w.job_form
    form.media_uri.setText(bad.as_uri())           # typed by hand: the engine decides
    form.name.setText("broken-visit")
    form.phi.setChecked(True)
    qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (w.jobs.job("local", "broken-visit") or {}).get("TranscriptionJobStatus") == "FAILED",
                    timeout=60000)
    assert w.jobs.select("local", "broken-visit")
    row = w.jobs.table.currentRow()
    assert w.jobs.table.item(row, w.jobs.column("Status")).text() == "Failed"
    assert w.jobs.table.item(row, w.jobs.column("Transcript")).text() == "Unsupported media format"
    assert w.jobs.table.item(row, w.jobs.column("Created")).text()     # created time shown
    assert not w.jobs.open_button.isEnabled() and w.jobs.delete_button.isEnabled()

    # a second submission with the same name is refused with AWS's message (the form starts clean)
    assert form.media_uri.text() == "" and not form.phi.isChecked()
    form.media_uri.setText(bad.as_uri())
    form.name.setText("broken-visit")
    qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (not form.labels["name"].isHidden()), timeout=10000)
    assert "already exists" in form.labels["name"].text()

    qtbot.mouseClick(w.jobs.rerun_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.current_page() == "New job", timeout=10000)
    assert form.name.text().startswith("broken-visit-") and form.phi.isChecked()

    w.show_page("Jobs")
    w.jobs.select("local", "broken-visit")
    from app.export.note import NoteHeader, header_path, save_header

    save_header(w.ctx.home, "local", "broken-visit", NoteHeader(patient_name="Smith, John"))
    w.jobs.confirm_delete = lambda name: True
    qtbot.mouseClick(w.jobs.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.jobs.job("local", "broken-visit") is None, timeout=10000)
    assert not header_path(w.ctx.home, "local", "broken-visit").exists()  # its note header goes with it


def test_cancel_a_running_job_from_the_jobs_view(make_window, tmp_path, qtbot):
    import soundfile

    data, rate = soundfile.read(__import__("helpers").DATA / "consultations"
                                / "day2_consultation03.flac")
    long_wav = tmp_path / "long-visit.wav"
    soundfile.write(long_wav, data, rate)
    w = make_window(restore=False)
    form = w.job_form
    form.set_media(long_wav)
    form.name.setText("long-visit")
    qtbot.waitUntil(form.submit_button.isEnabled, timeout=20000)
    qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (w.jobs.job("local", "long-visit") or {}).get("TranscriptionJobStatus") == "IN_PROGRESS",
                    timeout=60000)
    w.show_page("Jobs")
    assert w.jobs.select("local", "long-visit")
    qtbot.waitUntil(w.jobs.cancel_button.isEnabled, timeout=10000)
    qtbot.mouseClick(w.jobs.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (w.jobs.job("local", "long-visit") or {}).get("TranscriptionJobStatus") == "FAILED",
                    timeout=60000)
    assert w.jobs.job("local", "long-visit")["FailureReason"] == "Cancelled by the user."


def test_no_sound_system_recorder_says_so_and_import_still_works(make_window, monkeypatch, qtbot, jfk):
    def unavailable():
        raise recording.AudioUnavailable("Recording is unavailable: the PortAudio sound library is not installed.")

    monkeypatch.setattr(recording, "list_input_devices", unavailable)
    w = make_window(restore=False)
    assert w.recorder.unavailable.isVisible() and "PortAudio" in w.recorder.unavailable.text()
    assert not w.recorder.record_button.isEnabled()
    w.record_action.trigger()                       # the shortcut does nothing harmful
    assert not w.recorder.is_recording
    w.importer.load_file(jfk)
    qtbot.waitUntil(lambda: w.importer.transcribe_button.isEnabled(), timeout=10000)


def test_interrupted_recording_offered_on_start(make_window, home, qtbot, jfk):
    folder = home / "recordings"
    script = textwrap.dedent(f"""
        import functools, time
        from pathlib import Path
        from app.audio.recording import Recorder, FileInputStream
        r = Recorder(Path({str(folder)!r}), stream_factory=functools.partial(FileInputStream, Path({str(jfk)!r}),
                     speed=4.0))
        r.start(); print("started", flush=True); time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert proc.stdout.readline().strip() == "started"
    time.sleep(1.5)
    os.kill(proc.pid, signal.SIGKILL)               # the app was killed mid-recording
    proc.wait()
    w = make_window(restore=False)
    qtbot.waitUntil(lambda: w.recorder.banner.isVisible(), timeout=5000)
    from PySide6.QtWidgets import QPushButton
    recover = [b for b in w.recorder.banner.findChildren(QPushButton) if b.text() == "Recover"]
    assert len(recover) == 1
    qtbot.mouseClick(recover[0], Qt.MouseButton.LeftButton)
    assert w.current_page() == "New job"
    files = list(folder.glob("*.wav"))
    assert len(files) == 1 and files[0].name in w.job_form.media_uri.text()
    assert not list(folder.glob("*.partial.json"))
    qtbot.waitUntil(lambda: w.importer.info is not None, timeout=10000)
    assert w.importer.info.duration > 3.0           # playable, transcribable audio


def test_interrupted_recording_without_audio_is_discarded_with_a_message(make_window, home, qtbot):
    folder = home / "recordings"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from app.audio.recording import Recorder

        class Idle:   # the microphone had not delivered anything yet
            def __init__(self, **kwargs): pass
            start = stop = close = lambda self: None

        r = Recorder(Path({str(folder)!r}), file_format="FLAC", stream_factory=Idle)
        r.start(); print("started", flush=True); time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert proc.stdout.readline().strip() == "started"
    os.kill(proc.pid, signal.SIGKILL)               # killed before any sound reached the disk
    proc.wait()
    proc.stdout.close()
    w = make_window(restore=False)
    qtbot.waitUntil(lambda: w.recorder.banner.isVisible(), timeout=5000)
    from PySide6.QtWidgets import QLabel, QPushButton
    assert any("has no audio" in label.text() for label in w.recorder.banner.findChildren(QLabel))
    [recover] = [b for b in w.recorder.banner.findChildren(QPushButton) if b.text() == "Recover"]
    qtbot.mouseClick(recover, Qt.MouseButton.LeftButton)
    status = w.recorder.status.text()
    assert "held no audio" in status and "discarded" in status
    assert not w.recorder.banner.isVisible()
    assert list(folder.iterdir()) == []              # no 0-byte recording left behind
    assert w.job_form.media_uri.text() == ""         # nothing handed on to transcribe


def test_shortcuts_record_pause_stop(make_window, fake_mic, qtbot):
    w = make_window(restore=False)
    w.recorder.add_input("Sample speech (test input)", fake_mic)
    assert w.record_action.shortcut().toString() == "Ctrl+R"
    assert w.pause_action.shortcut().toString() == "Ctrl+Shift+P"
    assert w.stop_action.shortcut().toString() == "Ctrl+."
    assert [s.toString() for s in w.play_action.shortcuts()] == ["F4", "Ctrl+Space"]
    w.activateWindow()
    qtbot.keyClick(w, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    if not w.recorder.is_recording:   # platforms without window activation: the action itself
        w.record_action.trigger()
    assert w.recorder.is_recording
    qtbot.wait(300)
    w.pause_action.trigger()
    assert w.recorder.recorder.paused
    w.stop_action.trigger()
    assert not w.recorder.is_recording and w.recorder.last_path.exists()


def test_settings_saved_and_keys_never_in_settings(make_window, home):
    w = make_window(restore=False)
    s = w.settings_view
    s.device.setCurrentIndex(s.device.findData("cpu"))
    s.region.setText("eu-west-1")
    s.model.setCurrentText("/nonexistent/model")
    assert not s.save() and "model.bin" in s.status.text()
    s.model.setCurrentText("tiny.en")
    assert s.save()
    saved = Settings.load(home)
    assert saved.device == "cpu" and saved.aws_region == "eu-west-1"
    s.access_key.setText("TESTKEYIDFORCLINSCRIBE")
    s.secret_key.setText("secret-example-value")
    s.save_keys()
    assert s.keys_status.text()                      # stored, or a clear reason why not
    assert "secret-example-value" not in (home / "settings.json").read_text()


def test_vocabulary_checked_as_you_type(make_window, home, tmp_path):
    pytest.importorskip("app.local.vocabulary")
    w = make_window(restore=False)
    v = w.vocabularies
    v.new("cardiology")
    assert (home / "vocabularies" / "cardiology.txt").exists()
    v.editor.setPlainText("Phrase\tIPA\tSoundsLike\tDisplayAs\nchest pain\t\t\t\n")
    v.check()
    assert not v.valid and "2" in v.message.text() and not v.save_button.isEnabled()
    v.editor.setPlainText("Phrase\tIPA\tSoundsLike\tDisplayAs\nLisinopril\t\tli-sin-o-pril\t\n")
    assert v.check() and v.save()
    assert "Lisinopril" in (home / "vocabularies" / "cardiology.txt").read_text()
    out = tmp_path / "exported.txt"
    assert v.export_file(out) and out.read_bytes() == v.data()
    bad = tmp_path / "bad-vocab.txt"
    bad.write_bytes(b"Phrase\tIPA\tSoundsLike\tDisplayAs\r\nfoo\t\t\t\r\n")
    assert not v.import_file(bad)
    assert "carriage return" in v.message.text().lower() or "crlf" in v.message.text().lower()


def test_a_vocabulary_saved_for_jobs_is_offered_in_the_job_form(make_window, home, qtbot):
    w = make_window(restore=False)
    v = w.vocabularies
    v.new("asthma-terms")
    v.editor.setPlainText("Phrase\tIPA\tSoundsLike\tDisplayAs\ndate-of-birth\t\t\tDOB\n")
    assert v.check()
    published = []
    v.publish(on_done=published.append)
    qtbot.waitUntil(lambda: bool(published), timeout=20000)
    assert published[0]["VocabularyState"] == "READY"
    assert "READY on the Local" in v.message.text()
    engine = w.ctx.engine("local")
    assert engine.get_medical_vocabulary(VocabularyName="asthma-terms")["VocabularyState"] == "READY"
    form = w.job_form
    form.refresh_vocabularies()
    qtbot.waitUntil(lambda: form.vocabulary_box.findText("asthma-terms") >= 0, timeout=20000)
    form.media_uri.setText("s3://clinical-audio/visit.wav")
    form.vocabulary.setText("asthma-terms")
    assert form.params()["Settings"]["VocabularyName"] == "asthma-terms" and form.submit_button.isEnabled()


def test_window_state_restored_and_controls_named(make_window):
    w = make_window()
    w.resize(QSize(760, 650))   # not the default; above the minimum, inside the offscreen 800-px screen
    w.show_page("Vocabularies")
    w.recorder.live.on_top.setChecked(True)        # the dictation box, asked for once, stays asked for
    w.close()
    w2 = make_window()
    assert w2.current_page() == "Vocabularies"
    assert w2.size() == QSize(760, 650)
    assert w2.recorder.live.on_top.isChecked() and w2.recorder.live.enabled.isChecked()
    unnamed = []
    for cls in (QLineEdit, QComboBox, QSpinBox, QTextEdit, QPlainTextEdit):
        for widget in w2.findChildren(cls):
            parent = widget.parent()
            if isinstance(parent, (QComboBox, QAbstractSpinBox)):
                continue        # the inner editor of a combo or spin box
            if not widget.accessibleName():
                unnamed.append(f"{cls.__name__}:{widget.objectName() or widget.placeholderText() if hasattr(widget, 'placeholderText') else ''}")
    assert unnamed == []
