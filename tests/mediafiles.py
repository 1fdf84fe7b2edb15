"""Make real media files for tests from real speech, with PyAV's encoders."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from app.local.media import decode

# MediaFormat → (container format, codec, sample rate, extension)
FORMATS = {
    "mp3": ("mp3", "libmp3lame", 16000, "mp3"),
    "mp4": ("mp4", "aac", 16000, "mp4"),
    "m4a": ("ipod", "aac", 16000, "m4a"),
    "wav": ("wav", "pcm_s16le", 16000, "wav"),
    "flac": ("flac", "flac", 16000, "flac"),
    "ogg": ("ogg", "libopus", 48000, "ogg"),
    "webm": ("webm", "libopus", 48000, "webm"),
    "amr": ("amr", "libopencore_amrnb", 8000, "amr"),
}


def speech(path: Path) -> np.ndarray:
    """Mono 16 kHz float32 speech from a real recording."""
    return decode(path, 1)[0]


def write(samples: np.ndarray, path: Path, container: str, codec: str, rate: int,
          source_rate: int = 16000) -> Path:
    """Encode ``samples`` (channels × n float32 at ``source_rate``) to ``path``."""
    samples = np.atleast_2d(samples).astype(np.float32)
    channels = samples.shape[0]
    if channels > 2:  # PyAV's resampler wants a named layout: write multichannel WAV directly
        import soundfile

        soundfile.write(str(path), samples.T, source_rate, subtype="PCM_16", format="WAV")
        return path
    layout = {1: "mono", 2: "stereo"}[channels]
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = layout
        resampler = av.AudioResampler(format=stream.codec_context.format.name,
                                      layout=stream.codec_context.layout, rate=rate)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples.T.reshape(1, -1)), format="flt",
                                           layout=layout)
        frame.sample_rate = source_rate
        frame.time_base = Fraction(1, source_rate)
        frame.pts = 0
        for resampled in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(resampled):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def make(fmt: str, samples: np.ndarray, folder: Path, stem: str = "speech") -> Path:
    container, codec, rate, ext = FORMATS[fmt]
    return write(samples, folder / f"{stem}.{ext}", container, codec, rate)
