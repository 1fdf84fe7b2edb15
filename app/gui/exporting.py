"""Export… and Copy note to clipboard: the document the editor has open, as edited, in any of
app.export's FORMATS. The note is built on the GUI thread from what the user sees (pending edits
committed first); rendering and writing happen on a pool thread; files are owner-only."""

from __future__ import annotations

import atexit
from pathlib import Path

from PySide6.QtCore import QMimeData
from PySide6.QtWidgets import (QApplication, QCheckBox, QComboBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout,
                               QLineEdit, QPushButton, QVBoxLayout)

from ..core.privacy import write_private
from ..export import FORMATS, export
from ..export.clipboard import render as clipboard_render
from ..export.note import build_note
from .common import describe_error, hint_label, say
from .notehead import load_note_context, open_note_details, show_dialog
from .workers import run_async

# the options each format honours (redaction works for all)
SUPPORTS = {"speakers": {"text", "html", "docx", "pdf", "srt", "vtt"},
            "timestamps": {"text", "html", "docx", "pdf"},
            "confidence": {"docx", "pdf"}}


def default_folder() -> Path:
    docs = Path.home() / "Documents"
    return docs if docs.is_dir() else Path.home()


def write_export(path: Path, body: str | bytes) -> int:
    """``body`` into ``path``, owner-only (it holds PHI); the number of bytes written."""
    data = body if isinstance(body, bytes) else body.encode("utf-8")
    if path.is_dir():
        raise ValueError(f"{path} is a folder.")
    if not path.parent.is_dir():
        raise ValueError(f"there is no folder {path.parent}.")
    write_private(path, data)
    return len(data)


class ExportDialog(QDialog):
    """Format, options and file of one export; says where it wrote the file or why it did not."""

    def __init__(self, editor, parent=None):
        super().__init__(parent)
        self.editor, self.ctx, self.doc = editor, editor.ctx, editor.doc
        self.header, self.created = None, None
        self.written: Path | None = None
        self.setWindowTitle(f"Export — {self.doc.job_name}")
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.format = QComboBox()
        self.format.setAccessibleName("Export format")
        for fmt in FORMATS.values():
            self.format.addItem(f"{fmt.label or fmt.name} ({fmt.extension})", fmt.name)
        form.addRow("Format:", self.format)
        self.redact = QCheckBox("Redact PHI in the text ([PHI-Personal])")
        self.redact.setChecked(editor.redact.isChecked())
        self.redact_header = QCheckBox("Leave the patient's name, MRN and date of birth out")
        self.speakers = QCheckBox("Speaker names")
        self.speakers.setChecked(True)
        self.timestamps = QCheckBox("Timestamps")
        self.confidence = QCheckBox("Colour low-confidence words")
        for box in (self.redact, self.redact_header, self.speakers, self.timestamps, self.confidence):
            box.setAccessibleName(box.text())
            form.addRow("", box)
        row = QHBoxLayout()
        self.path = QLineEdit()
        self.path.setAccessibleName("Export file")
        row.addWidget(self.path, 1)
        choose = QPushButton("Choose…")
        choose.setAccessibleName("Choose export file")
        choose.clicked.connect(self.choose)
        row.addWidget(choose)
        form.addRow("File:", row)
        lay.addLayout(form)
        self.message = hint_label("Loading the note details…")
        self.message.setAccessibleName("Export status")
        lay.addWidget(self.message)
        buttons = QHBoxLayout()
        self.details_button = QPushButton("Note details…")
        self.details_button.clicked.connect(self._details)
        buttons.addWidget(self.details_button)
        buttons.addStretch(1)
        self.copy_button = QPushButton("Copy to clipboard")
        self.copy_button.clicked.connect(self.copy)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.export)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        for b in (self.copy_button, self.export_button, close):
            buttons.addWidget(b)
        lay.addLayout(buttons)
        self.path.setText(str(default_folder() / f"{self.doc.job_name}{FORMATS['docx'].extension}"))
        self.format.currentIndexChanged.connect(self._format_changed)
        self.format.setCurrentIndex(self.format.findData("docx"))
        self._format_changed()
        self._set_busy(True)
        self.reload_header()

    # -- state ---------------------------------------------------------------------
    def reload_header(self) -> None:
        def done(context):
            self.header, self.created = context
            self._set_busy(False)
            problems = self.header.problems()
            say(self.message, f"The note details need fixing: {problems[0]}" if problems else "", error=bool(problems))

        def failed(exc):
            say(self.message, f"The note details could not be opened: {describe_error(exc)}", error=True)

        run_async(lambda: load_note_context(self.ctx, self.doc), done, failed)

    def _details(self) -> None:
        dialog = open_note_details(self.editor)
        if dialog is not None:  # what it saves is what is exported next
            dialog.saved.connect(self._header_saved)

    def _header_saved(self, header) -> None:
        self.header = header
        say(self.message, "")

    def _set_busy(self, busy: bool) -> None:
        self.export_button.setEnabled(not busy)
        self.copy_button.setEnabled(not busy)

    def format_name(self) -> str:
        return self.format.currentData()

    def _format_changed(self) -> None:
        name = self.format_name()
        for option, box in (("speakers", self.speakers), ("timestamps", self.timestamps),
                            ("confidence", self.confidence)):
            box.setEnabled(name in SUPPORTS[option])
        text = self.path.text().strip()
        if text:
            self.path.setText(str(Path(text).with_suffix(FORMATS[name].extension)))

    def choose(self) -> None:
        fmt = FORMATS[self.format_name()]
        path, _ = QFileDialog.getSaveFileName(self, "Export transcript", self.path.text(),
                                              f"{fmt.label or fmt.name} (*{fmt.extension})")
        if path:
            self.path.setText(path)

    def note(self):
        """The note of the editor's document as it is now (pending edits committed first)."""
        self.editor.commit_all()
        return build_note(self.doc, self.header, redact=self.redact.isChecked(),
                          redact_header=self.redact_header.isChecked(), created=self.created)

    def options(self) -> dict:
        name = self.format_name()
        return {"document": self.doc, "speakers": self.speakers.isChecked() or name not in SUPPORTS["speakers"],
                "timestamps": self.timestamps.isChecked() and name in SUPPORTS["timestamps"],
                "confidence": self.confidence.isChecked() and name in SUPPORTS["confidence"]}

    # -- actions -------------------------------------------------------------------
    def export(self) -> None:
        if self.header is None:
            return
        problems = self.header.problems()
        if problems:
            say(self.message, f"Not exported: the note details need fixing: {problems[0]}", error=True)
            return
        text = self.path.text().strip()
        if not text:
            say(self.message, "Choose a file to export to.", error=True)
            return
        path, name = Path(text).expanduser(), self.format_name()
        note, options = self.note(), self.options()
        label = FORMATS[name].label or name
        self._set_busy(True)
        say(self.message, f"Exporting {label}…")

        def done(size):
            self._set_busy(False)
            self.written = path
            say(self.message, f"Wrote {path} ({label}, {size} bytes).")
            self.editor.status_message.emit(f"Exported to {path}.")

        def failed(exc):
            self._set_busy(False)
            say(self.message, f"Not exported: {describe_error(exc)}", error=True)

        run_async(lambda: write_export(path, export(note, name, **options)), done, failed)

    def copy(self) -> None:
        if self.header is None:
            return
        set_clipboard(self.note(), speakers=self.speakers.isChecked(), timestamps=self.timestamps.isChecked())
        say(self.message, "The note is on the clipboard (text and HTML).")


