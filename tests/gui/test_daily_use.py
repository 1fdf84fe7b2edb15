"""A day's work in the app (issue 11): controls change only when the user means it, and more."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea


def wheel(widget, steps: int = -1) -> None:
    """A real wheel event over ``widget`` (one notch down by default), delivered as Qt delivers it."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_scrolling_the_job_form_never_changes_its_settings(make_window, qtbot):
    w = make_window(restore=False)
    w.show_page("New job")
    w.resize(900, 500)                      # a form taller than the window: it scrolls
    form = w.job_form
    form.media_uri.setText("s3://clinical-audio/visit.wav")
    form.media_uri.setFocus()
    scroll = form.findChild(QScrollArea)
    bar = scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=3000)
    before = {"format": form.media_format.currentText(), "language": form.language.currentText(),
              "preset": form.preset.currentText(), "specialty": form.specialty.currentText(),
              "rate": form.rate.value()}
    for control in (form.media_format, form.language, form.preset, form.specialty, form.rate):
        assert control.focusPolicy() != Qt.FocusPolicy.WheelFocus
        for _ in range(3):
            wheel(control)
    after = {"format": form.media_format.currentText(), "language": form.language.currentText(),
             "preset": form.preset.currentText(), "specialty": form.specialty.currentText(),
             "rate": form.rate.value()}
    assert after == before
    # a control the user clicked into still takes the wheel
    form.media_format.setFocus()
    qtbot.waitUntil(form.media_format.hasFocus, timeout=2000)
    wheel(form.media_format)
    assert form.media_format.currentText() != before["format"]


def test_a_two_channel_jobs_alternatives_stay_on_their_own_channel(make_window, home, qtbot):
    """A real local job on the two-channel recording: each turn offers only what its channel said."""
    from app.engine.local import LocalEngine
    from helpers import AUDIO, job_request, normalise

    engine = LocalEngine(base=home)
    uri = engine.put_media(AUDIO / "stereo_diarization.wav", key="stereo.wav")
    engine.start_medical_transcription_job(**job_request(
        "two-channels", uri, Type="CONVERSATION",
        Settings={"ChannelIdentification": True, "ShowAlternatives": True, "MaxAlternatives": 3}))
    assert engine.wait("two-channels", poll=0.2, timeout=300)["TranscriptionJobStatus"] == "COMPLETED"
    w = make_window(restore=False)
    w.editor.open_job("local", "two-channels")
    qtbot.waitUntil(lambda: w.editor.doc is not None and w.editor.doc.job_name == "two-channels", timeout=20000)
    turns = w.editor.turn_widgets
    assert {t.speaker.text() for t in turns} == {"Channel 1", "Channel 2"}
    # what only the other channel says: the left reads about the wizard, the right about the horizon
    foreign = {"Channel 1": {"horizon", "distant", "extremely"}, "Channel 2": {"wizard", "curtain", "complaint"}}
    menus = 0
    for turn in turns:
        offered = [normalise(a.data()) for a in turn.alternative_actions()]
        menus += bool(offered)
        words = {word for text in offered for word in text.split()}
        assert not words & foreign[turn.speaker.text()], (turn.speaker.text(), offered)
    assert menus >= 2


def test_tab_leaves_a_turn_and_the_find_field_without_typing_a_tab(make_window, home, qtbot):
    from app.core.document import TranscriptDocument
    from helpers import AUDIO, conversation_transcript

    w = make_window(restore=False)
    w.editor.set_document(TranscriptDocument.open(conversation_transcript(), home, "local", "tabs"),
                          AUDIO / "jfk.flac", engine="local")
    w.show_page("Transcript")
    first = w.editor.turn_widgets[0].text
    first.setFocus()
    qtbot.waitUntil(first.hasFocus, timeout=2000)
    before = first.toPlainText()
    qtbot.keyClick(first, Qt.Key.Key_Tab)
    assert first.toPlainText() == before and "\t" not in w.editor.doc.turn_text(0)
    assert not first.hasFocus()
    w.editor.find_edit.setFocus()
    qtbot.waitUntil(w.editor.find_edit.hasFocus, timeout=2000)
    qtbot.keyClick(w.editor.find_edit, Qt.Key.Key_Tab)
    assert not w.editor.find_edit.hasFocus()


