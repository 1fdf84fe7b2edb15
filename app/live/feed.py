"""Recorder blocks (any rate, one or two channels) into a live session's 16 kHz mono."""

from __future__ import annotations

import threading

import numpy as np


class Feeder:
    """Resamples each block with FFmpeg's resampler (PyAV, filtered, stateful across blocks) and
    keeps what arrives before the session exists (while the model loads)."""

    def __init__(self):
        self._resampler = None
        self._rate = None
        self._pending: list[np.ndarray] = []
        self._session = None
        self._lock = threading.Lock()

    def attach(self, session) -> None:
        with self._lock:
            self._session = session
            for block in self._pending:
                session.feed(block)
            self._pending = []

    def __call__(self, block: np.ndarray, rate: int) -> None:
        mono = np.ascontiguousarray(block.mean(axis=1) if block.ndim == 2 else block, dtype=np.float32)
        out = self._resample(mono, rate)
        with self._lock:
            if self._session is None:
                self._pending.append(out)
            else:
                self._session.feed(out)

    def _resample(self, mono: np.ndarray, rate: int) -> np.ndarray:
        if rate == 16000:
            return mono
        import av

        if self._resampler is None or self._rate != rate:
            self._resampler = av.AudioResampler(format="flt", layout="mono", rate=16000)
            self._rate = rate
        frame = av.AudioFrame.from_ndarray(mono[None, :], format="flt", layout="mono")
        frame.sample_rate = rate
        parts = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(frame)]
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
