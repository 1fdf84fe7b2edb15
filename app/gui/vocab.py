"""Medical custom vocabularies: edit, import and export, with the file rules checked as you type."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QFontDatabase, QTextCursor, QTextFormat
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QInputDialog, QLabel, QListWidget, QPlainTextEdit,
                               QPushButton, QSplitter, QTextEdit, QVBoxLayout, QWidget)

from .common import AppContext, ENGINE_LABELS, hint_label, say
from .workers import run_async

TEMPLATE = "Phrase\tIPA\tSoundsLike\tDisplayAs\n"
COLUMN_GAP = 3   # characters between the widest cell of a column and the next column


def tab_positions(text: str, char_width: float) -> list[float]:
    """Tab stops that line every column up: after the widest cell of each column, plus a gap."""
    widths: list[int] = []
    for line in text.splitlines():
        for i, cell in enumerate(line.split("\t")[:-1]):   # the last cell ends the line: no stop after it
            if i == len(widths):
                widths.append(0)
            widths[i] = max(widths[i], len(cell))
    stops, x = [], 0.0
    for width in widths:
        x += (width + COLUMN_GAP) * char_width
        stops.append(x)
    return stops
NAME = re.compile(r"^[0-9A-Za-z._-]{1,200}$")


def check_vocabulary(data: bytes) -> tuple[bool, str, int | None]:
    """(ok, message, line number) from the core's parser; (True, '…unavailable…') without it."""
    try:
        from ..local.vocabulary import VocabularyFileError, parse_vocabulary_file
    except ImportError:
        return True, "The vocabulary checker is not available in this installation.", None
    try:
        vocab = parse_vocabulary_file(data)
    except VocabularyFileError as exc:
        match = re.search(r"[Ll]ine (\d+)", str(exc))
        return False, str(exc), int(match.group(1)) if match else None
    entries = getattr(vocab, "entries", None)
    count = f"{len(entries)} entries. " if entries is not None else ""
    return True, f"{count}The file follows the vocabulary rules.", None


