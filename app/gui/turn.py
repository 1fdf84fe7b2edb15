"""One turn of the transcript editor: the speaker's name, the turn's alternatives menu and its text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QLineEdit, QMenu, QSizePolicy, QTextEdit, QToolButton,
                               QVBoxLayout)

from .alternatives import alternative_actions, fill_menu
from .common import confidence_color, phi_background

if TYPE_CHECKING:
    from .editor import EditorView


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, sec = divmod(seconds, 60)
    return f"{int(minutes)}:{sec:04.1f}"


class TurnEdit(QTextEdit):
    """One turn's text: words coloured by confidence, PHI highlighted, click a word to hear it."""

    word_clicked = Signal(int, int)    # turn, token
    committed = Signal(int)            # turn
    undo_requested = Signal()
    redo_requested = Signal()

    def __init__(self, index: int, parent=None):
        super().__init__(parent)
        self.index = index
        self.rendering = False
        self.setUndoRedoEnabled(False)
        self.setAcceptRichText(False)
        self.setTabChangesFocus(True)   # Tab moves on to the next control; no tab typed into a note
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(700)
        self.debounce.timeout.connect(lambda: self.committed.emit(self.index))
        self.textChanged.connect(self._changed)
        self._press_pos = None

    def _fit(self, *_):
        self.setFixedHeight(int(self.document().size().height()) + 6)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._fit()

    def _changed(self):
        if not self.rendering and not self.isReadOnly():
            self.debounce.start()

    def focusOutEvent(self, event):
        super().focusOutEvent(event)
        if self.debounce.isActive() or not self.rendering:
            self.debounce.stop()
            self.committed.emit(self.index)

    def event(self, event):
        if event.type() == QEvent.Type.ShortcutOverride and (
                event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo)):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event):
        if event.matches(QKeySequence.StandardKey.Undo):
            self.debounce.stop()
            self.committed.emit(self.index)
            self.undo_requested.emit()
            return
        if event.matches(QKeySequence.StandardKey.Redo):
            self.redo_requested.emit()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event):
        self._press_pos = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event):
        super().mouseReleaseEvent(event)
        pos = event.position().toPoint()
        if self._press_pos is not None and (pos - self._press_pos).manhattanLength() < 4 \
                and not self.textCursor().hasSelection():
            href = self.anchorAt(pos)
            if href.startswith("w:"):
                _, turn, token = href.split(":")
                self.word_clicked.emit(int(turn), int(token))


class TurnWidget(QFrame):
    def __init__(self, editor: "EditorView", index: int):
        super().__init__()
        self.setObjectName("turn")
        self.editor, self.index = editor, index
        self.doc = editor.doc   # the document this turn belongs to
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        side = QVBoxLayout()
        side.setSpacing(2)
        self.speaker = QLineEdit()
        self.speaker.setObjectName("speaker")
        self.speaker.setFrame(False)
        self.speaker.setFixedWidth(150)
        self.speaker.setToolTip("Click to rename this speaker everywhere (Enter to apply)")
        self.speaker.setPlaceholderText("Name this speaker")
        bold = self.speaker.font()
        bold.setBold(True)
        self.speaker.setFont(bold)
        self.speaker.editingFinished.connect(self._renamed)
        side.addWidget(self.speaker)
        self.time = QLabel()
        self.time.setObjectName("turntime")
        side.addWidget(self.time)
        self.alternatives = QToolButton()
        self.alternatives.setText("Alternatives")
        self.alternatives.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.alternatives.setAccessibleName(f"Alternatives for turn {index + 1}")
        self.alternatives.setMenu(QMenu(self.alternatives))
        side.addWidget(self.alternatives)
        side.addStretch(1)
        lay.addLayout(side)
        self.text = TurnEdit(index)
        self.text.setAccessibleName(f"Turn {index + 1} text")
        lay.addWidget(self.text, 1)
        self.text.word_clicked.connect(editor.word_clicked)
        self.text.committed.connect(editor.commit_turn)
        self.text.undo_requested.connect(editor.undo_stack.undo)
        self.text.redo_requested.connect(editor.undo_stack.redo)

    def alternative_actions(self) -> list:
        """The alternatives offered for this turn (QActions; data() is the alternative's full text)."""
        return alternative_actions(self.alternatives.menu())

    def _renamed(self):
        doc = self.doc
        if doc is None or self.index >= len(doc.turns):
            return
        label = doc.turns[self.index]["label"]
        if self.speaker.text().strip() != doc.speaker_name(label):
            if doc is self.editor.doc:
                self.editor.rename_speaker(label, self.speaker.text())
            else:   # typed just before another transcript was opened: kept in its own document
                doc.rename_speaker(label, self.speaker.text())

    def render(self, redact: bool) -> None:
        editor, doc, i = self.editor, self.editor.doc, self.index
        turn = doc.turns[i]
        self.speaker.setText(doc.speaker_name(turn["label"]))
        self.speaker.setAccessibleName(f"Speaker of turn {i + 1}")
        start, end = doc.turn_span(i)
        self.time.setText(fmt_time(start))
        segments = doc.segments_for_turn(i)
        fill_menu(self.alternatives.menu(), editor, i, segments)
        self.alternatives.setVisible(bool(segments))
        te = self.text
        te.rendering = True
        try:
            te.setReadOnly(redact)
            te.clear()
            cursor = QTextCursor(te.document())
            plain = QTextCharFormat()
            if redact:
                cursor.insertText(doc.redacted_text(i), plain)
            else:
                self._render_words(cursor, plain)
        finally:
            te.rendering = False

    def _render_words(self, cursor: QTextCursor, plain: QTextCharFormat) -> None:
        """Words coloured by confidence; each PHI entity one continuous highlight, spaces included."""
        doc, i = self.editor.doc, self.index
        turn = doc.turns[i]
        phi = doc.phi_spans(i)
        background = phi_background()
        for k, tok in enumerate(turn["tokens"]):
            ent = phi[k]
            if k and tok["type"] != "punctuation":
                space = plain
                if ent is not None and phi[k - 1] == ent:
                    space = QTextCharFormat()
                    space.setBackground(background)
                cursor.insertText(" ", space)
            fmt = QTextCharFormat()
            if tok["type"] == "pronunciation":
                fmt.setAnchor(True)
                fmt.setAnchorHref(f"w:{i}:{k}")
                color = confidence_color(tok.get("confidence"))
                if color is not None:
                    fmt.setForeground(color)
                    fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
                    fmt.setToolTip(f"Confidence {tok['confidence']:.0%}")
            if ent is not None:
                cat = doc.entities[ent].get("category") or "PHI"
                fmt.setBackground(background)
                fmt.setToolTip(cat if not fmt.toolTip() else f"{cat} · {fmt.toolTip()}")
                fmt.setProperty(QTextCharFormat.Property.UserProperty, cat)
            cursor.insertText(tok["content"], fmt)
