"""Audio playback for the views: PyAV decodes (the engine's own FFmpeg), FFmpeg's ``atempo`` changes the
speed keeping the voice's pitch, and Qt's ``QAudioSink`` plays the samples. Where no output device is
there, the play position still runs (the transcript follows) and the window says why nothing is heard.

All of it runs on the GUI thread: the sink pulls samples as it plays (decoded on demand, a few ms per
pull), a 40 ms timer reports the position."""

from __future__ import annotations

import importlib
import io
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QIODevice, QObject, QTimer, Signal

TICK_MS = 40
AHEAD_S = 0.3   # how much decoded audio the sink is given ahead of what it plays


class Player(QObject):
    position_changed = Signal(float)   # seconds
    state_changed = Signal(bool)       # playing
    problem = Signal(str)              # why nothing can be heard, for the window to show

    NO_OUTPUT = ("No audio output device: connect speakers or headphones, or check the sound settings. "
                 "The transcript can still be read and edited.")
    RATES = (0.75, 1.0, 1.25, 1.5, 2.0)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.source: Path | None = None
        self.home: Path | None = None   # where the audio-at-rest key is (set by the window)
        self.error = ""
        self.last_seek: float | None = None
        self.duration = 0.0             # seconds of the loaded recording
        self._broken = ""               # why the loaded recording cannot be played
        self._data: bytes | None = None  # a sealed recording, decrypted in memory only
        self._rate = 1.0
        self._anchor = 0.0              # source seconds where the current run started
        self._playing = False
        self._sink = None
        self._device_io = None
        self._feed = None               # PCM bytes generator of the current run
        self._pending = b""
        self._ended = False             # the feed has no more samples
        self._clock = QElapsedTimer()   # the silent run's clock (no output device)
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        try:
            for module in ("av", "av.filter", "PySide6.QtMultimedia"):
                importlib.import_module(module)
        except ImportError as exc:  # pyside6-addons or PyAV missing
            self.error = f"Playback is unavailable ({exc})."

    @property
    def available(self) -> bool:
        return not self.error

    # -- the recording ---------------------------------------------------------------------------
    def load(self, path: Path | None) -> None:
        if not self.available:
            return
        if path is None:
            self.stop()
            self.source, self._data, self.duration, self._broken = None, None, 0.0, ""
            return
        path = Path(path)
        if self.source == path:
            return
        self.stop()
        self.source, self._data, self.duration, self._broken = path, None, 0.0, ""
        from ..store import audiovault

        if self.home is not None and audiovault.is_sealed(path):
            try:   # audio encrypted at rest plays from memory: no plaintext copy is written
                self._data = audiovault.read_audio(self.home, path)
            except Exception as exc:  # noqa: BLE001 - said in the window
                self.source = None
                self.problem.emit(f"The encrypted recording cannot be opened: {exc}")
                return
        try:
            with self._open() as container:
                self.duration = _duration(container)
        except Exception as exc:  # noqa: BLE001 - av.FFmpegError, OSError: said in the window
            self._broken = f"The audio cannot be played: {_reason(exc)}."
            self.problem.emit(self._broken)

    def _open(self):
        import av

        return av.open(io.BytesIO(self._data) if self._data is not None else str(self.source))

    # -- transport -------------------------------------------------------------------------------
    def output_problem(self) -> str:
        """Why playback would be silent here ("" when it can be heard)."""
        if not self.available:
            return self.error
        from PySide6.QtMultimedia import QMediaDevices

        return "" if QMediaDevices.audioOutputs() else self.NO_OUTPUT

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def position(self) -> float:
        if not self._playing:
            return self._anchor
        # A wall clock from the start of the run: a sink starts sounding within ~30 ms (measured on
        # PulseAudio), while its processedUSecs() can stall for seconds and would freeze the highlight.
        played = self._clock.elapsed() / 1000.0
        return min(self.duration or float("inf"), self._anchor + played * self._rate)

    def play(self) -> None:
        if not self.source or self._playing or not self.available:
            return
        if self._broken:
            self.problem.emit(self._broken)
            return
        problem = self.output_problem()
        if problem:
            self.problem.emit(problem)
        if self.duration and self._anchor >= self.duration - 0.05:
            self._anchor = 0.0          # played to the end: Play starts over
        self._start(self._anchor, audible=not problem)

    def pause(self) -> None:
        if self._playing:
            self._halt(self.position)

    def stop(self) -> None:
        self._halt(0.0)
        self.position_changed.emit(0.0)

    def toggle(self) -> None:
        if self._playing:
            self.pause()
        else:
            self.play()

    def seek_and_play(self, seconds: float) -> None:
        self.last_seek = seconds
        if not self.source or not self.available:
            return
        self._halt(max(0.0, seconds), quiet=True)
        self.play()

    def skip(self, seconds: float) -> None:
        """Move the play position by ``seconds`` (back when negative), within the recording."""
        if not self.source:
            return
        target = max(0.0, self.position + seconds)
        if self.duration:
            target = min(target, self.duration)
        if self._playing:
            self._halt(target, quiet=True)
            self._start(target, audible=not self.output_problem())
        else:
            self._anchor = target
        self.position_changed.emit(target)

    def set_rate(self, rate: float) -> bool:
        """Play at ``rate`` (0.5–2×) keeping the voice's pitch (FFmpeg's atempo); True when it is kept."""
        if not self.available:
            return False
        self._rate = max(0.5, min(2.0, float(rate)))
        if self._playing:
            here = self.position
            self._halt(here, quiet=True)
            self._start(here, audible=not self.output_problem())
        return True

    # -- a run: from one position until pause, stop, a seek or the end -----------------------------
    def _start(self, seconds: float, *, audible: bool) -> None:
        self._anchor, self._pending, self._ended = seconds, b"", False
        self._playing = True
        if audible:
            try:
                self._open_sink(seconds)
            except Exception as exc:  # noqa: BLE001 - the recording or the device: said in the window
                self._close_sink()
                self.problem.emit(f"The audio cannot be played: {_reason(exc)}.")
        self._clock.start()
        self._timer.start()
        self.state_changed.emit(True)
        self._tick()

    def _open_sink(self, seconds: float) -> None:
        from PySide6.QtMultimedia import QAudioFormat, QAudioSink, QMediaDevices

        container = self._open()
        stream = container.streams.audio[0]
        device = QMediaDevices.defaultAudioOutput()
        fmt = QAudioFormat()
        fmt.setSampleRate(min(48000, max(8000, stream.rate or 16000)))
        fmt.setChannelCount(min(2, stream.channels or 1))
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        if not device.isFormatSupported(fmt):
            preferred = device.preferredFormat()
            fmt.setSampleRate(preferred.sampleRate())
            fmt.setChannelCount(min(2, preferred.channelCount()))
        self._bytes_per_s = fmt.sampleRate() * fmt.channelCount() * 2
        self._feed = _pcm(container, stream, seconds, self._rate, fmt.sampleRate(), fmt.channelCount())
        first = next(self._feed, None)
        if first is None:
            raise ValueError("the recording holds no audio after this point")
        self._anchor, self._pending = first
        self._sink = QAudioSink(device, fmt, self)
        self._sink.setBufferSize(int(self._bytes_per_s * AHEAD_S))
        # pull mode: the sink reads as it plays. (Pushed, a new PulseAudio stream started ~2 s late.)
        self._device_io = _Source(self)
        self._device_io.open(QIODevice.OpenModeFlag.ReadOnly)
        self._sink.start(self._device_io)
        if self._sink.error().name != "NoError":   # QAudio / QtAudio enums: compare names
            raise OSError(f"the output device refused the stream ({self._sink.error().name})")

    def _read(self, most: int) -> bytes:
        """Up to ``most`` bytes of the run's samples, for the sink (b"" once the recording has ended)."""
        out = bytearray()
        while len(out) < most:
            if not self._pending:
                nxt = next(self._feed, None) if not self._ended and self._feed is not None else None
                if nxt is None:
                    self._ended = True
                    break
                self._pending = nxt[1]
            take = most - len(out)
            out += self._pending[:take]
            self._pending = self._pending[take:]
        return bytes(out)

    def _tick(self) -> None:
        if not self._playing:
            return
        position = self.position
        self.position_changed.emit(position)
        if self._sink is not None and self._sink.error().name not in ("NoError", "UnderrunError"):
            # the device went away mid-run (unplugged headset, sound server stopped): say so, keep time
            self.problem.emit(f"The audio output stopped ({self._sink.error().name}); "
                              "the transcript still follows the play position.")
            self._close_sink()
        if self._sink is not None:
            finished = self._ended and self._sink.state().name in ("IdleState", "StoppedState")
        else:
            finished = bool(self.duration) and position >= self.duration
        if finished:
            self._halt(self.duration or position)

    def _halt(self, seconds: float, *, quiet: bool = False) -> None:
        was = self._playing
        self._timer.stop()
        self._close_sink()
        self._playing, self._anchor = False, seconds
        if was and not quiet:
            self.state_changed.emit(False)
            self.position_changed.emit(seconds)

    def _close_sink(self) -> None:
        if self._sink is not None:
            self._sink.stop()
            self._sink.setParent(None)   # freed now (its stream closed), not at the next event loop turn
        if self._device_io is not None:
            self._device_io.close()
        self._sink = self._device_io = None
        if self._feed is not None:
            self._feed.close()
        self._feed, self._pending = None, b""


