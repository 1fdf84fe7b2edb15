"""The recorder view: device picker, level meter, elapsed time, pause/resume/stop."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QFrame, QGroupBox, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QVBoxLayout, QWidget)

from ..audio import recording
from ..store import audiovault
from .common import AppContext, describe_error, hint_label, say
from .livepanel import LivePanel


def fmt_elapsed(seconds: float) -> str:
    minutes, sec = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes):02d}:{sec:04.1f}"


class RecorderView(QWidget):
    media_ready = Signal(object)   # Path of a finished or recovered recording
    problem_changed = Signal(str)  # why nothing can be recorded ("" once a device is there)

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.recorder: recording.Recorder | None = None
        self.last_path: Path | None = None
        self._extra_inputs: list[tuple[str, object]] = []   # (label, stream factory)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 16, 24, 16)
        lay.addWidget(QLabel("<h2>Record</h2>"))

        self.banner = QFrame()
        self.banner.setObjectName("banner")
        self.banner_layout = QVBoxLayout(self.banner)
        self.banner.hide()
        lay.addWidget(self.banner)

        self.unavailable = hint_label(error=True)
        self.unavailable.setAccessibleName("Recording unavailable")
        self.unavailable.hide()
        lay.addWidget(self.unavailable)

        box = QGroupBox("Input")
        form = QFormLayout(box)
        self.device = QComboBox()
        self.device.setAccessibleName("Input device")
        self.rescan_button = QPushButton("Rescan devices")
        self.rescan_button.setAccessibleName("Rescan devices")
        self.rescan_button.setToolTip("Look again for microphones plugged in or out since ClinScribe started")
        device_row = QHBoxLayout()
        device_row.addWidget(self.device, 1)
        device_row.addWidget(self.rescan_button)
        form.addRow("Device:", device_row)
        self.rate = QComboBox()
        self.rate.setAccessibleName("Sample rate")
        for r in (16000, 22050, 44100, 48000):
            self.rate.addItem(f"{r} Hz", r)
        form.addRow("Sample rate:", self.rate)
        self.channels = QComboBox()
        self.channels.setAccessibleName("Channels")
        self.channels.addItem("Mono (one microphone)", 1)
        self.channels.addItem("Two channels (one speaker per channel)", 2)
        form.addRow("Channels:", self.channels)
        self.file_format = QComboBox()
        self.file_format.setAccessibleName("File format")
        self.file_format.addItem("WAV", "WAV")
        self.file_format.addItem("FLAC (smaller)", "FLAC")
        form.addRow("Save as:", self.file_format)
        lay.addWidget(box)

        meter = QGroupBox("Recording")
        ml = QVBoxLayout(meter)
        row = QHBoxLayout()
        self.elapsed = QLabel(fmt_elapsed(0))
        self.elapsed.setAccessibleName("Elapsed time")
        font = self.elapsed.font()
        font.setPointSize(font.pointSize() * 2)
        self.elapsed.setFont(font)
        row.addWidget(self.elapsed)
        self.level = QProgressBar()
        self.level.setRange(0, 100)
        self.level.setTextVisible(False)
        self.level.setAccessibleName("Input level")
        row.addWidget(self.level, 1)
        ml.addLayout(row)
        self.status = hint_label("Ready.")
        self.status.setAccessibleName("Recorder status")
        ml.addWidget(self.status)
        buttons = QHBoxLayout()
        self.record_button = QPushButton("● Record")
        self.record_button.setAccessibleName("Record")
        self.record_button.setToolTip("Start recording (Ctrl+R)")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setAccessibleName("Pause or resume recording")
        self.pause_button.setToolTip("Pause or resume (Ctrl+Shift+P)")
        self.stop_button = QPushButton("■ Stop")
        self.stop_button.setAccessibleName("Stop recording")
        self.stop_button.setToolTip("Stop and save (Ctrl+.)")
        self.transcribe_button = QPushButton("Transcribe…")
        self.transcribe_button.setAccessibleName("Transcribe recording")
        for b in (self.record_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.transcribe_button)
        ml.addLayout(buttons)
        lay.addWidget(meter)
        self.live = LivePanel(ctx, lambda: {})   # the window gives it the job form's settings
        lay.addWidget(self.live)
        self.live.box.stop_requested.connect(self.stop)
        self.live.box.pause_requested.connect(self.toggle_pause)
        lay.addStretch(1)

        self.rescan_button.clicked.connect(self.rescan)
        self.record_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self.transcribe_button.clicked.connect(lambda: self.last_path and self.media_ready.emit(self.last_path))
        self.timer = QTimer(self)
        self.timer.setInterval(100)
        self.timer.timeout.connect(self._tick)
        self.refresh_devices()
        self._update_buttons()

    # -- devices -------------------------------------------------------------------
    def add_input(self, label: str, factory) -> None:
        """An extra input (e.g. a file played as a microphone, for demos and tests)."""
        self._extra_inputs.append((label, factory))
        self.refresh_devices()
        self.device.setCurrentIndex(self.device.findText(label))

    def set_status(self, text: str, *, error: bool = False) -> None:
        """The status line, in the error style when it says why something cannot be done."""
        say(self.status, text, error=error)

    def problem(self) -> str:
        """Why nothing can be recorded now ("" when a device is there)."""
        return "" if self.device.count() else (self.unavailable.text() or "No input device.")

    def rescan(self) -> None:
        """Re-list the input devices, restarting PortAudio (which lists them once); not while recording."""
        if self.is_recording:
            self.set_status("Stop recording before rescanning the devices.", error=True)
            return
        self.refresh_devices(rescan=True)
        if self.device.count():
            found = self.device.count() - len(self._extra_inputs)
            self.set_status(f"Devices rescanned: {found} input device{'s' if found != 1 else ''} found. Ready.")

    def refresh_devices(self, rescan: bool = False) -> None:
        self.device.clear()
        problem = None
        try:
            devices = recording.rescan_input_devices() if rescan else recording.list_input_devices()
            self.unavailable.hide()
        except (recording.AudioUnavailable, RuntimeError) as exc:
            devices, problem = [], str(exc)
            self.unavailable.setText(problem)
            self.unavailable.show()
        for d in devices:
            self.device.addItem(f"{d.name}{'  (default)' if d.is_default else ''}", ("device", d.index))
            if d.is_default:
                self.device.setCurrentIndex(self.device.count() - 1)
        for label, factory in self._extra_inputs:
            self.device.addItem(label, ("factory", factory))
        if self._extra_inputs and not devices:
            self.unavailable.hide()
        if not self.is_recording:   # the status says what the device list says (a "Saved …" line stays)
            if problem and not self._extra_inputs:
                self.set_status(problem, error=True)
            elif self.status.property("role") == "error":
                self.set_status("Ready.")
        self._update_buttons()
        self.problem_changed.emit(self.problem())

    # -- control -------------------------------------------------------------------
    @property
    def is_recording(self) -> bool:
        return bool(self.recorder and self.recorder.recording)

    def start(self) -> None:
        if self.is_recording:
            return
        if self.device.currentIndex() < 0:   # e.g. Ctrl+R with no microphone: say why nothing happens
            why = self.unavailable.text() or "No microphone or other input device was found."
            self.set_status(f"Cannot record: {why}", error=True)
            return
        kind, value = self.device.currentData()
        self.recorder = recording.Recorder(
            self.ctx.recordings_dir, samplerate=self.rate.currentData(), channels=self.channels.currentData(),
            device=value if kind == "device" else None, file_format=self.file_format.currentData(),
            stream_factory=value if kind == "factory" else None)
        try:
            path = self.recorder.start()
        except recording.AudioUnavailable as exc:
            self.set_status(str(exc), error=True)
            self.recorder = None
            self._update_buttons()
            return
        self.live.started(self.recorder, path)
        self.set_status(f"Recording to {path.name} · {self.recorder.samplerate} Hz · "
                            f"{'mono' if self.recorder.channels == 1 else '2 channels'} "
                            "(saved to disk as you speak)")
        self.timer.start()
        self._update_buttons()

    def toggle_pause(self) -> None:
        if not self.is_recording:
            return
        if self.recorder.paused:
            self.recorder.resume()
            self.pause_button.setText("Pause")
        else:
            self.recorder.pause()
            self.pause_button.setText("Resume")
        self._update_buttons()

    def stop(self) -> Path | None:
        if not self.is_recording:
            return None
        path = self.recorder.stop()
        problem = ""
        if path is not None and self.ctx.settings.encrypt_audio:
            try:
                audiovault.seal_file(self.ctx.home, path)
            except Exception as exc:  # noqa: BLE001 - kept, unencrypted, and the user told why
                problem = f"The recording is kept unencrypted: {describe_error(exc)}"
        self.timer.stop()
        self._tick()
        self.level.setValue(0)
        self.pause_button.setText("Pause")
        self.last_path = path
        self.live.stopped(path)
        self.set_status(f"Saved {path.name} ({fmt_elapsed(self.recorder.elapsed)}). "
                            "Transcribe it, or record again.")
        if problem:
            self.set_status(problem, error=True)
        self._update_buttons()
        return path

    def _tick(self) -> None:
        if not self.recorder:
            return
        self.elapsed.setText(fmt_elapsed(self.recorder.elapsed))
        if self.live.box.isVisible():
            self.live.box.set_state(fmt_elapsed(self.recorder.elapsed), self.recorder.paused)
        self.level.setValue(int(self.recorder.level * 100) if not self.recorder.paused else 0)
        if self.recorder.error:
            self.set_status(self.recorder.error, error=True)

    def _update_buttons(self) -> None:
        rec = self.is_recording
        self.record_button.setEnabled(not rec and self.device.count() > 0)
        self.rescan_button.setEnabled(not rec)
        self.pause_button.setEnabled(rec)
        self.stop_button.setEnabled(rec)
        for w in (self.device, self.rate, self.channels, self.file_format):
            w.setEnabled(not rec)
        self.transcribe_button.setEnabled(not rec and self.last_path is not None)

    # -- interrupted recordings ------------------------------------------------------
    def check_interrupted(self) -> list:
        while self.banner_layout.count():
            item = self.banner_layout.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        found = recording.find_interrupted(self.ctx.recordings_dir)
        for item in found:
            row = QWidget()
            rl = QHBoxLayout(row)
            rl.setContentsMargins(0, 0, 0, 0)
            when = datetime.fromtimestamp(item.started).strftime("%d %b %Y %H:%M")
            if item.empty:
                label = QLabel(f"An interrupted recording from {when} has no audio: it stopped before any "
                               "sound reached the disk.")
            else:
                label = QLabel(f"An interrupted recording from {when} ({fmt_elapsed(item.duration)}) was saved.")
            label.setWordWrap(True)
            rl.addWidget(label, 1)
            keep = QPushButton("Recover")
            keep.setAccessibleName(f"Recover recording {item.path.name}")
            drop = QPushButton("Discard")
            drop.setAccessibleName(f"Discard recording {item.path.name}")
            keep.clicked.connect(lambda _=False, it=item, w=row: self._recover(it, w))
            drop.clicked.connect(lambda _=False, it=item, w=row: self._discard(it, w))
            rl.addWidget(keep)
            rl.addWidget(drop)
            self.banner_layout.addWidget(row)
        self.banner.setVisible(bool(found))
        return found

    def _recover(self, item, row) -> None:
        try:
            path = recording.recover(item)
        except recording.EmptyRecording as exc:   # nothing to keep: it was discarded, say so
            row.hide()
            self.status.setText(str(exc))
            self._hide_banner_if_empty()
            return
        row.hide()
        self.last_path = path
        self.status.setText(f"Recovered {path.name} ({fmt_elapsed(item.duration)}).")
        self.live.offer_recovered(path)
        self._update_buttons()
        self._hide_banner_if_empty()
        self.media_ready.emit(path)

    def _discard(self, item, row) -> None:
        recording.discard(item)
        self.live.forget(item.path)
        row.hide()
        self._hide_banner_if_empty()

    def _hide_banner_if_empty(self) -> None:
        visible = any(self.banner_layout.itemAt(i).widget().isVisibleTo(self.banner)
                      for i in range(self.banner_layout.count()) if self.banner_layout.itemAt(i).widget())
        self.banner.setVisible(visible)
