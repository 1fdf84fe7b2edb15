"""Small things a clinician notices: vocabulary columns and messages, Settings errors, the Preset's name."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextCursor
from PySide6.QtWidgets import QComboBox

ERROR_RED = QColor("#c62828")


def shown_in_red(label) -> bool:
    """Whether the label is drawn in the error colour (the window's style for role=error)."""
    return label.palette().color(label.foregroundRole()) == ERROR_RED


def column_starts(editor, line: int) -> list[int]:
    """The x on screen where each tab-separated cell of ``line`` starts."""
    block = editor.document().findBlockByNumber(line)
    starts, offset = [], 0
    for cell in block.text().split("\t"):
        cursor = QTextCursor(block)
        cursor.setPosition(block.position() + offset)
        starts.append(editor.cursorRect(cursor).left())
        offset += len(cell) + 1
    return starts


def test_the_vocabulary_editor_shows_no_error_before_anything_is_typed(make_window, qtbot):
    pytest.importorskip("app.local.vocabulary")
    w = make_window(restore=False)
    w.show_page("Vocabularies")
    v = w.vocabularies
    assert v.message.isVisible()
    assert v.message.property("role") == "hint" and not shown_in_red(v.message)
    assert "empty" not in v.message.text().lower()
    v.new("cardiology")                                   # a new file: just the header row
    assert v.editor.toPlainText().startswith("Phrase\tIPA")
    qtbot.wait(400)
    assert v.message.property("role") == "hint" and not shown_in_red(v.message), v.message.text()
    assert "no entries" not in v.message.text()
    assert not v.save_button.isEnabled()                  # still nothing worth saving

    v.editor.setFocus()
    v.editor.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(v.editor, "chest pain")               # a space in a phrase breaks a rule
    qtbot.waitUntil(lambda: v.message.property("role") == "error", timeout=3000)
    assert shown_in_red(v.message) and "2" in v.message.text()


def test_vocabulary_columns_line_up_whatever_the_phrase_lengths(make_window, qtbot):
    w = make_window(restore=False)
    w.show_page("Vocabularies")
    v = w.vocabularies
    v.new("long-terms")
    v.editor.setPlainText("Phrase\tIPA\tSoundsLike\tDisplayAs\n"
                          "Acetylsalicylic-acid-tablets\t\tass-ee-til-sal-i-sil-ik\tAspirin\n"
                          "BP\t\t\tblood pressure\n"
                          "Lisinopril\t\tli-sin-o-pril\tLisinopril\n")
    qtbot.wait(100)
    rows = [column_starts(v.editor, n) for n in range(4)]
    assert all(len(r) == 4 for r in rows)
    for column in range(1, 4):
        assert len({r[column] for r in rows}) == 1, (column, rows)
    # each column starts after the widest cell before it: nothing overlaps
    assert rows[0][1] > column_starts(v.editor, 1)[0] + v.editor.fontMetrics().horizontalAdvance(
        "Acetylsalicylic-acid-tablets") - 1


def test_settings_errors_are_shown_in_the_error_style(make_window):
    w = make_window(restore=False)
    w.show_page("Settings")
    s = w.settings_view
    s.model.setCurrentText("/nonexistent/model")
    assert not s.save()
    assert "model.bin" in s.status.text()
    assert s.status.property("role") == "error" and shown_in_red(s.status)
    s.model.setCurrentText("tiny.en")
    assert s.save() and s.status.text() == "Settings saved."
    assert s.status.property("role") == "hint" and not shown_in_red(s.status)

    s.access_key.clear()
    s.secret_key.clear()
    s.save_keys()
    assert "Enter both" in s.keys_status.text()
    assert s.keys_status.property("role") == "error" and shown_in_red(s.keys_status)


def test_the_job_forms_preset_combo_is_named_preset_for_screen_readers(make_window):
    w = make_window(restore=False)
    w.show_page("New job")
    named = [c for c in w.job_form.findChildren(QComboBox) if c.accessibleName() == "Preset"]
    assert named == [w.job_form.preset]
    assert w.job_form.preset.focusPolicy() != Qt.FocusPolicy.NoFocus   # reachable from the keyboard