def test_enter_submits_the_form_and_opens_the_finished_job(make_window, qtbot):
    from helpers import AUDIO

    w = make_window(restore=False)
    w.show_page("New job")
    form = w.job_form
    form.media_uri.setText((AUDIO / "jfk.flac").as_uri())
    form.name.setText("enter-key-job")
    form.name.setFocus()
    qtbot.waitUntil(form.name.hasFocus, timeout=2000)
    qtbot.keyClick(form.name, Qt.Key.Key_Return)           # Enter in a field submits the valid form
    qtbot.waitUntil(lambda: (w.jobs.job("local", "enter-key-job") or {}).get("TranscriptionJobStatus")
                    == "COMPLETED", timeout=120000)
    w.show_page("Jobs")
    assert w.jobs.select("local", "enter-key-job")
    w.jobs.table.setFocus()
    qtbot.waitUntil(w.jobs.table.hasFocus, timeout=2000)
    qtbot.keyClick(w.jobs.table, Qt.Key.Key_Return)        # Enter on the selected row opens it
    qtbot.waitUntil(lambda: w.editor.doc is not None and w.editor.doc.job_name == "enter-key-job",
                    timeout=20000)
    assert w.current_page() == "Transcript"
    assert "ask not what your country" in w.editor.turn_widgets[0].text.toPlainText()


def test_playback_without_an_audio_output_says_so_in_the_window(make_window, home, qtbot):
    import pytest
    from PySide6.QtMultimedia import QMediaDevices

    from app.core.document import TranscriptDocument
    from helpers import AUDIO, conversation_transcript

    if QMediaDevices.audioOutputs():
        pytest.skip("this machine has an audio output")
    w = make_window(restore=False)
    w.editor.set_document(TranscriptDocument.open(conversation_transcript(), home, "local", "silent"),
                          AUDIO / "jfk.flac", engine="local")
    w.show_page("Transcript")
    qtbot.mouseClick(w.editor.play_button, Qt.MouseButton.LeftButton)
    assert w.editor.play_problem.isVisible() and "No audio output" in w.editor.play_problem.text()
    w.show_page("Import")
    w.importer.load_file(AUDIO / "jfk.flac")
    qtbot.waitUntil(lambda: w.importer.play_button.isEnabled(), timeout=10000)
    qtbot.mouseClick(w.importer.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.importer.message.isVisible(), timeout=3000)
    assert "No audio output" in w.importer.message.text()


def test_the_info_line_counts_in_good_english(make_window, home):
    from app.core.document import TranscriptDocument
    from helpers import AUDIO, item

    one_turn = {"jobName": "one", "results": {"transcripts": [{"transcript": "Hello."}],
                                              "items": [item(0, "Hello", 0.1, 0.4)]}}
    w = make_window(restore=False)
    w.editor.set_document(TranscriptDocument.open(one_turn, home, "local", "one"), AUDIO / "jfk.flac", engine="local")
    assert "1 turn · 1 voice" in w.editor.info.text()


def _contrast(a, b) -> float:
    def lum(c):
        def ch(x):
            x = x / 255
            return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4
        return 0.2126 * ch(c.red()) + 0.7152 * ch(c.green()) + 0.0722 * ch(c.blue())
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _phi_runs(text_edit):
    """Runs of consecutive characters on the PHI highlight: (text, [(foreground, background)])."""
    from PySide6.QtGui import QTextCharFormat, QTextCursor

    doc, runs, current = text_edit.document(), [], None
    for pos in range(doc.characterCount() - 1):
        cursor = QTextCursor(doc)
        cursor.setPosition(pos)
        cursor.setPosition(pos + 1, QTextCursor.MoveMode.KeepAnchor)
        fmt = cursor.charFormat()
        on = fmt.hasProperty(QTextCharFormat.Property.BackgroundBrush) and fmt.background().style() != 0
        if on:
            if current is None:
                current = ["", []]
                runs.append(current)
            current[0] += cursor.selectedText()
            fg = fmt.foreground().color() if fmt.hasProperty(QTextCharFormat.Property.ForegroundBrush) \
                else text_edit.palette().text().color()
            current[1].append((fg, fmt.background().color()))
        else:
            current = None
    return runs


