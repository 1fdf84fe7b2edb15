"""The previous offline diarizer (app/local/diarize.py before issue #9 part 5), kept only as the
like-for-like peer of bench/diarization_eval.py. Its model, resemblyzer's voice encoder, is no
longer shipped: `MODEL_PATH` is extracted from the project's git history on first use (commit
349472e, app/assets/speaker_encoder.onnx); without the history this peer is skipped.

Offline speaker diarization: who spoke when, on numpy + onnxruntime only.

Pipeline
  1. Silero VAD (shipped with faster-whisper) finds speech regions.
  2. Each region is cut into equal chunks of at most ``MAX_CHUNK_S`` seconds.
  3. Every chunk gets a 256-d speaker embedding from resemblyzer's voice encoder
     (3-layer LSTM on a 40-band mel spectrogram), exported to ONNX in
     ``assets/speaker_encoder.onnx`` (Apache-2.0, see ``assets/LICENSE.resemblyzer``).
     The mel front end below reimplements ``resemblyzer.audio`` in numpy.
  4. Average-linkage agglomerative clustering on cosine similarity, stopped at a
     similarity threshold, estimates the number of speakers: a cluster with too little
     speech to be a speaker always joins its nearest neighbour, and while there are more
     than ``max_speakers`` clusters the most similar two merge. A few k-means steps then
     refine the assignment.
  5. Lone short label flips inside one speech region are smoothed away and
     consecutive chunks of one speaker are merged into turns.
"""

from __future__ import annotations

import bisect
import hashlib
import subprocess
import tempfile
import functools
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
ROOT = Path(__file__).resolve().parents[1]
MODEL_PATH = Path(tempfile.gettempdir()) / "clinscribe-bench-speaker_encoder.onnx"
MODEL_COMMIT = "349472e"
MODEL_SHA256 = "f57b2c4876200f0b14874f3b8c923a39f3af8fa1a22cef95ef4e0dde628f4571"


def ensure_model() -> bool:
    """Extract the old encoder from git history; False when it cannot be had."""
    if MODEL_PATH.exists() and hashlib.sha256(MODEL_PATH.read_bytes()).hexdigest() == MODEL_SHA256:
        return True
    done = subprocess.run(["git", "-C", str(ROOT), "show", f"{MODEL_COMMIT}:app/assets/speaker_encoder.onnx"],
                          capture_output=True)
    if done.returncode != 0 or hashlib.sha256(done.stdout).hexdigest() != MODEL_SHA256:
        return False
    MODEL_PATH.write_bytes(done.stdout)
    return True

# resemblyzer front end (resemblyzer/hparams.py)
N_FFT = 400  # 25 ms window
HOP = 160  # 10 ms hop
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s partial utterance
NORM_TARGET_DBFS = -30.0

# diarization parameters
MAX_CHUNK_S = 1.5  # longest chunk that gets one embedding
MIN_CHUNK_S = 0.3  # shorter chunks are left out of clustering, then get the nearest speaker
SAME_SPEAKER_SIM = 0.65  # average-linkage cosine above which clusters are one speaker
MIN_SPEAKER_S = 2.0  # a speaker must hold at least this much speech...
MIN_SPEAKER_SHARE = 0.03  # ...and at least this share of all speech
MAX_CLUSTER_CHUNKS = 600  # cluster at most this many chunks, assign the rest
MERGE_GAP_S = 1.0  # same-speaker chunks closer than this form one turn
FLIP_S = 1.0  # lone label flips shorter than this inside one speech region are smoothed
VAD_BLOCK_S = 120  # run the VAD on blocks of this many seconds to bound its memory


@dataclass(frozen=True)
class SpeakerTurn:
    start: float  # seconds
    end: float
    speaker: int  # 0-based, numbered in order of first appearance


# --------------------------------------------------------------------------- front end


