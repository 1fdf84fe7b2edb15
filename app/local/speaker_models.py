"""The diarizer's two ONNX models (app/assets, see its README) and CAM++'s Kaldi fbank front end."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
ASSETS = Path(__file__).resolve().parents[1] / "assets"
SEGMENTATION_PATH = ASSETS / "segmentation-3.0.onnx"
EMBEDDING_PATH = ASSETS / "campplus.onnx"
FB_WIN = 400  # 25 ms
FB_HOP = 160  # 10 ms
FB_FFT = 512
FB_BINS = 80


# --------------------------------------------------------------------------- models


def _ort_session(path: Path):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.enable_cpu_mem_arena = False  # inputs of many lengths: an arena would only grow
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


@functools.lru_cache(maxsize=1)
def segmentation_session():
    return _ort_session(SEGMENTATION_PATH)


@functools.lru_cache(maxsize=1)
def embedding_session():
    return _ort_session(EMBEDDING_PATH)


# --------------------------------------------------------------------------- Kaldi fbank


@functools.lru_cache(maxsize=1)
def _fbank_constants():
    n = np.arange(FB_WIN)
    window = (0.5 - 0.5 * np.cos(2 * np.pi * n / (FB_WIN - 1))) ** 0.85  # Kaldi's "povey" window

    def mel(f):
        return 1127.0 * np.log(1.0 + np.asarray(f, np.float64) / 700.0)

    lo, hi = mel(20.0), mel(SAMPLE_RATE / 2)
    delta = (hi - lo) / (FB_BINS + 1)
    left = lo + delta * np.arange(FB_BINS)
    center, right = left + delta, left + 2 * delta
    freqs = mel(np.arange(FB_FFT // 2) * SAMPLE_RATE / FB_FFT)  # Kaldi leaves out the Nyquist bin
    up = (freqs[None, :] - left[:, None]) / (center - left)[:, None]
    down = (right[:, None] - freqs[None, :]) / (right - center)[:, None]
    banks = np.maximum(0.0, np.minimum(up, down))
    banks = np.concatenate([banks, np.zeros((FB_BINS, 1))], axis=1)  # Nyquist bin: weight 0
    return window.astype(np.float32), banks.T.astype(np.float32)


def fbank(wav: np.ndarray) -> np.ndarray:
    """Kaldi-compatible log mel filterbank, shape (frames, 80): 25 ms frames every 10 ms
    (snip_edges), DC removed, pre-emphasis 0.97, povey window, 512-point power spectrum, 80 mel
    bands 20 Hz-8 kHz, no dither; samples scaled to 16-bit range as Kaldi reads them."""
    wav = np.asarray(wav, np.float32)
    n_frames = 1 + (len(wav) - FB_WIN) // FB_HOP if len(wav) >= FB_WIN else 0
    if n_frames <= 0:
        return np.zeros((0, FB_BINS), np.float32)
    window, banks = _fbank_constants()
    frames = np.lib.stride_tricks.sliding_window_view(wav, FB_WIN)[::FB_HOP][:n_frames] * np.float32(32768)
    frames = frames - frames.mean(axis=1, keepdims=True)
    frames = np.concatenate([frames[:, :1] * np.float32(0.03), frames[:, 1:] - 0.97 * frames[:, :-1]], axis=1)
    spec = np.fft.rfft(frames * window, n=FB_FFT, axis=1)
    power = (spec.real ** 2 + spec.imag ** 2).astype(np.float32)
    return np.log(np.maximum(power @ banks, np.finfo(np.float32).eps))