class VocabularyView(QWidget):
    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.folder = ctx.vocabularies_dir
        self.current: Path | None = None
        self.valid = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 16, 24, 16)
        lay.addWidget(QLabel("<h2>Custom vocabularies</h2>"))
        lay.addWidget(hint_label("One term per line: Phrase, IPA, SoundsLike, DisplayAs separated by a single "
                                 "TAB. Phrases use letters, ' - and . only (join words with -)."))
        split = QSplitter()
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        self.list.setAccessibleName("Vocabularies")
        self.list.currentTextChanged.connect(self.open)
        ll.addWidget(self.list)
        row = QHBoxLayout()
        self.new_button = QPushButton("New…")
        self.import_button = QPushButton("Import…")
        self.export_button = QPushButton("Export…")
        for b in (self.new_button, self.import_button, self.export_button):
            row.addWidget(b)
        ll.addLayout(row)
        split.addWidget(left)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        self.editor = QPlainTextEdit()
        self.editor.setAccessibleName("Vocabulary file")
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setTabChangesFocus(False)
        self.editor.setTabStopDistance(self.editor.fontMetrics().horizontalAdvance(" ") * 18)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self._stops: list[float] = []
        rl.addWidget(self.editor, 1)
        self.message = hint_label()
        self.message.setAccessibleName("Vocabulary check")
        rl.addWidget(self.message)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        self.save_button = QPushButton("Save")
        self.save_button.setAccessibleName("Save vocabulary")
        bottom.addWidget(self.save_button)
        self.publish_button = QPushButton("Save and use in jobs")
        self.publish_button.setAccessibleName("Save and use in jobs")
        self.publish_button.setToolTip("Save, then create or update this vocabulary in the engine chosen in "
                                       "Settings, so jobs can name it")
        bottom.addWidget(self.publish_button)
        rl.addLayout(bottom)
        split.addWidget(right)
        split.setSizes([220, 600])
        lay.addWidget(split, 1)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(250)
        self.timer.timeout.connect(self.check)
        self.editor.textChanged.connect(self.timer.start)
        self.editor.textChanged.connect(self.align_columns)
        self.new_button.clicked.connect(lambda: self.new())
        self.import_button.clicked.connect(self.import_dialog)
        self.export_button.clicked.connect(self.export_dialog)
        self.save_button.clicked.connect(self.save)
        self.publish_button.clicked.connect(self.publish)
        self.refresh()
        self.check()

    def refresh(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        if self.folder.is_dir():
            for p in sorted(self.folder.glob("*.txt")):
                self.list.addItem(p.stem)
        self.list.blockSignals(False)

    def data(self) -> bytes:
        return self.editor.toPlainText().encode("utf-8")

    def align_columns(self) -> None:
        """Tab stops at each column's widest cell, so Phrase, IPA, SoundsLike and DisplayAs line up."""
        stops = tab_positions(self.editor.toPlainText(), self.editor.fontMetrics().horizontalAdvance(" "))
        if stops == self._stops:
            return
        self._stops = stops
        doc = self.editor.document()
        option = doc.defaultTextOption()
        option.setTabArray(stops)
        doc.setDefaultTextOption(option)

    def _say(self, text: str, *, error: bool) -> None:
        say(self.message, text, error=error)

    def check(self) -> bool:
        ok, message, line = check_vocabulary(self.data())
        self.valid = ok
        untouched = self.editor.toPlainText().strip() in ("", TEMPLATE.strip())
        if untouched and not ok:   # nothing typed yet: what to do, not an error
            line = None
            message = ("Type one term per line under the header row, or import a file." if self.current
                       else "Choose a vocabulary on the left, make a new one, or import a file.")
        self._say(message, error=not ok and not untouched)
        self.save_button.setEnabled(ok and self.current is not None)
        self.publish_button.setEnabled(ok and self.current is not None)
        self.export_button.setEnabled(ok)
        sels = []
        if line:
            sel = QTextEdit.ExtraSelection()
            sel.format.setBackground(QColor(255, 80, 80, 60))
            sel.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            block = self.editor.document().findBlockByNumber(line - 1)
            sel.cursor = QTextCursor(block)
            sels.append(sel)
        self.editor.setExtraSelections(sels)
        return ok

    def open(self, name: str) -> None:
        if not name:
            return
        path = self.folder / f"{name}.txt"
        self.current = path
        self.editor.setPlainText(path.read_bytes().decode("utf-8", errors="replace"))
        self.check()

    def new(self, name: str | None = None) -> None:
        if name is None:
            name, ok = QInputDialog.getText(self, "New vocabulary", "Name (letters, digits, . _ -):")
            if not ok:
                return
        if not NAME.match(name):
            self._say("A vocabulary name uses letters, digits, dot, dash and underscore.", error=True)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}.txt"
        if not path.exists():
            path.write_text(TEMPLATE, encoding="utf-8", newline="\n")
        self.refresh()
        items = self.list.findItems(name, self._exact())
        if items:
            self.list.setCurrentItem(items[0])

    @staticmethod
    def _exact():
        from PySide6.QtCore import Qt
        return Qt.MatchFlag.MatchExactly

    def save(self) -> bool:
        if not self.current or not self.check():
            return False
        self.current.write_bytes(self.data())
        self.message.setText(f"Saved {self.current.name}. " + self.message.text())
        return True

    def publish(self, on_done=None) -> None:
        """Save, then create or update the vocabulary in the settings' engine (off the GUI thread)."""
        if not self.save():
            return
        name, path, kind = self.current.stem, self.current, self.ctx.settings.engine
        label = ENGINE_LABELS.get(kind, kind)
        self.publish_button.setEnabled(False)
        self.message.setText(f"Sending {name} to the {label} engine…")

        def done(response):
            self.publish_button.setEnabled(True)
            state = response.get("VocabularyState", "?")
            reason = response.get("FailureReason")
            text = f"{name} is {state} on the {label} engine."
            if state == "READY":
                text += " Jobs can use it now."
            elif state == "PENDING":
                text += " It can be used once it is READY."
            if reason:
                text += f" {reason}"
            self.message.setText(text)
            if on_done:
                on_done(response)

        def failed(exc):
            self.publish_button.setEnabled(True)
            message = getattr(exc, "response", {}).get("Error", {}).get("Message") or str(exc)
            self._say(f"Could not send {name} to the {label} engine: {message}", error=True)

        run_async(lambda: self.ctx.engine(kind).put_vocabulary(name, path), done, failed)

    def import_file(self, path: Path) -> bool:
        """Copy a vocabulary file in (named after the file); it is shown and checked."""
        path = Path(path)
        name = re.sub(r"[^0-9A-Za-z._-]+", "-", path.stem) or "vocabulary"
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{name}.txt"
        raw = path.read_bytes()
        target.write_bytes(raw)
        self.refresh()
        items = self.list.findItems(name, self._exact())
        if items:
            self.list.setCurrentItem(items[0])
        self.check()
        self.timer.stop()
        ok, message, _ = check_vocabulary(raw)   # the file as it is (the editor normalises line ends)
        if not ok:
            self.valid = False
            self._say(f"The imported file breaks a rule: {message} Saving it here fixes line endings.", error=True)
        return ok

    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import vocabulary", str(Path.home()), "Text (*.txt);;All (*)")
        if path:
            self.import_file(Path(path))

    def export_file(self, path: Path) -> bool:
        if not self.check():
            return False
        Path(path).write_bytes(self.data())
        return True

    def export_dialog(self) -> None:
        name = self.current.name if self.current else "vocabulary.txt"
        path, _ = QFileDialog.getSaveFileName(self, "Export vocabulary", name, "Text (*.txt)")
        if path:
            self.export_file(Path(path))