def test_phi_is_one_readable_highlight_per_entity_and_the_redacted_view_says_why(make_window, home, qtbot,
                                                                                tmp_path):
    """A real PHI job on a consultation's first 30 s (a date of birth and an address are spoken)."""
    import soundfile

    from app.engine.local import LocalEngine
    from helpers import DATA, job_request

    data, rate = soundfile.read(DATA / "consultations" / "day3_consultation04.flac")
    path = tmp_path / "visit.wav"
    soundfile.write(path, data[: 30 * rate].mean(axis=1), rate)
    engine = LocalEngine(base=home)
    engine.start_medical_transcription_job(**job_request("phi-visit", engine.put_media(path, key="v.wav"),
                                                         ContentIdentificationType="PHI"))
    assert engine.wait("phi-visit", poll=0.2, timeout=300)["TranscriptionJobStatus"] == "COMPLETED"
    entities = engine.get_transcript("phi-visit")["results"]["entities"]
    assert any(len(e["content"].split()) >= 3 for e in entities), entities  # "14th November 1996"
    w = make_window(restore=False)
    w.editor.open_job("local", "phi-visit")
    qtbot.waitUntil(lambda: w.editor.doc is not None and w.editor.doc.job_name == "phi-visit", timeout=20000)
    runs = [run for t in w.editor.turn_widgets for run in _phi_runs(t.text)]
    # one highlight per entity, covering exactly the entity's words (no neighbour swallowed; a comma the
    # engine heard between them, "28 great road, SW", is inside the highlight but not in the content)
    words = lambda text: re.sub(r"[^\w\s']", "", text).split()  # noqa: E731
    assert sorted(words(r[0]) for r in runs) == sorted(words(e["content"]) for e in entities)
    for text, colours in runs:
        for fg, bg in colours:
            assert _contrast(fg, bg) >= 4.5, (text, fg.name(), bg.name())
    w.editor.redact.setChecked(True)
    shown = " ".join(t.text.toPlainText() for t in w.editor.turn_widgets)
    assert shown.count("[PHI-") == len(entities)
    assert w.editor.redact_note.isVisibleTo(w.editor) and "read-only" in w.editor.redact_note.text()
    assert all(t.text.isReadOnly() for t in w.editor.turn_widgets)
    # another transcript opens editable, not silently redacted
    from app.core.document import TranscriptDocument
    from helpers import conversation_transcript

    w.editor.set_document(TranscriptDocument(conversation_transcript()), None)
    assert not w.editor.redact.isChecked() and not w.editor.redact_note.isVisibleTo(w.editor)
    assert "John" in w.editor.turn_widgets[0].text.toPlainText()


def test_the_alternatives_menu_keeps_as_heard_marks_differences_and_fits_the_window(make_window, home, qtbot):
    """The real AWS sample with alternatives: one menu per segment, each alternative as its differences."""
    import json

    from app.core.document import TranscriptDocument
    from app.gui.alternatives import alternative_actions
    from helpers import DATA

    t = json.loads((DATA / "aws-samples" / "04-alternative-results.json").read_text())
    w = make_window(restore=False)
    w.resize(1024, 700)
    ed = w.editor
    ed.set_document(TranscriptDocument.open(t, home, "aws", "sample"), None)
    w.show_page("Transcript")
    turn = next(wd for wd in ed.turn_widgets if len(ed.doc.segments_for_turn(wd.index)) > 1)
    segments = ed.doc.segments_for_turn(turn.index)
    menu = turn.alternatives.menu()
    submenus = [a.menu() for a in menu.actions() if a.menu() is not None]
    assert len(submenus) == len(segments)                    # one menu per segment
    for sub, seg in zip(submenus, segments):
        acts = alternative_actions(sub)
        assert acts[0].text().startswith("Keep as heard") and acts[0].isChecked()
        for act, alt in zip(acts[1:], seg.alternatives[1:]):
            assert act.data() == alt["transcript"]
            assert "«" in act.text() or act.text() == alt["transcript"]   # the differing words marked
        sub.popup(turn.alternatives.mapToGlobal(turn.alternatives.rect().bottomLeft()))
        qtbot.waitUntil(sub.isVisible, timeout=2000)
        assert sub.width() <= w.width(), (sub.width(), [a.text() for a in acts])  # fits the window
        sub.hide()
    # pick an alternative, then "Keep as heard" brings back what was heard
    seg_menu = submenus[0]
    heard = turn.text.toPlainText()
    alternative_actions(seg_menu)[1].trigger()
    assert ed.turn_widgets[turn.index].text.toPlainText() != heard
    seg_menu = [a.menu() for a in ed.turn_widgets[turn.index].alternatives.menu().actions() if a.menu()][0]
    keep = alternative_actions(seg_menu)[0]
    assert keep.text().startswith("Keep as heard") and not keep.isChecked()
    keep.trigger()
    assert ed.turn_widgets[turn.index].text.toPlainText() == heard