class _Source(QIODevice):
    """What the sink pulls from: the player's current run, decoded as it is read."""

    def __init__(self, player: Player):
        super().__init__(player)
        self._player = player

    def readData(self, maxlen: int) -> bytes:  # noqa: N802 - Qt's name
        return self._player._read(maxlen)

    def writeData(self, data) -> int:  # noqa: N802 - Qt's name
        return -1

    def bytesAvailable(self) -> int:  # noqa: N802 - Qt's name
        return 0 if self._player._ended else 1 << 20

    def isSequential(self) -> bool:  # noqa: N802 - Qt's name
        return True


def render(source, *, seconds: float = 0.0, rate: float = 1.0, sample_rate: int = 16000,
           channels: int = 1) -> tuple[float, bytes]:
    """What the player would play of ``source`` (a path, or a recording's bytes): where it starts and
    its s16 samples, from ``seconds`` on at ``rate`` — for the tests and the self-test."""
    import av

    container = av.open(io.BytesIO(source) if isinstance(source, bytes) else str(source))
    chunks = list(_pcm(container, container.streams.audio[0], seconds, rate, sample_rate, channels))
    return (chunks[0][0] if chunks else seconds), b"".join(chunk for _, chunk in chunks)


def _duration(container) -> float:
    stream = container.streams.audio[0]   # IndexError: no audio in the file
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return (container.duration or 0) / 1_000_000


