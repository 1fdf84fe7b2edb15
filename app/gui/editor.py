"""The transcript editor: turns per speaker or channel, editable in place, saved with every change."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QTextCursor, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QScrollArea,
                               QTextEdit, QVBoxLayout, QWidget)

from ..core.document import TranscriptDocument
from ..store.kms import LocalKms, Sealer
from .common import AppContext, describe_error, hint_label
from .noteactions import add_note_actions
from .player import Player
from .turn import TurnWidget, fmt_time
from .workers import run_async


class SnapshotCommand(QUndoCommand):
    """An edit as (state before, state after): undo and redo restore whole document states."""

    def __init__(self, editor: "EditorView", text: str, before: dict, after: dict):
        super().__init__(text)
        self.editor, self.before, self.after = editor, before, after
        self._first = True

    def redo(self):
        if self._first:  # already applied when pushed
            self._first = False
            return
        self.editor.doc.restore(self.after)
        self.editor.render_all()

    def undo(self):
        self.editor.doc.restore(self.before)
        self.editor.render_all()


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


class EditorView(QWidget):
    status_message = Signal(str)
    document_opened = Signal()

    def __init__(self, ctx: AppContext, player: Player, parent=None):
        super().__init__(parent)
        self.ctx, self.player = ctx, player
        self.doc: TranscriptDocument | None = None
        self.engine_kind = ""
        self.job_name = ""
        self.turn_widgets: list[TurnWidget] = []
        self.current_word: tuple[int, int] | None = None
        self.undo_stack = QUndoStack(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 16, 24, 8)
        head = QHBoxLayout()
        self.title = QLabel("<h2>Transcript</h2>")
        head.addWidget(self.title)
        head.addStretch(1)
        self.redact = QCheckBox("Show PHI redacted")
        self.redact.setAccessibleName("Show PHI redacted")
        self.redact.toggled.connect(self._redact_toggled)
        head.addWidget(self.redact)
        self.note_actions = add_note_actions(self, head)  # Export…, Note ▾ (details, send to EHR, copy)
        lay.addLayout(head)
        self.info = hint_label("Open a completed job from Jobs.")
        lay.addWidget(self.info)
        self.redact_note = hint_label("Redacted view: each PHI entity is shown as its category and the text "
                                      "is read-only. Untick “Show PHI redacted” to edit.")
        self.redact_note.setAccessibleName("Redacted view note")
        self.redact_note.hide()
        lay.addWidget(self.redact_note)

        play = QHBoxLayout()
        self.play_button = QPushButton("▶ Play")
        self.play_button.setAccessibleName("Play or pause audio")
        self.play_button.setToolTip("Play or pause (F4 or Ctrl+Space)")
        self.play_button.clicked.connect(self.toggle_play)
        play.addWidget(self.play_button)
        self.position = QLabel("0:00.0")
        self.position.setAccessibleName("Playback position")
        play.addWidget(self.position)
        self.speed = QComboBox()
        self.speed.setAccessibleName("Playback speed")
        self.speed.setToolTip("Playback speed; the voice keeps its pitch. F4 play/pause, F7 back 3 s, F8 forward 3 s")
        for rate in player.RATES:
            self.speed.addItem(f"{rate:g}×", rate)
        self.speed.setCurrentIndex(player.RATES.index(1.0))
        self.speed.currentIndexChanged.connect(lambda _: player.set_rate(self.speed.currentData()))
        play.addWidget(self.speed)
        self.play_problem = hint_label(error=True)
        self.play_problem.setAccessibleName("Playback problem")
        self.play_problem.hide()
        play.addWidget(self.play_problem, 1)
        player.problem.connect(lambda text: (self.play_problem.setText(text), self.play_problem.show()))
        play.addStretch(1)
        self.find_edit = QLineEdit()
        self.find_edit.setPlaceholderText("Find")
        self.find_edit.setAccessibleName("Find")
        self.find_edit.returnPressed.connect(self.find_next)
        self.replace_edit = QLineEdit()
        self.replace_edit.setPlaceholderText("Replace with")
        self.replace_edit.setAccessibleName("Replace with")
        find_next = QPushButton("Find next")
        find_next.clicked.connect(self.find_next)
        replace_all = QPushButton("Replace all")
        replace_all.setAccessibleName("Replace all")
        replace_all.clicked.connect(self.replace_all)
        for w in (self.find_edit, self.replace_edit, find_next, replace_all):
            play.addWidget(w)
        lay.addLayout(play)
        legend = hint_label("Words in amber or red were recognised with low confidence. "
                            "Highlighted words are PHI. Click a word to hear it; edits are saved as you type.")
        lay.addWidget(legend)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.body = QWidget()
        self.body.setObjectName("turns")
        self.turns_layout = QVBoxLayout(self.body)
        self.turns_layout.setSpacing(4)
        self.turns_layout.addStretch(1)
        self.scroll.setWidget(self.body)
        lay.addWidget(self.scroll, 1)

        self.undo_action = self.undo_stack.createUndoAction(self, "Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = self.undo_stack.createRedoAction(self, "Redo")
        self.redo_action.setShortcut(QKeySequence.StandardKey.Redo)
        player.position_changed.connect(self.follow)
        player.state_changed.connect(lambda playing: self.play_button.setText("❚❚ Pause" if playing else "▶ Play"))

    # -- loading ------------------------------------------------------------------
    def open_job(self, engine: str, name: str) -> None:
        ctx = self.ctx
        self.info.setText(f"Loading {name}…")

        def work():
            job_engine = ctx.engine(engine)
            # the file the app submitted, else the engine's own copy (jobs made from the CLI)
            media = ctx.media.get(engine, name) or job_engine.media_path(name)
            protection = job_engine.encryption(name)
            sealer = Sealer(LocalKms(ctx.home), *protection) if protection else None
            return job_engine.get_transcript(name), media, sealer

        def done(result):
            transcript, media, sealer = result
            doc = TranscriptDocument.open(transcript, ctx.home, engine, name, sealer=sealer,
                                          at_rest=ctx.settings.encrypt_audio)
            self.set_document(doc, media, engine=engine)

        run_async(work, done, lambda exc: self.info.setText(f"The transcript could not be opened: "
                                                            f"{describe_error(exc)}"))

    def set_document(self, doc: TranscriptDocument, media_path: Path | None, *, engine: str = "") -> None:
        self.commit_all()
        self.doc, self.engine_kind, self.job_name = doc, engine, doc.job_name
        self.undo_stack.clear()
        if self.redact.isChecked():  # each transcript opens as heard and editable; never redacted silently
            self.redact.blockSignals(True)
            self.redact.setChecked(False)
            self.redact.blockSignals(False)
            self.redact_note.hide()
        self.title.setText(f"<h2>{doc.job_name or 'Transcript'}</h2>")
        self.player.load(media_path if media_path and Path(media_path).exists() else None)
        phi = len(doc.entities)
        parts = [_count(len(doc.turns), "turn"), _count(len(doc.labels()), "voice")]
        if phi:
            parts.append(f"{_count(phi, 'PHI entity', 'PHI entities')} highlighted")
        if not self.player.source:
            parts.append("audio not available for playback")
        if doc.untranscribed:
            where = ", ".join(f"{fmt_time(a)}–{fmt_time(b)}" for a, b, _ in doc.untranscribed[:4])
            parts.append(f"⚠ {len(doc.untranscribed)} stretch(es) of speech could not be transcribed "
                         f"({where}{', …' if len(doc.untranscribed) > 4 else ''}): listen and type them in")
        self.info.setText(" · ".join(parts))
        for w in self.turn_widgets:
            w.setParent(None)
            w.deleteLater()
        self.turn_widgets = []
        for i in range(len(doc.turns)):
            w = TurnWidget(self, i)
            self.turns_layout.insertWidget(i, w)
            self.turn_widgets.append(w)
        self.render_all()
        self.note_actions.refresh()
        self.document_opened.emit()

    def _redact_toggled(self, on: bool) -> None:
        if on:
            self.commit_all()
        self.redact_note.setVisible(on)
        self.render_all()

    def render_all(self) -> None:
        if not self.doc:
            return
        if len(self.turn_widgets) != len(self.doc.turns):  # never happens today: turns are stable
            self.set_document(self.doc, self.player.source, engine=self.engine_kind)
            return
        for w in self.turn_widgets:
            w.render(self.redact.isChecked())

    # -- edits --------------------------------------------------------------------
    def _apply(self, text: str, change) -> bool:
        before = self.doc.snapshot()
        if change() is False:
            return False
        after = self.doc.snapshot()
        if before == after:
            return False
        self.undo_stack.push(SnapshotCommand(self, text, before, after))
        return True

    def commit_turn(self, index: int) -> None:
        if not self.doc or self.redact.isChecked() or index >= len(self.turn_widgets):
            return
        w = self.turn_widgets[index]
        text = w.text.toPlainText()
        if text != self.doc.turn_text(index):
            self._apply("Edit text", lambda: self.doc.set_turn_text(index, text))
            self.status_message.emit("Saved.")
        if not w.text.hasFocus():
            w.render(False)

    def commit_all(self) -> None:
        for w in self.turn_widgets:
            if w.text.debounce.isActive():
                w.text.debounce.stop()
                self.commit_turn(w.index)

    def rename_speaker(self, label: str, name: str) -> None:
        self._apply("Rename speaker", lambda: self.doc.rename_speaker(label, name))
        self.render_all()

    def pick_alternative(self, segment: int, alternative: int, turn: int | None = None) -> None:
        """Pick an alternative of ``segment`` for ``turn``: only that turn's words change."""
        self.commit_all()
        self._apply("Pick alternative", lambda: self.doc.pick_alternative(segment, alternative, turn))
        self.render_all()

    def replace_all(self) -> int:
        if not self.doc:
            return 0
        self.commit_all()
        find, repl = self.find_edit.text(), self.replace_edit.text()
        count = [0]

        def change():
            count[0] = self.doc.replace_all(find, repl)
            return count[0] > 0

        self._apply("Replace all", change)
        self.render_all()
        self.status_message.emit(f"Replaced {count[0]} occurrence{'s' if count[0] != 1 else ''}.")
        return count[0]

    def find_next(self) -> bool:
        text = self.find_edit.text()
        if not text or not self.turn_widgets:
            return False
        start = next((w.index for w in self.turn_widgets if w.text.hasFocus()), 0)
        order = self.turn_widgets[start:] + self.turn_widgets[:start + 1]  # wraps around
        for k, w in enumerate(order):
            if k > 0:
                w.text.moveCursor(QTextCursor.MoveOperation.Start)
            if w.text.find(text):
                w.text.setFocus()
                self.scroll.ensureWidgetVisible(w)
                return True
        self.status_message.emit(f"'{text}' not found.")
        return False

    # -- playback -----------------------------------------------------------------
    def toggle_play(self) -> None:
        if not self.player.source:
            self.status_message.emit("No audio to play for this transcript.")
            return
        self.player.toggle()

    def skip(self, seconds: float) -> None:
        if not self.player.source:
            self.status_message.emit("No audio to play for this transcript.")
            return
        self.player.skip(seconds)

    def word_clicked(self, turn: int, token: int) -> None:
        start = self.doc.turns[turn]["tokens"][token].get("start")
        if start is not None:
            self.player.seek_and_play(start)
            self.highlight(turn, token)

    def follow(self, seconds: float) -> None:
        self.position.setText(fmt_time(seconds))
        if not self.doc:
            return
        where = self.doc.word_at(seconds)
        if where != self.current_word:
            self.highlight(*where) if where else self.highlight(None, None)

    def highlight(self, turn: int | None, token: int | None) -> None:
        old = self.current_word
        self.current_word = None if turn is None else (turn, token)
        if old and old[0] < len(self.turn_widgets):
            self.turn_widgets[old[0]].text.setExtraSelections([])
        if turn is None or self.redact.isChecked():
            return
        w = self.turn_widgets[turn]
        from ..core import document
        start, end = document.token_offsets(self.doc.turns[turn]["tokens"])[token]
        sel = QTextEdit.ExtraSelection()
        sel.cursor = QTextCursor(w.text.document())
        sel.cursor.setPosition(start)
        sel.cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        sel.format.setBackground(self.palette().highlight())
        sel.format.setForeground(self.palette().highlightedText())
        w.text.setExtraSelections([sel])
        self.scroll.ensureWidgetVisible(w, 0, 40)

    # -- export -------------------------------------------------------------------
    def export(self) -> None:
        from .exporting import open_export
        open_export(self)
