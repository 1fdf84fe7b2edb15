"""Send to EHR…: the note the editor has open (as edited) to the FHIR server or the interface engine
set in Settings, through app.ehr.send's outbox, off the GUI thread; the result in words, Retry, and
the job's outbox status line. ``OutboxRetrier`` retries what is due every minute, app-wide."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDialog, QFormLayout, QHBoxLayout, QPushButton, QVBoxLayout

from ..ehr import send
from ..ehr.outbox import SENT, Outbox
from ..export.note import build_note
from .common import describe_error, hint_label, say
from .notehead import load_note_context, open_note_details, show_dialog
from .workers import run_async

KIND_LABELS = {"fhir": "FHIR server", "hl7": "Interface engine (HL7 v2 over MLLP)"}
NOT_SET_UP = ("No EHR is set up. In Settings ▸ Notes and EHR, enter the FHIR server's base URL, or the "
              "interface engine's host and port (then, for a bearer token, run clinscribe ehr-login).")


def configured_kinds(settings) -> list[str]:
    """The destinations Settings has: fhir (a base URL), hl7 (an MLLP host)."""
    return [k for k, on in (("fhir", bool(settings.fhir_base_url)), ("hl7", bool(settings.mllp_host))) if on]


def protection_of(doc):
    """(key id, context) of an encrypted job (its outbox payload is sealed with it), else None."""
    sealer = getattr(doc, "sealer", None)
    return (sealer.key_id, sealer.context) if sealer is not None else None


def describe_row(row) -> str:
    """The outcome of one send in words."""
    if row.status == SENT:
        when = dt.datetime.fromtimestamp(row.sent_time or 0).strftime("%H:%M")
        return f"Sent to the EHR at {when} ({row.server_id})."
    return f"Failed: {row.last_error or 'unknown error'} — kept in the outbox; Retry."


def retry_row(ctx, row_id: str):
    """Send one outbox row again now (blocking)."""
    outbox = Outbox.open(ctx.home)
    row = outbox.get(row_id)
    if row is None or row.status == SENT:
        return row
    try:
        client = send.client_for(row, ctx.settings)
    except (send.SendError, ValueError) as exc:
        outbox.mark_failed(row.id, str(exc))
        return outbox.get(row.id)
    return send.deliver(outbox, row, client)


def status_line(ctx, doc) -> str:
    """The job's outbox status ("sent to EHR 2026-12-02 14:02", "failed: … — Retry"), blocking."""
    return Outbox.open(ctx.home).status_line(doc.job_name, doc.engine)