def _reason(exc: Exception) -> str:
    if isinstance(exc, IndexError):
        return "the file has no audio track"
    return str(exc).rstrip(".") or type(exc).__name__


def _pcm(container, stream, seconds: float, rate: float, sample_rate: int, channels: int):
    """Yield (where the run starts in s, s16 bytes): the recording from ``seconds`` on, at ``rate``."""
    import av
    import av.filter

    with container:
        if seconds > 0:
            container.seek(int(seconds / stream.time_base), stream=stream, backward=True)
        graph = av.filter.Graph()
        chain = [graph.add_abuffer(template=stream)]
        if rate != 1.0:
            chain.append(graph.add("atempo", f"{rate:.3f}"))
        layout = "mono" if channels == 1 else "stereo"
        chain.append(graph.add("aformat", f"sample_fmts=s16:channel_layouts={layout}:sample_rates={sample_rate}"))
        chain.append(graph.add("abuffersink"))
        for a, b in zip(chain, chain[1:]):
            a.link_to(b)
        graph.configure()
        start = None      # where the first frame kept begins (the run's true start)
        for frame in container.decode(stream):
            if frame.pts is not None and frame.time_base is not None:
                begins = float(frame.pts * frame.time_base)
                if begins + frame.samples / frame.sample_rate < seconds:
                    continue      # before the asked position (the seek lands on an earlier frame)
                start = begins if start is None else start
            graph.push(frame)
            for chunk in _pull(graph):
                yield (seconds if start is None else start), chunk
        graph.push(None)
        for chunk in _pull(graph):
            yield (seconds if start is None else start), chunk


def _pull(graph):
    import av

    while True:
        try:
            frame = graph.pull()
        except (av.BlockingIOError, av.EOFError):
            return
        yield bytes(frame.planes[0])[: frame.samples * 2 * len(frame.layout.channels)]