_on_clipboard: list[QMimeData] = []  # what this process last put there (the clipboard owns it)


def _hand_over() -> None:
    """At exit, our note's data on the clipboard becomes Qt's own (plain text): a QMimeData made
    from Python that the clipboard still holds when the application is torn down crashes the
    process on its way out (PySide6 6.11, seen offscreen)."""
    clipboard = QApplication.clipboard() if QApplication.instance() is not None else None
    if clipboard is not None and _on_clipboard and clipboard.mimeData() is _on_clipboard[0]:
        clipboard.setText(_on_clipboard[0].text())
    _on_clipboard.clear()


def set_clipboard(note, **options) -> QMimeData:
    """The note as plain text plus HTML on the system clipboard."""
    flavours = clipboard_render(note, **options)
    mime = QMimeData()
    mime.setText(flavours.text)
    mime.setHtml(flavours.html)
    if not _on_clipboard:
        atexit.register(_hand_over)
    _on_clipboard[:] = [mime]
    QApplication.clipboard().setMimeData(mime)
    return mime


def open_export(editor) -> ExportDialog | None:
    return show_dialog(editor, "export_dialog", lambda: ExportDialog(editor, editor))


def copy_note(editor, on_done=None) -> None:
    """Copy the open note (as edited, redacted when the editor shows it redacted) to the clipboard."""
    if editor.doc is None:
        editor.status_message.emit("Open a transcript first.")
        return
    editor.commit_all()
    doc, redact = editor.doc, editor.redact.isChecked()

    def done(context):
        if editor.doc is not doc:
            return
        set_clipboard(build_note(doc, context[0], redact=redact, created=context[1]))
        editor.status_message.emit("Note copied to the clipboard" + (" (PHI redacted)." if redact else "."))
        if on_done:
            on_done()

    run_async(lambda: load_note_context(editor.ctx, doc), done,
              lambda exc: editor.status_message.emit(f"Not copied: {describe_error(exc)}"))
