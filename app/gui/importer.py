"""Import an audio file by dialog or drag and drop; it is checked before any job is made."""

from __future__ import annotations

from dataclasses import replace

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFileDialog, QFormLayout, QFrame, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)

from ..local import media
from ..store import audiovault
from .common import AppContext, describe_error, hint_label
from .workers import run_async

EXTENSIONS = ("mp3", "mp4", "wav", "flac", "ogg", "amr", "webm", "m4a")
FILTER = "Audio files (" + " ".join(f"*.{e}" for e in EXTENSIONS) + ");;All files (*)"


def explain(reason: str) -> str:
    """AWS's FailureReason with a sentence a clinician can act on."""
    advice = {
        media.UNSUPPORTED_FORMAT: "This file is not audio the engine can read. Use MP3, MP4, WAV, FLAC, OGG, "
                                  "AMR, WebM or M4A.",
        media.INVALID_RATE: "The audio's sample rate must be between 16,000 and 48,000 Hz.",
        media.TOO_MANY_CHANNELS: "The audio has more than two channels; transcription accepts mono or two-channel.",
        media.FILE_TOO_LARGE: "The file is larger than 2 GB.",
    }
    return f"{advice.get(reason, reason)} ({reason})"


CHANNELS = {(1, ""): "1 (mono)", (2, ""): "2 (stereo / two-channel)",
            (2, "distinct"): "2 (two channels, different voices)",
            (2, "same"): "2 (the same sound on both: one voice)",
            (2, "one-silent"): "2 (only one channel has sound)"}

class DropZone(QFrame):
    dropped = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("dropzone")
        self.setAcceptDrops(True)
        self.setMinimumHeight(140)
        self.setAccessibleName("Drop an audio file here")
        lay = QVBoxLayout(self)
        label = QLabel("Drop an audio file here\n(MP3, MP4, WAV, FLAC, OGG, AMR, WebM, M4A)")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(label)

    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
            self.setProperty("hover", True)
            self.style().polish(self)

    def dragLeaveEvent(self, event):
        self.setProperty("hover", False)
        self.style().polish(self)

    def dropEvent(self, event):
        self.setProperty("hover", False)
        self.style().polish(self)
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.dropped.emit(Path(url.toLocalFile()))
                event.acceptProposedAction()
                return


class ImportView(QWidget):
    media_ready = Signal(object, object)   # Path, MediaInfo
    play_requested = Signal(object)        # Path

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.path: Path | None = None
        self.info: media.MediaInfo | None = None
        self.setAcceptDrops(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 16, 24, 16)
        lay.addWidget(QLabel("<h2>Import audio</h2>"))
        self.zone = DropZone()
        self.zone.dropped.connect(self.load_file)
        lay.addWidget(self.zone)
        row = QHBoxLayout()
        self.choose_button = QPushButton("Choose file…")
        self.choose_button.setAccessibleName("Choose audio file")
        self.choose_button.setToolTip("Open an audio file (Ctrl+O)")
        self.choose_button.clicked.connect(self.choose)
        row.addWidget(self.choose_button)
        row.addStretch(1)
        lay.addLayout(row)

        box = QGroupBox("File")
        form = QFormLayout(box)
        self.name_label = QLabel("—")
        self.format_label = QLabel("—")
        self.rate_label = QLabel("—")
        self.channels_label = QLabel("—")
        self.duration_label = QLabel("—")
        for text, w in (("Name:", self.name_label), ("Format:", self.format_label),
                        ("Sample rate:", self.rate_label), ("Channels:", self.channels_label),
                        ("Duration:", self.duration_label)):
            w.setAccessibleName(text.rstrip(":"))
            w.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(text, w)
        self.message = hint_label(error=True)
        self.message.setAccessibleName("Import problem")
        self.message.hide()
        form.addRow(self.message)
        lay.addWidget(box)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.play_button = QPushButton("▶ Play")
        self.play_button.setAccessibleName("Play imported file")
        self.play_button.clicked.connect(lambda: self.path and self.play_requested.emit(self.path))
        self.transcribe_button = QPushButton("Transcribe…")
        self.transcribe_button.setAccessibleName("Transcribe imported file")
        self.transcribe_button.clicked.connect(lambda: self.info and self.media_ready.emit(self.path, self.info))
        buttons.addWidget(self.play_button)
        buttons.addWidget(self.transcribe_button)
        lay.addLayout(buttons)
        lay.addStretch(1)
        self._set_ok(False)

    def dragEnterEvent(self, event):
        self.zone.dragEnterEvent(event)

    def dropEvent(self, event):
        self.zone.dropEvent(event)

    def choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import audio", str(Path.home()), FILTER)
        if path:
            self.load_file(Path(path))

    def _set_ok(self, ok: bool) -> None:
        self.transcribe_button.setEnabled(ok)
        self.play_button.setEnabled(ok)

    def load_file(self, path: Path) -> None:
        """Check ``path`` with the core (off the GUI thread) and show what it is."""
        path = Path(path)
        self.path, self.info = path, None
        self._set_ok(False)
        self.name_label.setText(path.name)
        for w in (self.format_label, self.rate_label, self.channels_label, self.duration_label):
            w.setText("…")
        self.message.hide()

        def done(info):
            if self.path != path:
                return
            self.info = info
            self.format_label.setText(info.media_format.upper())
            self.rate_label.setText(f"{info.sample_rate} Hz")
            self.channels_label.setText(CHANNELS.get((info.channels, info.channel_layout), str(info.channels)))
            minutes, seconds = divmod(info.duration, 60)
            self.duration_label.setText(f"{int(minutes)}:{seconds:04.1f}  ({info.duration:.1f} s)")
            self._set_ok(True)

        def failed(exc):
            if self.path != path:
                return
            for w in (self.format_label, self.rate_label, self.channels_label, self.duration_label):
                w.setText("—")
            text = explain(str(exc)) if isinstance(exc, media.MediaError) else \
                f"The file could not be read: {describe_error(exc)}"
            self.message.setText(text)
            self.message.show()

        def work():
            source = audiovault.open_audio(self.ctx.home, path)   # a recording encrypted at rest opens in memory
            info = media.check(source)
            if info.channels == 2:  # two people, or one voice saved on two channels? (decided from the audio)
                info = replace(info, channel_layout=media.channel_layout(source))
            return info

        run_async(work, done, failed)
