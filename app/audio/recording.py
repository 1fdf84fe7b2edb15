"""Crash-safe audio recording (Qt-free).

A :class:`Recorder` writes what the input gives it to a WAV or FLAC file in
small chunks and makes the file valid on disk about twice a second (the header
is rewritten and the data flushed), so closing the app, a crash or a kill loses
only what was not written yet (WAV: one block; FLAC: the encoder's unfinished
block of 4096 samples). Beside each file a sidecar marker
``<file>.partial.json`` says "this recording is not finished", and the
recording process holds an OS lock on ``<file>.partial.lock`` (it dies with the
process); both go in :meth:`Recorder.stop`. :func:`find_interrupted` finds
recordings whose marker survived and whose lock is free (their process died),
:func:`recover` repairs and keeps one (:mod:`app.audio.recovery`).

``sounddevice`` (PortAudio) is imported lazily: without it, or without any
input device, :class:`AudioUnavailable` carries a message for the user.
:class:`FileInputStream` plays a file into a recorder at real pace: a stand-in
microphone for tests and demos.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile

from .ownership import MARKER_SUFFIX, OwnerLock, identity, lock_for, marker_for  # noqa: F401

FLUSH_SECONDS = 0.5
FORMATS = {"WAV": ("wav", "PCM_16"), "FLAC": ("flac", "PCM_16")}
_SFC_UPDATE_HEADER_NOW = 0x1060  # libsndfile: rewrite the header for what is written so far


class AudioUnavailable(RuntimeError):
    """No way to record: PortAudio missing, or no input device. ``str()`` is for the user."""


def _sounddevice():
    try:
        import sounddevice
    except OSError as exc:  # "PortAudio library not found"
        raise AudioUnavailable(
            "Recording is unavailable: the PortAudio sound library is not installed "
            "(on Debian/Ubuntu: sudo apt-get install libportaudio2). "
            "You can still import audio files.") from exc
    except ImportError as exc:
        raise AudioUnavailable("Recording is unavailable: the 'sounddevice' package is not installed. "
                               "You can still import audio files.") from exc
    return sounddevice


_live_streams: set = set()      # sounddevice streams open in this process (PortAudio stays up under them)
_portaudio_lock = threading.Lock()


def rescan_input_devices() -> list[InputDevice]:
    """Re-initialise PortAudio, which lists devices once, so inputs plugged in or out since are seen.

    Refused with RuntimeError while a recording stream is open (terminating PortAudio would close it);
    AudioUnavailable as :func:`list_input_devices`.
    """
    sd = _sounddevice()
    with _portaudio_lock:
        if _live_streams:
            raise RuntimeError("The input devices cannot be rescanned while recording.")
        try:
            if getattr(sd, "_initialized", 1) > 0:
                sd._terminate()
            sd._initialize()
        except Exception as exc:  # PortAudioError: left uninitialised, the next rescan tries again
            raise AudioUnavailable(f"Recording is unavailable: the sound system could not be restarted ({exc}). "
                                   "You can still import audio files.") from exc
    return list_input_devices()


@dataclass(frozen=True)
class InputDevice:
    index: int | None        # sounddevice's device index (None: a file-backed stand-in)
    name: str
    max_channels: int
    default_samplerate: int
    is_default: bool = False


def list_input_devices() -> list[InputDevice]:
    """The input devices PortAudio sees; AudioUnavailable when there is none."""
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
        default_in = sd.default.device[0] if sd.default.device else -1
    except Exception as exc:  # PortAudioError and friends
        raise AudioUnavailable(f"Recording is unavailable: the sound system reported an error ({exc}). "
                               "You can still import audio files.") from exc
    out = [InputDevice(i, d["name"], int(d["max_input_channels"]), int(d["default_samplerate"] or 16000),
                       i == default_in)
           for i, d in enumerate(devices) if int(d.get("max_input_channels", 0)) > 0]
    if not out:
        raise AudioUnavailable("No microphone or other input device was found. Connect one and rescan the devices, "
                               "or import an audio file instead.")
    return out


class FileInputStream:
    """A stand-in for ``sounddevice.InputStream`` that plays an audio file, paced like a microphone."""

    def __init__(self, path: Path, *, samplerate: int, channels: int, callback: Callable,
                 blocksize: int | None = None, speed: float = 1.0, loop: bool = True, **_ignored):
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
        if rate != samplerate:  # linear resampling is enough for a stand-in
            n = int(len(data) * samplerate / rate)
            x = np.linspace(0, len(data) - 1, n)
            data = np.stack([np.interp(x, np.arange(len(data)), data[:, c]) for c in range(data.shape[1])], 1)
        if data.shape[1] < channels:
            data = np.repeat(data[:, :1], channels, axis=1)
        self.data = np.ascontiguousarray(data[:, :channels], dtype=np.float32)
        self.samplerate, self.channels, self.callback = samplerate, channels, callback
        self.blocksize = blocksize or samplerate // 20
        self.speed, self.loop = speed, loop
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="file-input", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pos, t0, sent = 0, time.monotonic(), 0
        while not self._stop.is_set():
            block = self.data[pos:pos + self.blocksize]
            if len(block) < self.blocksize:
                if not self.loop:
                    if len(block):
                        self.callback(block, len(block), None, None)
                    return
                pos = 0
                continue
            pos += self.blocksize
            self.callback(block, len(block), None, None)
            sent += len(block)
            delay = t0 + sent / (self.samplerate * self.speed) - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(2)

    def close(self) -> None:
        self.stop()


def _fsync(fileobj_path: Path) -> None:
    try:
        fd = os.open(fileobj_path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


class Recorder:
    """Record from an input device (or any stream factory) straight to disk.

    ``stream_factory(samplerate=, channels=, device=, callback=, blocksize=, dtype=)``
    returns an object with ``start()``/``stop()``/``close()``; the default opens
    ``sounddevice.InputStream``.
    """

    def __init__(self, folder: Path, *, samplerate: int = 16000, channels: int = 1,
                 device: int | None = None, file_format: str = "WAV",
                 stream_factory: Callable | None = None):
        if channels not in (1, 2):
            raise ValueError("Recordings are mono or two-channel")
        if file_format not in FORMATS:
            raise ValueError(f"Unsupported recording format {file_format}")
        self.folder = Path(folder)
        self.samplerate, self.channels, self.device = int(samplerate), channels, device
        self.file_format = file_format
        self.stream_factory = stream_factory
        self.path: Path | None = None
        self.frames = 0
        self.level = 0.0            # peak of the latest block, 0..1
        self.paused = False
        self.error: str | None = None
        self._queue: queue.Queue = queue.Queue()
        self._file: soundfile.SoundFile | None = None
        self._stream = None
        self._writer: threading.Thread | None = None
        self._running = False
        self._lock = threading.Lock()
        self._owner: OwnerLock | None = None
        # called with each block written (writer thread; frames × channels float32): live dictation
        self.listeners: list[Callable[[np.ndarray, int], None]] = []

    # -- state ------------------------------------------------------------------
    @property
    def recording(self) -> bool:
        return self._running

    @property
    def elapsed(self) -> float:
        """Seconds recorded so far (paused time excluded)."""
        return self.frames / self.samplerate

    # -- control ------------------------------------------------------------------
    def start(self) -> Path:
        if self._running:
            raise RuntimeError("already recording")
        self.folder.mkdir(parents=True, exist_ok=True)
        ext, subtype = FORMATS[self.file_format]
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.folder / f"recording-{stamp}.{ext}"
        n = 1
        while path.exists():
            n += 1
            path = self.folder / f"recording-{stamp}-{n}.{ext}"
        self.path = path
        self.frames, self.paused, self.error = 0, False, None
        self._file = soundfile.SoundFile(str(path), "w", samplerate=self.samplerate, channels=self.channels,
                                         format=self.file_format, subtype=subtype)
        try:   # the lock first: a scanner that sees the marker then sees it held
            self._owner = OwnerLock(lock_for(path))
        except OSError:
            self._owner = None   # no locks on this file system: the marker's PID and start time must do
        self._write_marker()
        self._running = True
        self._writer = threading.Thread(target=self._write_loop, name="recorder-writer", daemon=True)
        self._writer.start()
        try:
            factory = self.stream_factory or self._sounddevice_stream
            self._stream = factory(samplerate=self.samplerate, channels=self.channels, device=self.device,
                                   callback=self._callback, blocksize=max(self.samplerate // 20, 256),
                                   dtype="float32")
            self._stream.start()
        except Exception as exc:
            _live_streams.discard(self._stream)
            self._stream = None
            self._running = False
            self._writer.join()
            self._file.close()
            path.unlink(missing_ok=True)
            marker_for(path).unlink(missing_ok=True)
            self._release_owner()
            if isinstance(exc, AudioUnavailable):
                raise
            raise AudioUnavailable(f"The input device could not be opened: {exc}") from exc
        return path

    def _sounddevice_stream(self, **kwargs):
        sd = _sounddevice()
        with _portaudio_lock:
            stream = sd.InputStream(**kwargs)
            _live_streams.add(stream)
        return stream

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def stop(self) -> Path | None:
        """Finish the file; returns its path (None when nothing was recording)."""
        if not self._running:
            return None
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            except Exception:
                pass
            _live_streams.discard(self._stream)
            self._stream = None
        self._running = False
        if self._writer:
            self._writer.join()
        with self._lock:
            self._file.close()
            self._file = None
        _fsync(self.path)
        marker_for(self.path).unlink(missing_ok=True)
        self._release_owner()
        return self.path

    def _release_owner(self) -> None:
        if self._owner is not None:
            self._owner.release()
            self._owner = None

    # -- data path ------------------------------------------------------------------
    def _callback(self, indata, frames, time_info, status) -> None:
        block = np.asarray(indata, dtype=np.float32)
        if block.size:
            self.level = float(min(1.0, np.max(np.abs(block))))
        if not self.paused and self._running:
            self._queue.put(block.copy())

    feed = _callback  # for callers that produce audio themselves

    def _write_loop(self) -> None:
        last_flush = time.monotonic()
        while self._running or not self._queue.empty():
            try:
                block = self._queue.get(timeout=0.05)
            except queue.Empty:
                block = None
            if block is not None:
                if block.ndim == 1:
                    block = block[:, None]
                if block.shape[1] != self.channels:
                    block = np.repeat(block[:, :1], self.channels, axis=1)
                with self._lock:
                    try:
                        self._file.write(block)
                    except Exception as exc:  # disk full and the like: keep what we have
                        self.error = f"Writing the recording failed: {exc}"
                        self._running = False
                        break
                self.frames += len(block)
                for listener in list(self.listeners):
                    try:
                        listener(block, self.samplerate)
                    except Exception:  # noqa: BLE001 - a listener never stops the recording
                        self.listeners.remove(listener)
            if time.monotonic() - last_flush >= FLUSH_SECONDS:
                self._flush()
                last_flush = time.monotonic()
        self._flush()

    def _flush(self) -> None:
        with self._lock:
            f = self._file
            if f is None:
                return
            try:
                soundfile._snd.sf_command(f._file, _SFC_UPDATE_HEADER_NOW, soundfile._ffi.NULL, 0)
            except Exception:
                pass
            f.flush()
        if self.path is not None:
            _fsync(self.path)

    def _write_marker(self) -> None:
        marker = marker_for(self.path)
        data = {"file": self.path.name, "samplerate": self.samplerate, "channels": self.channels,
                "format": self.file_format, "started": time.time(), **identity()}
        tmp = marker.with_name(marker.name + ".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, marker)


# -- interrupted recordings (their own module; the names stay importable from here) --------------
from .recovery import (EmptyRecording, Interrupted, discard, find_interrupted,  # noqa: E402,F401
                       readable_seconds, recover, repair)
