"""Note details: the patient, encounter, author and note type kept with a job (its NoteHeader).

A thin Qt layer over app.export.note: the header is loaded and saved off the GUI thread, sealed
with the job's own key when its transcript is encrypted (the document's sealer), and
``NoteHeader.problems()`` is shown in the error style as the user types.
"""

from __future__ import annotations

from dataclasses import asdict

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLineEdit,
                               QVBoxLayout, QWidget)

from ..export.note import NOTE_TYPES, STATUSES, NoteHeader, load_header, save_header
from .common import describe_error, hint_label, say
from .workers import run_async

# (NoteHeader field, label, placeholder) of the line edits, in the order of the form
_TEXT_FIELDS = (("patient_name", "Patient name:", "as it should appear, e.g. Smith, John"),
                ("patient_id", "MRN:", "the patient's identifier (needed to send to the EHR)"),
                ("patient_id_system", "MRN system:", "optional, e.g. urn:oid:1.2.3 or https://clinic.example/mrn"),
                ("patient_birth_date", "Date of birth:", "YYYY-MM-DD"),
                ("encounter_id", "Encounter:", "the visit's identifier"),
                ("author_name", "Author:", "the reviewing clinician"),
                ("author_id", "Author ID (NPI):", "e.g. 1234567893"),
                ("organization", "Organisation:", "the clinic or hospital"),
                ("service_date", "Date of service:", "YYYY-MM-DD or YYYY-MM-DDTHH:MM (empty: the job's time)"))


def load_job_header(ctx, doc) -> NoteHeader:
    """The job's header (blocking: call off the GUI thread), with Settings' author defaults."""
    return load_header(ctx.home, doc.engine, doc.job_name, asdict(ctx.settings), sealer=doc.sealer)


def load_note_context(ctx, doc) -> tuple[NoteHeader, object]:
    """(the job's header, its creation time or None) — blocking. The creation time, the note's
    date of service when the header has none, is asked of the engine the editor opened the job with."""
    engine = getattr(ctx, "_engines", {}).get(doc.engine)  # never made here: a sample opened directly has none
    created = None
    if engine is not None:
        from ..ehr.send import _created

        created = _created(engine, doc.job_name)
    return load_job_header(ctx, doc), created


def save_job_header(ctx, doc, header: NoteHeader) -> None:
    """Save (blocking), sealed like the job's edits when its transcript is encrypted."""
    save_header(ctx.home, doc.engine, doc.job_name, header, sealer=doc.sealer)


class NoteHeaderForm(QWidget):
    """The header's fields; ``changed`` after every keystroke, ``problems()`` as NoteHeader says."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        form = QFormLayout(self)
        self.fields: dict[str, QLineEdit] = {}
        for name, label, placeholder in _TEXT_FIELDS:
            edit = QLineEdit()
            edit.setPlaceholderText(placeholder)
            edit.setAccessibleName(label.rstrip(":"))
            edit.textChanged.connect(self.changed)
            self.fields[name] = edit
            form.addRow(label, edit)
        self.note_type = QComboBox()
        self.note_type.setAccessibleName("Note type")
        for code, display in NOTE_TYPES.items():
            self.note_type.addItem(f"{display} ({code})", code)
        self.note_type.currentIndexChanged.connect(self.changed)
        form.insertRow(8, "Note type:", self.note_type)
        self.preliminary = QCheckBox("Preliminary (not yet final)")
        self.preliminary.setAccessibleName("Preliminary")
        self.preliminary.toggled.connect(self.changed)
        form.addRow("Status:", self.preliminary)
        self.problems_label = hint_label(error=True)
        self.problems_label.setAccessibleName("Note details problems")
        self.problems_label.hide()
        form.addRow(self.problems_label)
        self.changed.connect(self._show_problems)

    def set_header(self, header: NoteHeader) -> None:
        for name, edit in self.fields.items():
            edit.blockSignals(True)
            edit.setText(getattr(header, name))
            edit.blockSignals(False)
        index = self.note_type.findData(header.note_type)
        if index < 0:  # a code from elsewhere: kept, and problems() says what is wrong with it
            self.note_type.addItem(header.note_type, header.note_type)
            index = self.note_type.count() - 1
        self.note_type.setCurrentIndex(index)
        self.preliminary.setChecked(header.status == "preliminary")
        self._show_problems()

    def header(self) -> NoteHeader:
        values = {name: edit.text().strip() for name, edit in self.fields.items()}
        return NoteHeader(**values, note_type=self.note_type.currentData(),
                          status=STATUSES[1] if self.preliminary.isChecked() else STATUSES[0])

    def problems(self) -> list[str]:
        return self.header().problems()

    def _show_problems(self) -> None:
        problems = self.problems()
        self.problems_label.setText("\n".join(problems))
        self.problems_label.setVisible(bool(problems))


class NoteDetailsDialog(QDialog):
    """Edit and save one job's note header; ``saved(header)`` once it is on disk."""

    saved = Signal(object)

    def __init__(self, ctx, doc, parent=None):
        super().__init__(parent)
        self.ctx, self.doc = ctx, doc
        self.setWindowTitle(f"Note details — {doc.job_name}")
        self.setMinimumWidth(560)  # the hints in the fields are read whole
        lay = QVBoxLayout(self)
        self.form = NoteHeaderForm()
        self.form.setEnabled(False)
        lay.addWidget(self.form)
        self.message = hint_label("Loading…")
        self.message.setAccessibleName("Note details status")
        lay.addWidget(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setEnabled(False)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.form.changed.connect(self._update)
        self.loaded = False
        run_async(lambda: load_job_header(ctx, doc), self._loaded, self._failed)

    def _say(self, text: str, *, error: bool = False) -> None:
        say(self.message, text, error=error)

    def _loaded(self, header: NoteHeader) -> None:
        self.form.set_header(header)
        self.form.setEnabled(True)
        self.loaded = True
        self._say("")
        self._update()

    def _failed(self, exc: BaseException) -> None:
        self._say(f"The note details could not be opened: {describe_error(exc)}", error=True)

    def _update(self) -> None:
        self.save_button.setEnabled(self.loaded and not self.form.problems())

    def save(self) -> None:
        header = self.form.header()
        if header.problems():
            return
        self.save_button.setEnabled(False)

        def done(_):
            self._say("Saved.")
            self._update()
            self.saved.emit(header)

        def failed(exc):
            self._say(f"Not saved: {describe_error(exc)}", error=True)
            self._update()

        run_async(lambda: save_job_header(self.ctx, self.doc, header), done, failed)


def show_dialog(editor, attribute: str, make):
    """The dialog ``editor.<attribute>`` for the open transcript: brought forward when it is already
    open on it, else made with ``make()``; None (said in the status bar) when no transcript is open."""
    if editor.doc is None:
        editor.status_message.emit("Open a transcript first.")
        return None
    dialog = getattr(editor, attribute, None)
    if dialog is not None and dialog.isVisible() and dialog.doc is editor.doc:
        dialog.raise_()
        dialog.activateWindow()
        return dialog
    dialog = make()
    setattr(editor, attribute, dialog)
    dialog.show()
    return dialog


def open_note_details(editor) -> NoteDetailsDialog | None:
    """The Note details dialog of the editor's open transcript."""
    return show_dialog(editor, "note_details_dialog", lambda: NoteDetailsDialog(editor.ctx, editor.doc, editor))
