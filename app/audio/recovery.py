"""Interrupted recordings: find those whose recorder died, repair them, keep or discard them.

A recording is interrupted when its marker ``<file>.partial.json`` survived and
no live process holds its lock ``<file>.partial.lock`` (see
:mod:`app.audio.ownership`). Repair keeps every sample on disk that can be
decoded: a WAV's sizes are set from the file's length; a FLAC's frames are
decoded (PyAV) up to the first damaged one and written again as a whole FLAC.
A recording with no audio at all is discarded by :func:`recover`, which says
so with :class:`EmptyRecording`.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile

from .ownership import MARKER_SUFFIX, lock_for, lock_held, pid_owner_alive

_UNKNOWN_LENGTH = 2**40   # libsndfile's frame count for a FLAC whose header was never finished


@dataclass(frozen=True)
class Interrupted:
    path: Path            # the audio file
    marker: Path
    started: float        # epoch seconds
    duration: float       # seconds readable (after repair); 0.0: nothing reached the disk

    @property
    def empty(self) -> bool:
        return self.duration <= 0.0


class EmptyRecording(Exception):
    """An interrupted recording held no audio and was discarded. ``str()`` is for the user."""


def _owner_alive(path: Path, meta: dict, include_own_process: bool) -> bool:
    if include_own_process and int(meta.get("pid", 0) or 0) == os.getpid():
        return False
    held = lock_held(lock_for(path))
    if held is not None:
        return held
    return pid_owner_alive(meta)   # no lock file: a marker from an older version, or no locks here


def find_interrupted(folder: Path, *, include_own_process: bool = False) -> list[Interrupted]:
    """Recordings in ``folder`` whose recording process died before stopping them."""
    out: list[Interrupted] = []
    folder = Path(folder)
    if not folder.is_dir():
        return out
    for marker in sorted(folder.glob("*" + MARKER_SUFFIX)):
        try:
            meta = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        path = folder / marker.name[: -len(MARKER_SUFFIX)]
        if _owner_alive(path, meta, include_own_process):
            continue  # still being recorded (by us or another instance)
        if not marker.exists():
            continue  # it was stopped while we looked
        if not path.exists():
            marker.unlink(missing_ok=True)
            lock_for(path).unlink(missing_ok=True)
            continue
        repair(path)
        started = meta.get("started")
        out.append(Interrupted(path, marker, float(started if started else path.stat().st_mtime),
                               readable_seconds(path)))
    return out


def readable_seconds(path: Path) -> float:
    """Seconds of audio a reader gets from ``path``; 0.0 for none or an unreadable file."""
    try:
        info = soundfile.info(str(path))
    except Exception:
        return 0.0
    if not 0 <= info.frames < _UNKNOWN_LENGTH or not info.samplerate:
        return 0.0
    return info.frames / info.samplerate


def repair(path: Path) -> None:
    """Make a recording whose writer died readable, keeping every sample on disk that decodes."""
    path = Path(path)
    if path.suffix.lower() == ".flac":
        _repair_flac(path)
    elif path.suffix.lower() == ".wav":
        _repair_wav(path)


def _repair_wav(path: Path) -> None:
    """Fix the RIFF and data sizes from the file size."""
    size = path.stat().st_size
    with open(path, "r+b") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return
        pos = 12
        block_align = 2
        while pos + 8 <= size:
            f.seek(pos)
            chunk_id, chunk_size = struct.unpack("<4sI", f.read(8))
            if chunk_id == b"fmt ":
                fmt = f.read(16)
                block_align = struct.unpack("<H", fmt[12:14])[0] or 2
            if chunk_id == b"data":
                data_size = size - (pos + 8)
                data_size -= data_size % block_align
                f.seek(pos + 4)
                f.write(struct.pack("<I", data_size))
                f.seek(4)
                f.write(struct.pack("<I", pos + data_size))
                f.truncate(pos + 8 + data_size)
                return
            pos += 8 + chunk_size + (chunk_size & 1)


def _repair_flac(path: Path) -> None:
    """A FLAC whose writer died has no length in its header: write its decodable frames again."""
    try:
        info = soundfile.info(str(path))
        if 0 <= info.frames < _UNKNOWN_LENGTH:
            return   # finished (or repaired before)
    except Exception:
        pass         # no header at all: nothing decodes, and decoding says so
    tmp = path.with_name(path.name + ".repair")
    if _decode_flac_frames(path, tmp):
        os.replace(tmp, path)
    else:
        tmp.unlink(missing_ok=True)


def _decode_flac_frames(src: Path, dst: Path) -> int:
    """Copy ``src``'s frames to a new FLAC ``dst`` up to the first damaged one; the samples copied."""
    import av
    from av.error import FFmpegError

    written, out = 0, None
    try:
        container = av.open(str(src))
    except (FFmpegError, OSError, ValueError):
        return 0
    try:
        if not container.streams.audio:
            return 0
        stream = container.streams.audio[0]
        check_pts = None
        for frame in container.decode(stream):
            rate, channels = frame.sample_rate, len(frame.layout.channels)
            if check_pts is None:   # frames carry their position in samples: a jump means damage
                check_pts = frame.pts is not None and frame.time_base == Fraction(1, rate)
            if check_pts and frame.pts != written:
                break
            data = frame.to_ndarray()
            data = data.T if frame.format.is_planar else data.reshape(-1, channels)
            if out is None:
                out = soundfile.SoundFile(str(dst), "w", samplerate=rate, channels=channels,
                                          format="FLAC", subtype="PCM_16")
            out.write(np.ascontiguousarray(data))
            written += frame.samples
    except (FFmpegError, ValueError):
        pass   # a torn frame at the end: keep everything before it
    finally:
        container.close()
        if out is not None:
            out.close()
    return written


def recover(item: Interrupted) -> Path:
    """Keep an interrupted recording: it becomes an ordinary file.

    Raises :class:`EmptyRecording` (after discarding it) when it holds no audio.
    """
    repair(item.path)
    if readable_seconds(item.path) <= 0.0:
        discard(item)
        when = datetime.fromtimestamp(item.started).strftime("%d %b %Y %H:%M")
        raise EmptyRecording(f"The interrupted recording from {when} ({item.path}) held no audio: it stopped "
                             "before any sound reached the disk, so it was discarded.")
    item.marker.unlink(missing_ok=True)
    lock_for(item.path).unlink(missing_ok=True)
    return item.path


def discard(item: Interrupted) -> None:
    item.path.unlink(missing_ok=True)
    item.path.with_name(item.path.name + ".repair").unlink(missing_ok=True)
    item.marker.unlink(missing_ok=True)
    lock_for(item.path).unlink(missing_ok=True)
