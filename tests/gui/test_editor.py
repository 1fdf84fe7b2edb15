"""The transcript editor over a two-speaker transcript with alternatives and PHI."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCharFormat, QTextCursor

from app.core.document import TranscriptDocument, edits_path, token_offsets
from app.gui.common import confidence_color


def char_format(edit, offset) -> QTextCharFormat:
    cursor = QTextCursor(edit.document())
    cursor.setPosition(offset + 1)
    return cursor.charFormat()


def open_editor(make_window, home, conversation, jfk):
    w = make_window(restore=False)
    doc = TranscriptDocument.open(conversation, home, "local", "visit-1")
    w.editor.set_document(doc, jfk, engine="local")
    w.show_page("Transcript")
    return w, w.editor


def test_turns_confidence_phi_alternatives(make_window, home, conversation, jfk, qtbot):
    w, ed = open_editor(make_window, home, conversation, jfk)
    assert [t.speaker.text() for t in ed.turn_widgets] == ["Speaker 1", "Speaker 2"]
    assert [t.text.toPlainText() for t in ed.turn_widgets] == ["Hello John Smith.", "I have chest pane."]
    assert "1 PHI entity highlighted" in ed.info.text()

    # words coloured by confidence: "pane" (0.4) red, "chest" (0.99) plain
    second = ed.turn_widgets[1].text
    offsets = token_offsets(ed.doc.turns[1]["tokens"])
    assert char_format(second, offsets[3][0]).foreground().color() == confidence_color(0.4)
    assert char_format(second, offsets[2][0]).foreground().color() != confidence_color(0.4)
    # PHI highlighted: "John" carries the category, "Hello" does not
    first = ed.turn_widgets[0].text
    o1 = token_offsets(ed.doc.turns[0]["tokens"])
    assert char_format(first, o1[1][0]).property(QTextCharFormat.Property.UserProperty) == "PHI-Personal"
    assert char_format(first, o1[0][0]).property(QTextCharFormat.Property.UserProperty) is None

    # redaction toggle
    ed.redact.setChecked(True)
    assert first.toPlainText() == "Hello [PHI-Personal]." and first.isReadOnly()
    ed.redact.setChecked(False)
    assert first.toPlainText() == "Hello John Smith." and not first.isReadOnly()

    # alternatives: only the second turn has them; picking one replaces the text, undo restores it
    assert not ed.turn_widgets[0].alternatives.isVisibleTo(ed)
    assert ed.turn_widgets[1].alternatives.isVisibleTo(ed)
    actions = ed.turn_widgets[1].alternative_actions()
    assert [a.data() for a in actions] == ["I have chest pane.", "I have chest pain."]
    assert [a.text() for a in actions] == ["Keep as heard", "I have chest «pain.»"]
    actions[1].trigger()
    assert ed.turn_widgets[1].text.toPlainText() == "I have chest pain."
    assert ed.turn_widgets[1].alternative_actions()[1].isChecked()
    assert "pain" in edits_path(home, "local", "visit-1").read_text()
    ed.undo_action.trigger()
    assert ed.turn_widgets[1].text.toPlainText() == "I have chest pane."
    ed.redo_action.trigger()
    assert ed.turn_widgets[1].text.toPlainText() == "I have chest pain."

    # rename a speaker: every turn of that speaker follows, undo brings the old name back
    sp = ed.turn_widgets[0].speaker
    sp.setFocus()
    sp.selectAll()
    qtbot.keyClicks(sp, "Dr. Lee")
    qtbot.keyClick(sp, Qt.Key.Key_Return)
    assert ed.doc.speaker_name("spk_0") == "Dr. Lee"
    assert ed.doc.text().startswith("Dr. Lee: Hello")
    ed.undo_action.trigger()
    assert ed.turn_widgets[0].speaker.text() == "Speaker 1"


def test_click_word_seeks_and_playback_follows(make_window, home, conversation, jfk, qtbot):
    w, ed = open_editor(make_window, home, conversation, jfk)
    second = ed.turn_widgets[1].text
    offsets = token_offsets(ed.doc.turns[1]["tokens"])
    cursor = QTextCursor(second.document())
    cursor.setPosition(offsets[3][0] + 1)
    pos = second.cursorRect(cursor).center()
    qtbot.mouseClick(second.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert ed.player.last_seek == 2.1          # "pane" starts at 2.1 s
    assert ed.current_word == (1, 3)
    ed.follow(0.6)                             # playback reports a new position
    assert ed.current_word == (0, 1)
    sels = ed.turn_widgets[0].text.extraSelections()
    assert len(sels) == 1 and sels[0].cursor.selectedText() == "John"
    assert ed.position.text() == "0:00.6"
    # real playback of the job's audio moves the highlight on its own
    ed.player.seek_and_play(0.0)
    qtbot.waitUntil(lambda: ed.player.position > 0.3, timeout=10000)
    ed.player.stop()


def test_typing_edits_are_saved_and_undoable(make_window, home, conversation, jfk, qtbot):
    w, ed = open_editor(make_window, home, conversation, jfk)
    te = ed.turn_widgets[1].text
    te.setFocus()
    te.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(te, " Since Monday.")
    qtbot.waitUntil(lambda: ed.doc.turn_text(1) == "I have chest pane. Since Monday.", timeout=3000)
    again = TranscriptDocument.open(dict(ed.doc.transcript), home, "local", "visit-1")
    assert again.turn_text(1) == "I have chest pane. Since Monday."
    qtbot.keyClick(te, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)   # Ctrl+Z inside the text
    assert ed.doc.turn_text(1) == "I have chest pane."
    assert te.toPlainText() == "I have chest pane."


def test_untranscribed_speech_is_shown_to_the_clinician(make_window, home, conversation, jfk):
    conversation["results"]["untranscribed_speech"] = [{"start_time": "12.3", "end_time": "13.9"}]
    w, ed = open_editor(make_window, home, conversation, jfk)
    assert "1 stretch(es) of speech could not be transcribed" in ed.info.text()
    assert "0:12.3" in ed.info.text()
