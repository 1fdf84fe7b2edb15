"""Audio playback (QtMultimedia), shared by the views; degrades to 'unavailable'."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal


class Player(QObject):
    position_changed = Signal(float)   # seconds
    state_changed = Signal(bool)       # playing
    problem = Signal(str)              # why nothing can be heard, for the window to show

    NO_OUTPUT = ("No audio output device: connect speakers or headphones, or check the sound settings. "
                 "The transcript can still be read and edited.")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.source: Path | None = None
        self.home: Path | None = None   # where the audio-at-rest key is (set by the window)
        self.error = ""
        self.last_seek: float | None = None
        try:
            from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
        except ImportError as exc:  # pyside6-addons missing
            self._player = None
            self.error = f"Playback is unavailable ({exc})."
            return
        self._player = QMediaPlayer(self)
        self._output = QAudioOutput(self)
        self._player.setAudioOutput(self._output)
        self._player.setNotifyInterval(50) if hasattr(self._player, "setNotifyInterval") else None
        self._player.positionChanged.connect(lambda ms: self.position_changed.emit(ms / 1000.0))
        self._player.errorOccurred.connect(
            lambda _error, text: self.problem.emit(f"The audio cannot be played: {text or 'unknown error'}."))
        self._player.playbackStateChanged.connect(
            lambda state: self.state_changed.emit(state == QMediaPlayer.PlaybackState.PlayingState))

    @property
    def available(self) -> bool:
        return self._player is not None

    def load(self, path: Path | None) -> None:
        if not self._player:
            return
        if path is None:
            self.source = None
            self._player.stop()
            self._player.setSource(QUrl())
            return
        path = Path(path)
        if self.source != path:
            self.source = path
            self._player.stop()
            from ..store import audiovault

            if self.home is not None and audiovault.is_sealed(path):
                self._play_sealed(path)
            else:
                self._player.setSource(QUrl.fromLocalFile(str(path)))

    def _play_sealed(self, path: Path) -> None:
        """Audio encrypted at rest plays from memory: no plaintext copy is written."""
        from PySide6.QtCore import QBuffer, QIODevice

        from ..store import audiovault

        try:
            data = audiovault.read_audio(self.home, path)
        except Exception as exc:  # noqa: BLE001 - said in the window
            self.source = None
            self.problem.emit(f"The encrypted recording cannot be opened: {exc}")
            return
        self._buffer = QBuffer(self)
        self._buffer.setData(data)
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self._player.setSourceDevice(self._buffer, QUrl.fromLocalFile(str(path)))

    def output_problem(self) -> str:
        """Why playback would be silent here ("" when it can be heard)."""
        if not self._player:
            return self.error
        from PySide6.QtMultimedia import QMediaDevices

        return "" if QMediaDevices.audioOutputs() else self.NO_OUTPUT

    def _audible(self) -> bool:
        problem = self.output_problem()
        if problem:
            self.problem.emit(problem)
        return self._player is not None

    def play(self) -> None:
        if self._player and self.source and self._audible():
            self._player.play()

    def pause(self) -> None:
        if self._player:
            self._player.pause()

    def stop(self) -> None:
        if self._player:
            self._player.stop()

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    @property
    def playing(self) -> bool:
        if not self._player:
            return False
        from PySide6.QtMultimedia import QMediaPlayer
        return self._player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def seek_and_play(self, seconds: float) -> None:
        self.last_seek = seconds
        if not self._player or not self.source or not self._audible():
            return
        self._player.setPosition(int(seconds * 1000))
        self._player.play()

    RATES = (0.75, 1.0, 1.25, 1.5, 2.0)

    def set_rate(self, rate: float) -> bool:
        """Play at ``rate`` (0.75–2×) keeping the voice's pitch; False when pitch cannot be kept here
        (the speed still changes)."""
        if not self._player:
            return False
        from PySide6.QtMultimedia import QMediaPlayer

        kept = self._player.pitchCompensationAvailability() != \
            QMediaPlayer.PitchCompensationAvailability.Unavailable
        if kept:
            self._player.setPitchCompensation(True)
        self._player.setPlaybackRate(max(0.5, min(2.0, float(rate))))
        return kept and self._player.pitchCompensation()

    @property
    def rate(self) -> float:
        return self._player.playbackRate() if self._player else 1.0

    def skip(self, seconds: float) -> None:
        """Move the play position by ``seconds`` (back when negative), within the recording."""
        if not self._player or not self.source:
            return
        duration = self._player.duration()
        target = self._player.position() + int(seconds * 1000)
        self._player.setPosition(max(0, min(target, duration if duration > 0 else target)))
        self.position_changed.emit(self._player.position() / 1000.0)

    @property
    def position(self) -> float:
        return self._player.position() / 1000.0 if self._player else 0.0