class SendDialog(QDialog):
    """Where to send, redaction, Send, the result in words, Retry."""

    finished_send = Signal(object)  # the outbox row after a send or a retry

    def __init__(self, editor, parent=None):
        super().__init__(parent)
        self.editor, self.ctx, self.doc = editor, editor.ctx, editor.doc
        self.header, self.created = None, None
        self.row = None
        self.setWindowTitle(f"Send to EHR — {self.doc.job_name}")
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.kind = QComboBox()
        self.kind.setAccessibleName("Send to")
        for kind in configured_kinds(self.ctx.settings):
            self.kind.addItem(KIND_LABELS[kind], kind)
        form.addRow("Send to:", self.kind)
        self.redact = QCheckBox("Redact PHI in the text")
        self.redact.setAccessibleName("Redact PHI in the text")
        form.addRow("", self.redact)
        self.bundle = QCheckBox("As a transaction Bundle (Patient, Composition, DocumentReference)")
        self.bundle.setAccessibleName("Transaction Bundle")
        form.addRow("", self.bundle)
        lay.addLayout(form)
        self.message = hint_label()
        self.message.setAccessibleName("Send status")
        lay.addWidget(self.message)
        buttons = QHBoxLayout()
        self.details_button = QPushButton("Note details…")
        self.details_button.clicked.connect(self._details)
        buttons.addWidget(self.details_button)
        buttons.addStretch(1)
        self.retry_button = QPushButton("Retry")
        self.retry_button.clicked.connect(self.retry)
        self.retry_button.hide()
        self.send_button = QPushButton("Send")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        for b in (self.retry_button, self.send_button, close):
            buttons.addWidget(b)
        lay.addLayout(buttons)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()
        self.send_button.setEnabled(False)
        if not self.kind.count():
            self.kind.setEnabled(False)
            say(self.message, NOT_SET_UP, error=True)
            return
        self._load_header()

    def _kind_changed(self) -> None:
        self.bundle.setVisible(self.kind.currentData() == "fhir")

    def _load_header(self) -> None:
        def done(context):
            self.header, self.created = context
            self.send_button.setEnabled(bool(self.kind.count()))

        run_async(lambda: load_note_context(self.ctx, self.doc), done,
                  lambda exc: say(self.message, f"The note details could not be opened: {describe_error(exc)}",
                                  error=True))

    def _details(self) -> None:
        dialog = open_note_details(self.editor)
        if dialog is not None:  # the corrected header is the one sent next
            dialog.saved.connect(lambda header: (setattr(self, "header", header), say(self.message, "")))

    def send(self) -> None:
        if self.header is None or not self.kind.count():
            return
        self.editor.commit_all()
        problems = self.header.problems()
        if problems:
            say(self.message, f"Not sent: the note details need fixing: {problems[0]}", error=True)
            return
        # what the user sees is what is sent
        note = build_note(self.doc, self.header, redact=self.redact.isChecked(), created=self.created)
        kind, bundle, protection = self.kind.currentData(), self.bundle.isChecked(), protection_of(self.doc)
        ctx = self.ctx
        self.send_button.setEnabled(False)
        self.retry_button.hide()
        say(self.message, "Sending…")
        run_async(lambda: send.send_note(note, kind, bundle=bundle and kind == "fhir", settings=ctx.settings,
                                         base=ctx.home, protection=protection), self._sent, self._refused)

    def retry(self) -> None:
        if self.row is None:
            return
        row_id, ctx = self.row.id, self.ctx
        self.retry_button.setEnabled(False)
        say(self.message, "Sending again…")
        run_async(lambda: retry_row(ctx, row_id), self._sent, self._refused)

    def _sent(self, row) -> None:
        self.row = row
        self.send_button.setEnabled(True)
        self.retry_button.setEnabled(True)
        failed = row is not None and row.status != SENT
        self.retry_button.setVisible(failed)
        say(self.message, describe_row(row) if row is not None else "That send is no longer in the outbox.",
            error=failed)
        self.finished_send.emit(row)

    def _refused(self, exc: BaseException) -> None:
        """A note send.py will not queue (no patient identifier, no destination): its own words."""
        self.send_button.setEnabled(True)
        self.retry_button.setEnabled(True)
        say(self.message, f"Not sent: {describe_error(exc)}", error=True)
        self.details_button.setFocus()


def open_send(editor) -> SendDialog | None:
    return show_dialog(editor, "send_dialog", lambda: SendDialog(editor, editor))


class OutboxRetrier(QObject):
    """Every ``interval_ms``, sends again the outbox rows that are due (off the GUI thread)."""

    retried = Signal(list)  # the rows it sent again

    def __init__(self, ctx, parent=None, interval_ms: int = 60_000):
        super().__init__(parent)
        self.ctx, self.running = ctx, False
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.run)
        self.timer.start()
        if parent is not None:  # stops with its window
            parent.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Close:
            self.timer.stop()
        return False

    def run(self) -> None:
        if self.running:
            return
        self.running = True
        ctx = self.ctx

        def done(rows):
            self.running = False
            if rows:
                self.retried.emit(rows)

        def failed(_exc):  # a damaged outbox or settings: tried again at the next tick
            self.running = False

        run_async(lambda: send.retry(settings=ctx.settings, base=ctx.home), done, failed)
