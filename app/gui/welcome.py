"""The first launch: what ClinScribe does, and the two ways to start (record or import)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .common import hint_label


class WelcomeView(QWidget):
    record_requested = Signal()
    import_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(48, 40, 48, 40)
        lay.addWidget(QLabel("<h1>Welcome to ClinScribe</h1>"))
        text = hint_label(
            "Dictate a note or record a consultation, and get an editable transcript with speakers, "
            "word confidences, alternative wordings and highlighted PHI. Everything stays on this "
            "computer unless you choose the AWS engine in Settings.")
        text.setMaximumWidth(640)
        lay.addWidget(text)
        buttons = QHBoxLayout()
        self.record_button = QPushButton("Record a dictation  (Ctrl+R)")
        self.record_button.setAccessibleName("Record")
        self.import_button = QPushButton("Import a recording  (Ctrl+O)")
        self.import_button.setAccessibleName("Import")
        for b in (self.record_button, self.import_button):
            b.setMinimumHeight(40)
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.record_button.clicked.connect(self.record_requested)
        self.import_button.clicked.connect(self.import_requested)
        lay.addLayout(buttons)
        lay.addWidget(hint_label("Then choose the job's settings, submit, and open the transcript from Jobs. "
                                 "Every view is in the list on the left (Ctrl+1 … Ctrl+7); "
                                 "shortcuts are shown in the menus."))
        lay.addStretch(1)
        self.record_button.setFocus(Qt.FocusReason.OtherFocusReason)