def test_a_new_job_starts_from_a_clean_form_and_the_last_settings_are_a_choice(make_window, home, qtbot):
    from helpers import AUDIO

    w = make_window(restore=False)
    w.new_job()
    form = w.job_form
    form.set_media(AUDIO / "jfk.flac")
    form.preset.setCurrentText("Conversation, 2 speakers")
    form.phi.setChecked(True)
    form.vocabulary.setText("cardiology-terms")
    form.add_tag("clinic", "north")
    form.vocabulary.clear()   # (no such vocabulary here: submit without it)
    qtbot.waitUntil(lambda: form.submit_button.isEnabled(), timeout=5000)
    form.scroll.verticalScrollBar().setValue(form.scroll.verticalScrollBar().maximum())
    form.submit()
    qtbot.waitUntil(lambda: w.current_page() == "Jobs", timeout=20000)
    w.new_job()
    qtbot.waitUntil(lambda: w.current_page() == "New job", timeout=2000)
    assert "submitted" not in form.status.text()
    assert form.scroll.verticalScrollBar().value() == 0
    assert not form.phi.isChecked() and form.tags.rowCount() == 0 and form.media_uri.text() == ""
    assert form.preset.currentText() == "Conversation, 2 speakers" and form.who_speakers.isChecked()
    # the last job's settings, on request, with the new audio kept
    form.set_media(AUDIO / "stereo_diarization.wav")
    assert form.reuse_button.isEnabled()
    form.reuse_button.click()
    assert form.phi.isChecked() and form.tags.rowCount() == 1 and form.conversation.isChecked()
    assert form.media_uri.text().endswith("stereo_diarization.wav")


def test_a_stereo_file_with_one_voice_is_not_taken_for_two_people(make_window, qtbot):
    from helpers import AUDIO

    w = make_window(restore=False)
    imp, form = w.importer, w.job_form
    for name, two_channel in (("jfk.flac", False), ("stereo_diarization.wav", True)):
        imp.load_file(AUDIO / name)
        qtbot.waitUntil(lambda: imp.info is not None, timeout=20000)
        assert imp.info.channels == 2
        imp.transcribe_button.click()
        qtbot.waitUntil(lambda: w.current_page() == "New job", timeout=3000)
        state = (name, imp.info.channel_layout, form.preset.currentText(), form.media_info.text())
        assert form.who_channels.isChecked() is two_channel, state
        assert form.preset.currentText() == ("Two-channel recording" if two_channel else "Dictation"), state
        assert ("one speaker per channel" if two_channel else "same sound on both") in form.media_info.text()
        w.show_page("Import")


def test_transcription_keys_skip_and_speed_keep_the_voice(make_window, home, qtbot, jfk, conversation):
    """F4 play/pause, F7/F8 back/forward 3 s, and 0.75–2× speed with the pitch kept."""
    from app.core.document import TranscriptDocument

    w = make_window(restore=False)
    w.editor.set_document(TranscriptDocument(conversation), jfk)
    w.show_page("Transcript")
    player = w.player
    assert player.duration > 10                 # the recording is opened at once (jfk: 11 s)
    qtbot.waitUntil(w.isActiveWindow, timeout=3000)   # the keys are the window's shortcuts
    w.editor.turn_widgets[0].text.setFocus()   # typing in the transcript: the keys still work
    qtbot.keyClick(w.editor.turn_widgets[0].text, Qt.Key.Key_F8)
    qtbot.keyClick(w.editor.turn_widgets[0].text, Qt.Key.Key_F8)
    qtbot.waitUntil(lambda: abs(player.position - 6.0) < 0.3, timeout=3000)
    qtbot.keyClick(w.editor.turn_widgets[0].text, Qt.Key.Key_F7)
    qtbot.waitUntil(lambda: abs(player.position - 3.0) < 0.3, timeout=3000)
    assert w.editor.position.text().startswith("0:03")
    for _ in range(3):
        qtbot.keyClick(w.editor.turn_widgets[0].text, Qt.Key.Key_F7)
    qtbot.waitUntil(lambda: player.position < 0.3, timeout=3000)          # never before the start
    speeds = [w.editor.speed.itemData(i) for i in range(w.editor.speed.count())]
    assert min(speeds) == 0.75 and max(speeds) == 2.0
    w.editor.speed.setCurrentIndex(speeds.index(1.5))
    assert player.rate == 1.5                   # the pitch kept at that speed: tests/gui/test_player.py
    qtbot.keyClick(w.editor.turn_widgets[0].text, Qt.Key.Key_F4)         # no speakers here: it says so
    if player.output_problem():
        qtbot.waitUntil(lambda: w.editor.play_problem.isVisibleTo(w.editor), timeout=3000)
    assert "F4" in w.play_action.toolTip() or "F4" in w.play_action.shortcut().toString()


