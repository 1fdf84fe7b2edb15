"""Silero VAD (shipped with faster-whisper): speech probabilities per frame and speech regions."""

from __future__ import annotations

import math
import threading

import numpy as np

SAMPLE_RATE = 16000
FRAME_S = 512 / SAMPLE_RATE           # Silero VAD window
MAX_REGION_S = 30.0                   # the longest region (Whisper's window)
VAD_BLOCK_FRAMES = 2000               # frames per Silero call (64 s): bounds its memory on long audio


def speech_probabilities(audio: np.ndarray) -> np.ndarray:
    """Silero VAD speech probability per 32 ms frame, computed in blocks of ~64 s."""
    from faster_whisper.vad import get_vad_model

    model = get_vad_model()
    padded = np.pad(audio, (0, 512 - len(audio) % 512))
    step = VAD_BLOCK_FRAMES * 512
    return np.concatenate([np.asarray(model(padded[i:i + step]), dtype=np.float32).reshape(-1)
                           for i in range(0, len(padded), step)])


_VAD_LOCK = threading.Lock()


def speech_regions(audio: np.ndarray, threshold: float = 0.5, probs: np.ndarray | None = None,
                   pad_ms: int = 400) -> list[tuple[int, int]]:
    """Silero VAD speech regions (samples), at most 30 s each, as faster-whisper's batched
    pipeline finds them (each padded by ``pad_ms`` of audio either side, its default); from
    ``probs`` (:func:`speech_probabilities`) when given."""
    import faster_whisper.vad as vad

    probs = speech_probabilities(audio) if probs is None else probs
    options = vad.VadOptions(threshold=threshold, min_silence_duration_ms=160, max_speech_duration_s=MAX_REGION_S,
                             speech_pad_ms=pad_ms)
    with _VAD_LOCK:  # faster-whisper's segmentation logic, over the probabilities already computed
        real = vad.get_vad_model
        vad.get_vad_model = lambda: (lambda _audio: probs)
        try:
            found = vad.get_speech_timestamps(audio, options)
        finally:
            vad.get_vad_model = real
    return [(r["start"], r["end"]) for r in found]


def voiced(span: tuple[float, float], probs: np.ndarray, threshold: float) -> float:
    """Seconds of frames in ``span`` that the VAD hears as speech."""
    a, b = int(span[0] / FRAME_S), int(math.ceil(span[1] / FRAME_S))
    return float((probs[a:b] >= threshold).sum()) * FRAME_S


