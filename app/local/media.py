"""Media detection, AWS's media checks, and decoding.

PyAV (with its own FFmpeg, installed by faster-whisper) probes and decodes every
format AWS Transcribe accepts. A file that fails a check raises
:class:`MediaError` carrying AWS's exact FailureReason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

# AWS's documented FailureReason strings.
UNSUPPORTED_FORMAT = "Unsupported media format"
FORMAT_MISMATCH = "The media format provided does not match the detected media format"
INVALID_RATE = "Invalid sample rate for audio file"
RATE_MISMATCH = "The sample rate provided does not match the detected sample rate"
FILE_TOO_LARGE = "Invalid file size: file size too large"
TOO_MANY_CHANNELS = "Invalid number of channels: number of channels too large"

MAX_FILE_BYTES = 2 * 1024**3   # AWS batch limit: 2 GB
MIN_RATE, MAX_RATE = 16000, 48000  # MedicalMediaSampleRateHertz in the service model
MAX_CHANNELS = 2
SAMPLE_RATE = 16000               # what Whisper consumes

# FFmpeg container names → the MediaFormat values they can carry.
_CONTAINERS = {
    "mp3": ("mp3",),
    "wav": ("wav",),
    "flac": ("flac",),
    "ogg": ("ogg",),
    "amr": ("amr",),
    "matroska,webm": ("webm",),
    "mov,mp4,m4a,3gp,3g2,mj2": ("mp4", "m4a"),
}


class MediaError(Exception):
    """A media problem; ``str(err)`` is the AWS FailureReason."""


@dataclass(frozen=True)
class MediaInfo:
    media_format: str           # AWS MediaFormat of the file
    accepted_formats: tuple     # declared MediaFormat values that match it
    sample_rate: int
    channels: int
    duration: float             # seconds (0.0 when the container does not say)
    size: int
    channel_layout: str = ""    # of a 2-channel file: "distinct", "same" or "one-silent" ("" = not looked at)


def _is_memory(source) -> bool:
    return hasattr(source, "read")


def _size(source) -> int:
    return len(source.getbuffer()) if _is_memory(source) else Path(source).stat().st_size


def probe(path) -> MediaInfo:
    """Detect format, rate, channels and duration; MediaError for unreadable media. ``path`` may be
    a file or audio in memory (a named BytesIO: an opened encrypted recording)."""
    memory = _is_memory(path)
    if memory:
        path.seek(0)
    size = _size(path)
    suffix = Path(getattr(path, "name", "") if memory else path).suffix
    try:
        with av.open(path if memory else str(path), metadata_errors="ignore") as container:
            formats = _CONTAINERS.get(container.format.name)
            streams = container.streams.audio
            if not formats or not streams:
                raise MediaError(UNSUPPORTED_FORMAT)
            stream = streams[0]
            ctx = stream.codec_context
            rate, channels = int(ctx.sample_rate or 0), int(ctx.channels or 0)
            if container.duration:
                duration = container.duration / av.time_base
            elif stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            else:
                duration = 0.0
            has_video = bool(container.streams.video)
    except MediaError:
        raise
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise MediaError(UNSUPPORTED_FORMAT) from exc
    if rate <= 0 or channels <= 0:
        raise MediaError(UNSUPPORTED_FORMAT)
    detected = formats[0]
    if len(formats) > 1:  # the MP4 family: name it as the file does, else by its streams
        suffix = suffix.lower().lstrip(".")
        detected = suffix if suffix in formats else ("mp4" if has_video else "m4a")
    return MediaInfo(detected, formats, rate, channels, duration, size)


def check(path, *, media_format: str | None = None, sample_rate: int | None = None,
          max_bytes: int = MAX_FILE_BYTES) -> MediaInfo:
    """Probe ``path`` and apply AWS's checks against the request's declared values."""
    if _size(path) > max_bytes:
        raise MediaError(FILE_TOO_LARGE)
    info = probe(path)
    if media_format and media_format not in info.accepted_formats:
        raise MediaError(FORMAT_MISMATCH)
    if info.channels > MAX_CHANNELS:
        raise MediaError(TOO_MANY_CHANNELS)
    if not MIN_RATE <= info.sample_rate <= MAX_RATE:
        raise MediaError(INVALID_RATE)
    if sample_rate and sample_rate != info.sample_rate:
        raise MediaError(RATE_MISMATCH)
    return info


def decode(path, channels: int) -> list[np.ndarray]:
    """The file's channels as float32 arrays at 16 kHz (one array per channel)."""
    from faster_whisper.audio import decode_audio

    if _is_memory(path):
        path.seek(0)
    else:
        path = str(path)
    try:
        if channels == 2:
            left, right = decode_audio(path, sampling_rate=SAMPLE_RATE, split_stereo=True)
            out = [left, right]
        else:
            out = [decode_audio(path, sampling_rate=SAMPLE_RATE)]
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(UNSUPPORTED_FORMAT) from exc
    if not out[0].size:
        raise MediaError(UNSUPPORTED_FORMAT)
    return out


def mixdown(channels: list[np.ndarray]) -> np.ndarray:
    if len(channels) == 1:
        return channels[0]
    n = min(len(c) for c in channels)
    return np.mean([c[:n] for c in channels], axis=0).astype(np.float32)


def channel_layout(path, seconds: float = 60.0) -> str:
    """Whether a two-channel file holds two voices. "same": one signal on both channels (a mono
    recording saved as stereo, or a stereo microphone on one speaker), judged by the best correlation
    within ±20 ms; "one-silent": all the sound is on one channel (30 dB apart); else "distinct"."""
    left, right = decode(path, 2)
    n = min(len(left), len(right), int(seconds * SAMPLE_RATE))
    left, right = left[:n].astype(np.float64), right[:n].astype(np.float64)
    el, er = float(np.sqrt(np.mean(left ** 2))) if n else 0.0, float(np.sqrt(np.mean(right ** 2))) if n else 0.0
    if max(el, er) < 1e-6:
        return "one-silent"
    if min(el, er) < max(el, er) * 10 ** (-30 / 20):
        return "one-silent"
    left, right = left - left.mean(), right - right.mean()
    size = 1 << int(np.ceil(np.log2(2 * n)))
    xcorr = np.fft.irfft(np.fft.rfft(left, size) * np.conj(np.fft.rfft(right, size)), size)
    lag = int(0.02 * SAMPLE_RATE)
    window = np.concatenate([xcorr[: lag + 1], xcorr[-lag:]])
    best = float(np.max(np.abs(window))) / (float(np.sqrt(np.sum(left ** 2) * np.sum(right ** 2))) or 1.0)
    return "same" if best >= 0.8 else "distinct"