def test_the_first_launch_welcomes_with_record_and_import(make_window, qtbot):
    w = make_window()                       # a new home: never opened before
    assert w.current_page() == "Welcome"
    assert w.welcome.record_button.isVisible() and w.welcome.import_button.isVisible()
    status = w.statusBar().currentMessage()
    if not w.recorder.device.count():       # this machine has no microphone: the window says so, not "Ready"
        assert status != "Ready." and status == w.recorder.problem()
    w.welcome.record_button.click()         # Record goes to the recorder (and says why when it cannot)
    assert w.current_page() == "Record"
    if not w.recorder.device.count():
        assert "Cannot record" in w.recorder.status.text() or w.recorder.status.property("role") == "error"
    w.close()
    again = make_window()                   # the next launch opens where the user left off
    assert again.current_page() == "Record"


def test_speaker_names_look_editable(make_window, conversation, qtbot):
    """The name field has a visible edge (a label would not), and renaming works from the keyboard."""
    from app.core.document import TranscriptDocument

    w = make_window(restore=False)
    w.editor.set_document(TranscriptDocument(conversation), None)
    w.show_page("Transcript")
    speaker = w.editor.turn_widgets[0].speaker
    qtbot.waitExposed(speaker)
    image = speaker.grab().toImage()
    inside = image.pixelColor(image.width() - 6, image.height() // 2)
    edge = [image.pixelColor(x, 0) for x in range(2, image.width() - 2)]
    assert any(abs(c.lightness() - inside.lightness()) > 20 for c in edge)
    speaker.setFocus()
    speaker.selectAll()
    qtbot.keyClicks(speaker, "Dr Okafor")
    qtbot.keyClick(speaker, Qt.Key.Key_Return)
    assert w.editor.doc.speaker_name(w.editor.doc.turns[0]["label"]) == "Dr Okafor"


def test_a_stalled_worker_is_said_in_the_window(make_window, home, qtbot, tmp_path):
    """What the watchdog notes about a job (tests/test_watchdog.py makes real stalls) reaches the app."""
    from app.engine.local import LocalEngine
    from helpers import job_request

    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF....WAVEnot really")
    engine = LocalEngine(base=home)
    engine.start_medical_transcription_job(**job_request("stalls", bad.as_uri()))
    engine.wait("stalls", poll=0.2, timeout=120)
    w = make_window(restore=False)
    qtbot.waitUntil(lambda: w.jobs.job("local", "stalls") is not None, timeout=10000)
    text = "Job stalls stalled: no progress for 300 s; its worker was replaced and the job restarts (attempt 2)."
    engine.workers.add_notice(engine.store.get("stalls").seq, text)
    w.jobs.refresh()
    qtbot.waitUntil(lambda: text in w.jobs.notifications, timeout=10000)
    assert w.statusBar().currentMessage() == text
    assert w.jobs.select("local", "stalls")
    row = w.jobs.table.currentRow()
    assert text in w.jobs.table.item(row, w.jobs.column("Status")).toolTip()
    w.jobs.refresh()                       # said once, not at every poll
    qtbot.wait(1500)
    assert w.jobs.notifications.count(text) == 1


def test_record_job_edit_export_with_no_mouse(make_window, qtbot, fake_mic, home):
    """Ctrl+R, Ctrl+. (the live job opens ready to type), type, Ctrl+E, Enter: a Word file with the edit.
    Then from the Jobs page, Ctrl+E on the selected job exports that job."""
    import docx
    from PySide6.QtWidgets import QApplication

    w = make_window(restore=False)
    w.recorder.add_input("Sample speech (test input)", fake_mic)
    w.recorder.channels.setCurrentIndex(w.recorder.channels.findData(1))
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=3000)

    def keys(key, mod=Qt.KeyboardModifier.NoModifier):
        qtbot.keyClick(QApplication.focusWidget() or w, key, mod)

    keys(Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert w.recorder.is_recording
    qtbot.waitUntil(lambda: w.recorder.recorder.elapsed >= 2.6, timeout=20000)   # 11 s at 4× pace
    keys(Qt.Key.Key_Period, Qt.KeyboardModifier.ControlModifier)
    assert not w.recorder.is_recording
    qtbot.waitUntil(lambda: w.current_page() == "Transcript" and w.editor.doc is not None
                    and isinstance(QApplication.focusWidget(), type(w.editor.turn_widgets[0].text)), timeout=30000)
    keys(Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(QApplication.focusWidget(), " Reviewed by Dr Okafor.")
    keys(Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    dialog = w.editor.export_dialog
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.export_button.isEnabled(), timeout=10000)
    target = dialog.path.text()
    keys(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: __import__("os").path.exists(target), timeout=20000)
    text = "\n".join(p.text for p in docx.Document(target).paragraphs)
    assert "Reviewed by Dr Okafor." in text
    dialog.close()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=3000)
    # from the Jobs list: Enter-selected job, Ctrl+E exports it
    name = w.editor.job_name
    w.editor.set_document(__import__("app.core.document", fromlist=["x"]).TranscriptDocument(
        __import__("helpers").conversation_transcript()), None)
    keys(Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert w.current_page() == "Jobs"
    qtbot.waitUntil(lambda: w.jobs.select("local", name), timeout=10000)
    keys(Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.editor.job_name == name and w.editor.export_dialog.isVisible(), timeout=20000)


def test_a_dictation_chooses_its_note_template_in_the_form(make_window):
    w = make_window(restore=False)
    form = w.job_form
    names = [form.template.itemText(i) for i in range(form.template.count())]
    assert names[0] == "None" and any(n.startswith("SOAP") for n in names)
    form.template.setCurrentIndex(next(i for i, n in enumerate(names) if n.startswith("SOAP")))
    form.add_tag("clinic", "north")
    tags = form.params()["Tags"]
    assert {"Key": "clinscribe:template", "Value": form.template.currentData()} in tags
    assert {"Key": "clinic", "Value": "north"} in tags
    job = dict(form.params(), MedicalTranscriptionJobName="visit-1")
    form.reset()
    assert form.template.currentData() == ""
    form.load_request("local", job, None)                 # re-run: the template comes back in its combo
    assert form.template.currentText().startswith("SOAP") and form.tags.rowCount() == 1


def test_voice_commands_can_be_switched_off_in_settings(make_window, home):
    from app.core.config import Settings

    w = make_window(restore=False)
    assert w.settings_view.voice_commands.isChecked()
    w.settings_view.voice_commands.setChecked(False)
    assert w.settings_view.save() and Settings.load(home).voice_commands is False


def test_the_status_bar_follows_the_recorder_once_an_input_appears(make_window, fake_mic):
    w = make_window(restore=False)
    if w.recorder.device.count():
        pytest.skip("this machine has a microphone: the no-input state cannot be shown")
    assert w.statusBar().currentMessage() == w.recorder.problem() != ""
    w.recorder.add_input("Sample speech (test input)", fake_mic)
    assert w.statusBar().currentMessage() == "Ready."


def test_a_clinician_adds_a_note_template_in_settings_and_uses_it(make_window, home):
    w = make_window(restore=False)
    box = w.settings_view.templates
    shipped = box.list.count()
    assert shipped >= 3
    box.add()                                           # nothing typed: said, nothing saved
    assert box.message.property("role") == "error" and box.list.count() == shipped
    box.name.setText("Cardiology follow-up")
    box.sections.setPlainText("History\nECG\nPlan\n")
    box.add()
    assert box.list.count() == shipped + 1
    assert (home / "templates" / "cardiology-follow-up.json").stat().st_mode & 0o077 == 0
    names = [w.job_form.template.itemText(i) for i in range(w.job_form.template.count())]
    assert "Cardiology follow-up (History, ECG, Plan)" in names   # offered in the job form at once
    mine = next(i for i in range(box.list.count()) if "(yours)" in box.list.item(i).text())
    box.list.setCurrentRow(mine)
    box.remove()
    assert box.list.count() == shipped and not (home / "templates" / "cardiology-follow-up.json").exists()