@functools.lru_cache(maxsize=1)
def _mel_filterbank() -> np.ndarray:
    """librosa.filters.mel(sr=16000, n_fft=400, n_mels=40) (Slaney mel scale and norm)."""

    def hz_to_mel(f):
        f = np.asarray(f, dtype=np.float64)
        mel = 3.0 * f / 200.0
        log_part = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
        return np.where(f >= 1000.0, log_part, mel)

    def mel_to_hz(m):
        m = np.asarray(m, dtype=np.float64)
        hz = 200.0 * m / 3.0
        log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0))
        return np.where(m >= 15.0, log_part, hz)

    fft_freqs = np.linspace(0, SAMPLE_RATE / 2, 1 + N_FFT // 2)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return weights.astype(np.float32)


def mel_spectrogram(wav: np.ndarray) -> np.ndarray:
    """Power mel spectrogram, shape (frames, 40), as resemblyzer.audio.wav_to_mel_spectrogram."""
    padded = np.pad(wav.astype(np.float32), N_FFT // 2)  # librosa center=True, zero padding
    n_frames = 1 + len(wav) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic Hann
    spec = np.abs(np.fft.rfft(padded[idx] * window, axis=1)) ** 2
    return (spec @ _mel_filterbank().T).astype(np.float32)


def _normalize_volume(wav: np.ndarray) -> np.ndarray:
    """Raise (never lower) the level to -30 dBFS, as resemblyzer's preprocess_wav."""
    rms = np.sqrt(np.mean(np.square(wav, dtype=np.float64)))
    if rms <= 0:
        return wav
    gain_db = NORM_TARGET_DBFS - 20 * np.log10(rms)
    return wav * np.float32(10 ** (gain_db / 20)) if gain_db > 0 else wav


@functools.lru_cache(maxsize=1)
def _session():
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(str(MODEL_PATH), opts, providers=["CPUExecutionProvider"])


def embed_chunks(chunks: list[np.ndarray], batch_size: int = 64) -> np.ndarray:
    """One L2-normalised embedding per chunk, shape (n, 256), computed exactly as resemblyzer's
    ``VoiceEncoder.embed_utterance`` (volume normalised; 1.6 s partial utterances every 0.77 s,
    the last one zero-padded if it is at least 75 % covered; mean of the partial embeddings)."""
    n_part = PARTIAL_FRAMES * HOP
    step = 77 * HOP  # resemblyzer's default rate of 1.3 partials per second
    partials, owner = [], []
    for k, wav in enumerate(chunks):
        wav = _normalize_volume(np.asarray(wav, dtype=np.float32))
        n_frames = int(np.ceil((len(wav) + 1) / HOP))
        starts = list(range(0, max(1, n_frames - PARTIAL_FRAMES + 77 + 1) * HOP, step))
        if len(starts) > 1 and (len(wav) - starts[-1]) / n_part < 0.75:
            starts.pop()
        mel = mel_spectrogram(np.pad(wav, (0, max(0, starts[-1] + n_part - len(wav)))))
        for s in starts:
            partials.append(mel[s // HOP:s // HOP + PARTIAL_FRAMES])
            owner.append(k)
    emb = np.zeros((len(chunks), 256), np.float32)
    if not partials:
        return emb
    mels = np.stack(partials)
    sess = _session()
    out = np.concatenate([sess.run(None, {"mels": mels[i:i + batch_size]})[0]
                          for i in range(0, len(mels), batch_size)])
    np.add.at(emb, np.array(owner), np.nan_to_num(out))  # an all-silent partial gives NaN
    return emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-9)


# --------------------------------------------------------------------------- segmentation


def _speech_regions(audio: np.ndarray) -> list[tuple[int, int]]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    opts = VadOptions(min_speech_duration_ms=150, min_silence_duration_ms=200, speech_pad_ms=60)
    regions = []
    # in blocks: the VAD holds all of its input's frames in memory at once (~0.35 MB per second)
    for offset in range(0, len(audio), VAD_BLOCK_S * SAMPLE_RATE):
        block = audio[offset:offset + VAD_BLOCK_S * SAMPLE_RATE]
        regions += [(offset + t["start"], offset + min(t["end"], len(block)))
                    for t in get_speech_timestamps(block, opts)]
    return regions


def _split(start: int, end: int) -> list[tuple[int, int]]:
    """Cut [start, end) into equal pieces of at most MAX_CHUNK_S."""
    n = max(1, int(np.ceil((end - start) / (MAX_CHUNK_S * SAMPLE_RATE))))
    bounds = np.linspace(start, end, n + 1).astype(int)
    return list(zip(bounds[:-1], bounds[1:]))


# --------------------------------------------------------------------------- clustering


def _agglomerate(emb: np.ndarray, weights: np.ndarray, min_speech: float) -> np.ndarray:
    """Average-linkage clustering on cosine similarity. Two clusters that each hold at least
    `min_speech` seconds merge only while their similarity is >= SAME_SPEAKER_SIM; a smaller
    cluster (too little speech to be a speaker, e.g. a cough or a mixed chunk) always joins
    its most similar neighbour. Returns labels 0..m-1."""
    n = len(emb)
    sim = (emb @ emb.T).astype(np.float64)
    np.fill_diagonal(sim, -np.inf)
    size = np.ones(n)
    speech = weights.astype(np.float64).copy()
    labels = np.arange(n)
    for _ in range(n - 1):
        small = speech < min_speech
        allowed = np.where(small[:, None] | small[None, :] | (sim >= SAME_SPEAKER_SIM), sim, -np.inf)
        i, j = divmod(int(np.argmax(allowed)), n)
        if allowed[i, j] == -np.inf:
            break
        # Lance-Williams update for average linkage: cluster j joins cluster i
        sim[i, :] = (size[i] * sim[i, :] + size[j] * sim[j, :]) / (size[i] + size[j])
        sim[:, i] = sim[i, :]
        sim[i, i] = sim[j, :] = sim[:, j] = -np.inf
        size[i] += size[j]
        speech[i] += speech[j]
        speech[j] = np.inf  # a dead cluster is never "small"
        labels[labels == j] = i
    return np.unique(labels, return_inverse=True)[1]


def _centroids(emb: np.ndarray, labels: np.ndarray, ids) -> np.ndarray:
    cent = np.stack([emb[labels == c].mean(axis=0) for c in ids])
    return cent / np.linalg.norm(cent, axis=1, keepdims=True)


def _cluster(emb: np.ndarray, weights: np.ndarray, max_speakers: int) -> np.ndarray:
    """Labels 0..k-1 for every embedding, k <= max_speakers estimated from the data."""
    n = len(emb)
    if n < 2 or max_speakers < 2:
        return np.zeros(n, int)
    # long recordings: cluster the longest (most reliable) chunks, assign the rest afterwards
    fit = np.sort(np.argsort(-weights, kind="stable")[:MAX_CLUSTER_CHUNKS])
    min_speech = max(MIN_SPEAKER_S, MIN_SPEAKER_SHARE * weights.sum())
    labels = _agglomerate(emb[fit], weights[fit], min_speech)
    ids = list(range(labels.max() + 1))
    if len(ids) < 2:
        return np.zeros(n, int)
    while len(ids) > max_speakers:  # too many speakers: merge the most similar pair
        pairs = [(float(np.mean(emb[fit][labels == a] @ emb[fit][labels == b].T)), a, b)
                 for a, b in itertools.combinations(ids, 2)]
        _, a, b = max(pairs)
        labels[labels == b] = a
        ids.remove(b)
    cent = _centroids(emb[fit], labels, ids)
    labels = np.argmax(emb @ cent.T, axis=1)
    for _ in range(10):  # a few k-means steps on the sphere, all chunks
        cent = _centroids(emb, labels, np.unique(labels))
        new = np.unique(labels)[np.argmax(emb @ cent.T, axis=1)]
        if np.array_equal(new, labels):
            break
        labels = new
    return np.unique(labels, return_inverse=True)[1]


# --------------------------------------------------------------------------- public API


def diarize(audio: np.ndarray, max_speakers: int = 2, sample_rate: int = 16000) -> list[SpeakerTurn]:
    """audio: mono float32 in [-1,1] at 16 kHz. Returns non-overlapping speech turns sorted by
    time, speakers 0..k-1 with k <= max_speakers (k estimated: MaxSpeakerLabels is an upper
    bound; k may be 1)."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"diarize expects mono audio (1-D), got shape {audio.shape}")
    if sample_rate != SAMPLE_RATE and len(audio):
        n_out = int(round(len(audio) * SAMPLE_RATE / sample_rate))
        audio = np.interp(np.arange(n_out) * (sample_rate / SAMPLE_RATE),
                          np.arange(len(audio)), audio).astype(np.float32)
    if len(audio) < SAMPLE_RATE // 10:
        return []
    max_speakers = max(1, int(max_speakers))

    regions = _speech_regions(audio)
    chunks = [(s, e, r) for r, (rs, re_) in enumerate(regions) for s, e in _split(rs, re_)]
    if not chunks:
        return []
    dur = np.array([(e - s) / SAMPLE_RATE for s, e, _ in chunks])
    emb = embed_chunks([audio[s:e] for s, e, _ in chunks])

    labels = np.zeros(len(chunks), int)
    ok = np.flatnonzero(dur >= MIN_CHUNK_S)
    if len(ok):
        labels[ok] = _cluster(emb[ok], dur[ok], max_speakers)
        if len(ok) < len(chunks) and labels.max() > 0:  # tiny chunks: nearest centroid
            ids = np.unique(labels[ok])
            cent = _centroids(emb[ok], labels[ok], ids)
            tiny = np.setdiff1d(np.arange(len(chunks)), ok)
            labels[tiny] = ids[np.argmax(emb[tiny] @ cent.T, axis=1)]

    # smooth lone short flips inside one speech region (A B A with B short -> A A A)
    for i in range(1, len(chunks) - 1):
        same_region = chunks[i - 1][2] == chunks[i][2] == chunks[i + 1][2]
        if (same_region and labels[i - 1] == labels[i + 1] != labels[i] and dur[i] < FLIP_S):
            labels[i] = labels[i - 1]

    turns: list[list] = []
    for (s, e, _), lab in zip(chunks, labels):
        start, end = s / SAMPLE_RATE, e / SAMPLE_RATE
        if turns and turns[-1][2] == lab and start - turns[-1][1] < MERGE_GAP_S:
            turns[-1][1] = end
        else:
            turns.append([start, end, lab])
    order: dict[int, int] = {}
    for t in turns:
        order.setdefault(int(t[2]), len(order))
    return [SpeakerTurn(round(float(s), 3), round(float(e), 3), order[int(lab)]) for s, e, lab in turns]


def speaker_at(turns: list[SpeakerTurn], start: float, end: float) -> int:
    """Speaker for a word spanning [start,end]: the turn with the largest overlap, else the
    nearest turn in time (0 if no turns). `turns` sorted by time, as diarize returns them."""
    i = bisect.bisect_right(turns, start, key=lambda t: t.end)  # first turn ending after start
    best, best_overlap = None, 0.0
    for t in itertools.takewhile(lambda t: t.start < end, itertools.islice(turns, i, None)):
        overlap = min(end, t.end) - max(start, t.start)
        if overlap > best_overlap:
            best, best_overlap = t, overlap
    if best is not None:
        return best.speaker
    near = turns[max(i - 1, 0):i + 1]  # the turns just before and after the word
    if not near:
        return 0
    return min(near, key=lambda t: max(t.start - end, start - t.end, 0.0)).speaker
