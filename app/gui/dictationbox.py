"""A small always-on-top dictation box: the live words over the EHR (or any) window the clinician
is typing into, with Pause and Stop, so they need not switch back to ClinScribe while dictating."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTextEdit, QVBoxLayout, QWidget


class DictationBox(QWidget):
    stop_requested = Signal()
    pause_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        # a tool window of the main window: above other applications, no task-bar entry of its own
        super().__init__(parent, Qt.Tool | Qt.WindowStaysOnTopHint)
        self.setWindowTitle("ClinScribe — dictating")
        self.setAccessibleName("Dictation box")
        lay = QVBoxLayout(self)
        self.text = QTextEdit()
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Live words (on top)")
        self.text.setPlaceholderText("Words appear here as you speak.")
        lay.addWidget(self.text)
        row = QHBoxLayout()
        self.elapsed = QLabel("0:00")
        self.elapsed.setAccessibleName("Recording time")
        row.addWidget(self.elapsed)
        row.addStretch(1)
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop recording; the transcript opens in ClinScribe")
        for b in (self.pause_button, self.stop_button):
            row.addWidget(b)
        lay.addLayout(row)
        self.pause_button.clicked.connect(self.pause_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.resize(420, 180)

    def show_words(self, html: str) -> None:
        self.text.setHtml(html)
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())

    def set_state(self, elapsed: str, paused: bool) -> None:
        self.elapsed.setText(elapsed + (" (paused)" if paused else ""))
        self.pause_button.setText("Resume" if paused else "Pause")

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        # closing the box never stops or loses the recording: it goes on in the recorder
        event.accept()
