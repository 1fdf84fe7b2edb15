"""The hooks of issue 12's dialogs: the editor's header buttons and outbox status line, the File
menu's actions and the app-wide outbox retry timer, each installed with one call."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu, QPushButton, QToolButton

from .common import hint_label
from .exporting import copy_note, open_export
from .notehead import open_note_details
from .sending import OutboxRetrier, open_send, status_line
from .workers import run_async


class NoteActions(QObject):
    """Export… and a Note menu (Note details…, Send to EHR…, Copy note to clipboard) with the outbox
    status of the open job, in the editor's header."""

    def __init__(self, editor, head_layout):
        super().__init__(editor)
        self.editor = editor
        self.status = hint_label()
        self.status.setAccessibleName("EHR status")
        head_layout.insertWidget(1, self.status)
        self.export_button = QPushButton("Export…")
        self.export_button.setAccessibleName("Export")
        self.export_button.setToolTip("Export the note as edited (Ctrl+E)")
        self.export_button.clicked.connect(lambda: open_export(editor))
        head_layout.addWidget(self.export_button)
        # the rest in one menu button: the header row stays as narrow as it was
        self.note_button = QToolButton()
        self.note_button.setText("Note")
        self.note_button.setAccessibleName("Note actions")
        self.note_button.setToolTip("Note details, Send to EHR, Copy to clipboard")
        self.note_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.note_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        menu = QMenu(self.note_button)
        self.details_action = menu.addAction("Note details…", self.details)
        self.send_action = menu.addAction("Send to EHR…", self.send)
        self.copy_action = menu.addAction("Copy note to clipboard", lambda: copy_note(editor))
        self.note_button.setMenu(menu)
        head_layout.addWidget(self.note_button)

    def details(self):
        return open_note_details(self.editor)

    def send(self):
        dialog = open_send(self.editor)
        if dialog is not None:
            dialog.finished_send.connect(lambda _row: self.refresh())
        return dialog

    def refresh(self) -> None:
        """Read the open job's outbox status line (off the GUI thread) into the header."""
        doc, ctx = self.editor.doc, self.editor.ctx
        if doc is None:
            self.status.setText("")
            return

        def done(text):
            if self.editor.doc is doc:
                self.status.setText(f"EHR: {text}" if text else "")

        run_async(lambda: status_line(ctx, doc), done, lambda _exc: self.status.setText(""))


def add_note_actions(editor, head_layout) -> NoteActions:
    """Install the buttons into ``head_layout``; ``editor.export_button`` is the Export… button."""
    actions = NoteActions(editor, head_layout)
    editor.export_button = actions.export_button
    return actions


def add_menu_actions(window, menu, action) -> None:
    """File menu items (``action(menu, text, slot, shortcut)`` is the window's own helper) and the
    app-wide outbox retry timer (``window.outbox_retrier``)."""
    editor = window.editor
    actions = editor.note_actions
    action(menu, "&Copy note to clipboard", lambda: copy_note(editor), QKeySequence("Ctrl+Shift+C"))
    action(menu, "&Send to EHR…", actions.send, QKeySequence("Ctrl+Shift+E"))
    action(menu, "Note &details…", actions.details)
    window.outbox_retrier = OutboxRetrier(window.ctx, window)

    def retried(rows):
        actions.refresh()
        sent = sum(1 for r in rows if r.status == "sent")
        if sent:
            window.statusBar().showMessage(f"{sent} note{'s' if sent != 1 else ''} from the outbox reached the EHR.",
                                           5000)

    window.outbox_retrier.retried.connect(retried)
