"""Offline speaker diarization: who spoke when, on numpy + onnxruntime only.

Pipeline (models from pyannote and 3D-Speaker, the steps our own)
  1. Segmentation: pyannote's segmentation-3.0 (``assets/segmentation-3.0.onnx``, MIT, see
     ``assets/LICENSE.pyannote``) runs on 10 s windows every ``STEP`` (2.43 s). For each of its
     589 frames (16.875 ms apart) it gives a powerset class: nobody, one of three local speakers,
     or two of them at once. The number of speakers at each frame is the number of active local
     speakers averaged over the windows that cover the frame, rounded (0, 1 or 2).
  2. Embeddings: speech (count >= 1) is cut into pieces of ``PIECE_S`` (1.5 s) every 0.75 s; each
     piece gets a CAM++ embedding (3D-Speaker ``campplus_cn_en_common``, Apache-2.0,
     ``assets/campplus.onnx``, see ``assets/LICENSE.3D-Speaker``) of the 80-band Kaldi fbank
     features (numpy front end in ``speaker_models.py``) of its one-speaker frames (all frames if too few).
  3. Clustering: centroid-linkage agglomerative clustering on cosine similarity, stopped at
     ``SAME_SPEAKER_SIM``, estimates the speaker count (MaxSpeakerLabels is an upper bound);
     clusters with too little speech join their nearest neighbour; a few k-means steps refine.
     Each speech frame gets the speaker most similar, summed over the pieces that cover it.
  4. Overlap: where the count is 2 the other speaker heard nearest in time is added (overlap is
     mostly at turn changes); a local speaker that only ever speaks in overlap gets its own
     embedding and may be a new speaker. So **turns of different speakers can overlap in time**.
  5. Turns: per speaker, pauses shorter than ``FILL_GAP_S`` in which nobody else speaks are
     filled, pieces shorter than ``MIN_TURN_S`` dropped.

Memory is bounded on long recordings: windows are segmented in batches and only their binary
local activities (3 bytes per 17 ms frame and window) are kept, pieces are embedded one length at
a time in batches of EMBED_BATCH, one 192-d embedding per piece is kept, and clustering works on at most
``MAX_CLUSTER`` embeddings (the others are assigned to the nearest centroid).
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass

import numpy as np

from .speaker_models import embedding_session as _embedding_session
from .speaker_models import FB_HOP, FB_WIN, SAMPLE_RATE, fbank  # noqa: F401  (fbank: the export script checks it)
from .speaker_models import segmentation_session as _segmentation_session


# segmentation-3.0
WINDOW = 160000  # 10 s
FRAME_STEP = 270  # samples between output frames (16.875 ms)
FRAMES_PER_WINDOW = 589
FRAME_CENTER = 0.0619375 / 2  # first frame's centre, s after the window start
# powerset classes -> local speakers: {}, {0}, {1}, {2}, {0,1}, {0,2}, {1,2}
POWERSET = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1]], bool)

# Kaldi fbank (CAM++ front end)

# diarization parameters
STEP = 9 * 4320  # window step, 2.43 s: a multiple of both the fbank hop and the segmentation frame step
BATCH = 4  # windows per segmentation batch (ONNX Runtime needs ~18 MB per window)
EMBED_BATCH = 16  # pieces per CAM++ batch
MIN_EMBED_S = 0.4  # shorter pieces are not clustered, only assigned to the nearest speaker
MIN_PIECE_FRAMES = 20  # pieces with fewer fbank frames (0.2 s) take the nearest piece's speaker
SAME_SPEAKER_SIM = 0.5  # centroid cosine similarity above which two clusters are one speaker
MIN_SPEAKER_S = 1.5  # a speaker must hold at least this much speech...
MIN_SPEAKER_SHARE = 0.03  # ...and at least this share of all speech
MAX_CLUSTER = 800  # cluster at most this many embeddings, assign the rest
MIN_OVERLAP_SPEAKER_S = 1.0  # a local speaker heard only in overlap needs this much speech
MAX_LOCAL_FRAMES = 500  # and is embedded on at most 5 s of it
PIECE_S = 1.5  # speech is cut into pieces this long, every PIECE_S / 2, one embedding each
FILL_GAP_S = 1.0  # a speaker's pauses shorter than this, if nobody else speaks, are filled
MIN_TURN_S = 0.1  # shorter pieces of speech are dropped
FLIP_S = 0.3  # lone label flips shorter than this (shorter than a one-word reply) between one speaker's speech are smoothed...
FLIP_GAP_S = 0.5  # ...when the pauses around them are shorter than this


@dataclass(frozen=True)
class SpeakerTurn:
    start: float  # seconds
    end: float
    speaker: int  # 0-based, numbered in order of first appearance


# --------------------------------------------------------------------------- step 1


def _segment(audio: np.ndarray) -> np.ndarray:
    """segmentation-3.0 on 10 s windows every STEP samples (the last one zero-padded).
    Returns local speaker activity, bool (windows, 589, 3)."""
    n_win = max(1, int(np.ceil(max(len(audio) - WINDOW, 0) / STEP)) + 1)
    sess = _segmentation_session()
    activity = np.zeros((n_win, FRAMES_PER_WINDOW, 3), bool)
    for b0 in range(0, n_win, BATCH):
        b1 = min(n_win, b0 + BATCH)
        s0, s1 = b0 * STEP, (b1 - 1) * STEP + WINDOW
        block = audio[s0:s1]
        if len(block) < s1 - s0:
            block = np.pad(block, (0, s1 - s0 - len(block)))
        x = np.stack([block[(w - b0) * STEP:(w - b0) * STEP + WINDOW] for w in range(b0, b1)])
        logp = sess.run(None, {"x": x[:, None, :]})[0][:, :FRAMES_PER_WINDOW]
        activity[b0:b1, :logp.shape[1]] = POWERSET[logp.argmax(axis=-1)]
    return activity


def _count(activity: np.ndarray, n_frames: int) -> np.ndarray:
    """Number of speakers at each global frame: the number of active local speakers averaged over
    the windows that cover the frame, rounded."""
    per_win = STEP // FRAME_STEP
    total = np.zeros(n_frames, np.float32)
    cover = np.zeros(n_frames, np.float32)
    for w in range(len(activity)):
        g0, g1 = w * per_win, min(n_frames, w * per_win + FRAMES_PER_WINDOW)
        if g1 <= g0:
            break
        total[g0:g1] += activity[w, :g1 - g0].sum(axis=1)
        cover[g0:g1] += 1
    return np.rint(total / np.maximum(cover, 1)).astype(np.int8)


# --------------------------------------------------------------------------- step 2


def _pieces(speech: np.ndarray) -> list[tuple[int, int]]:
    """Speech regions (global frames) cut into pieces of PIECE_S every PIECE_S / 2 (a region
    shorter than PIECE_S is one piece; the last piece of a region ends with it)."""
    x = np.concatenate([[0], speech.astype(np.int8), [0]])
    d = np.diff(x)
    size = int(round(PIECE_S * SAMPLE_RATE / FRAME_STEP))
    hop = size // 2
    out = []
    for s, e in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)):
        starts = list(range(s, max(s, e - size) + 1, hop))
        if starts[-1] + size < e:
            starts.append(e - size)
        out += [(int(p), int(min(p + size, e))) for p in starts]
    return out


def _embed(audio: np.ndarray, pieces, count: np.ndarray):
    """CAM++ embedding (L2-normalised) of every piece of at least MIN_PIECE_FRAMES fbank frames,
    on its frames with one speaker (all its frames where fewer than MIN_EMBED_S have one).
    Returns (embeddings, piece indices). Features exist for at most 256 pieces at a time."""
    sess = _embedding_session()
    min_alone = int(MIN_EMBED_S * SAMPLE_RATE / FB_HOP)
    embs, which = [], []
    for c0 in range(0, len(pieces), 256):
        feats, idx = [], []
        for n in range(c0, min(len(pieces), c0 + 256)):
            f0, f1 = pieces[n]
            s = max(0, int(f0 * FRAME_STEP + FRAME_CENTER * SAMPLE_RATE - FRAME_STEP / 2))
            e = min(len(audio), int(f1 * FRAME_STEP + FRAME_CENTER * SAMPLE_RATE + FRAME_STEP / 2))
            f = fbank(audio[s:e])
            if len(f) < MIN_PIECE_FRAMES:
                continue
            centers = (s + np.arange(len(f)) * FB_HOP + FB_WIN / 2) / SAMPLE_RATE
            g = np.clip(np.round((centers - FRAME_CENTER) / (FRAME_STEP / SAMPLE_RATE)).astype(int), 0,
                        len(count) - 1)
            alone = count[g] == 1
            if alone.sum() >= min_alone:
                f = f[alone]
            feats.append(f - f.mean(axis=0))
            idx.append(n)
        out = [None] * len(feats)
        by_len: dict[int, list[int]] = {}
        for i, f in enumerate(feats):
            by_len.setdefault(len(f), []).append(i)
        for same in by_len.values():  # one batch per feature length, at most EMBED_BATCH pieces
            for b in range(0, len(same), EMBED_BATCH):
                group = same[b:b + EMBED_BATCH]
                for i, v in zip(group, sess.run(None, {"x": np.stack([feats[i] for i in group])})[0]):
                    out[i] = v
        embs += out
        which += idx
    if not embs:
        return np.zeros((0, 192), np.float32), np.zeros(0, int)
    return _normalise(np.stack(embs).astype(np.float32)), np.array(which, int)


# --------------------------------------------------------------------------- step 3


def _normalise(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _agglomerate(emb: np.ndarray, weight: np.ndarray, min_speech: float, max_speakers: int) -> np.ndarray:
    """Centroid-linkage clustering on cosine similarity (centroid = duration-weighted mean of the
    member embeddings). Two clusters that each hold at least `min_speech` seconds merge only while
    their similarity is >= SAME_SPEAKER_SIM, or while there are more than `max_speakers` of them;
    a smaller cluster always joins its most similar neighbour. Returns labels 0..m-1."""
    n = len(emb)
    sums = emb.astype(np.float64) * weight[:, None]
    speech = weight.astype(np.float64).copy()
    alive = np.ones(n, bool)
    labels = np.arange(n)
    cent = _normalise(sums)
    sim = cent @ cent.T
    np.fill_diagonal(sim, -np.inf)
    while alive.sum() > 1:
        small = speech < min_speech
        big_count = int((alive & ~small).sum())
        allowed = small[:, None] | small[None, :] | (sim >= SAME_SPEAKER_SIM) | (big_count > max_speakers)
        cand = np.where(allowed, sim, -np.inf)
        i, j = divmod(int(np.argmax(cand)), n)
        if cand[i, j] == -np.inf:
            break
        sums[i] += sums[j]  # cluster j joins cluster i
        speech[i] += speech[j]
        alive[j] = False
        speech[j] = np.inf  # a dead cluster is never "small"
        labels[labels == j] = i
        cent[i] = _normalise(sums[i])
        row = cent @ cent[i]
        row[~alive] = -np.inf
        row[i] = -np.inf
        sim[i, :] = sim[:, i] = row
        sim[j, :] = sim[:, j] = -np.inf
    return np.unique(labels, return_inverse=True)[1]


def _cluster(emb: np.ndarray, weight: np.ndarray, max_speakers: int) -> np.ndarray:
    """Labels 0..k-1 for every embedding, k <= max_speakers estimated from the data."""
    n = len(emb)
    if n < 2 or max_speakers < 2:
        return np.zeros(n, int)
    if n > MAX_CLUSTER:  # long recordings: cluster an even sample in time, assign the rest
        fit = np.unique(np.linspace(0, n - 1, MAX_CLUSTER).round().astype(int))
    else:
        fit = np.arange(n)
    min_speech = max(MIN_SPEAKER_S, MIN_SPEAKER_SHARE * weight.sum()) * weight[fit].sum() / weight.sum()
    labels = _agglomerate(emb[fit], weight[fit], min_speech, max_speakers)
    k = labels.max() + 1
    if k < 2:
        return np.zeros(n, int)
    cent = _normalise(np.stack([(emb[fit][labels == c] * weight[fit][labels == c, None]).sum(0) for c in range(k)]))
    labels = np.argmax(emb @ cent.T, axis=1)
    for _ in range(10):  # a few weighted k-means steps on the sphere, all embeddings
        ids = np.unique(labels)
        cent = _normalise(np.stack([(emb[labels == c] * weight[labels == c, None]).sum(0) for c in ids]))
        new = ids[np.argmax(emb @ cent.T, axis=1)]
        if np.array_equal(new, labels):
            break
        labels = new
    return np.unique(labels, return_inverse=True)[1]


# --------------------------------------------------------------------------- step 4


def _local_speakers(activity, count, primary, n_speakers):
    """Maps each local speaker of each window that speaks during overlapped speech (`count` >= 2)
    to the speaker it is most often labelled as where it speaks alone. Returns [(window, local
    speaker, speaker or -1)]: -1 where it never speaks alone long enough to tell."""
    n_frames = len(count)
    per_win = STEP // FRAME_STEP
    min_alone = int(MIN_EMBED_S * SAMPLE_RATE / FRAME_STEP)
    out = []
    for w in range(len(activity)):
        g0, g1 = w * per_win, min(n_frames, w * per_win + FRAMES_PER_WINDOW)
        if g1 <= g0:
            break
        a = activity[w, :g1 - g0]
        multi = count[g0:g1] >= 2
        if not multi.any():
            continue
        lab = primary[g0:g1]
        single = (a.sum(axis=1) == 1) & ~multi & (lab >= 0)
        for k in range(3):
            if not (a[:, k] & multi).any():
                continue
            m = a[:, k] & single
            c = int(np.bincount(lab[m], minlength=n_speakers).argmax()) if m.sum() >= min_alone else -1
            out.append((w, k, c))
    return out


def _embed_local(audio, activity, w, k):
    """CAM++ embedding of local speaker k of window w on the frames where it speaks (at most
    MAX_LOCAL_FRAMES); None if it speaks less than MIN_OVERLAP_SPEAKER_S."""
    active = np.flatnonzero(activity[w, :, k])
    if len(active) < MIN_OVERLAP_SPEAKER_S * SAMPLE_RATE / FRAME_STEP:
        return None
    s0 = w * STEP + max(0, int(active[0] * FRAME_STEP))  # only the span where it speaks
    x = audio[s0:w * STEP + min(WINDOW, int((active[-1] + 4) * FRAME_STEP))]
    f = fbank(x)
    centers = (s0 - w * STEP + np.arange(len(f)) * FB_HOP + FB_WIN / 2) / SAMPLE_RATE
    g = np.clip(np.round((centers - FRAME_CENTER) / (FRAME_STEP / SAMPLE_RATE)).astype(int), 0,
                FRAMES_PER_WINDOW - 1)
    f = f[activity[w, g, k]][:MAX_LOCAL_FRAMES]
    if len(f) < int(MIN_OVERLAP_SPEAKER_S * SAMPLE_RATE / FB_HOP):
        return None
    v = _embedding_session().run(None, {"x": (f - f.mean(axis=0))[None]})[0][0]
    return _normalise(v)


def _add_overlap(audio, activity, count, primary, on, max_speakers, cent):
    """Adds a second speaker at the frames where `count` says two people speak: the other speaker
    heard nearest in time (overlapped speech is mostly at turn changes: a reply starting before
    the question ends, a backchannel), as in Bullock et al., "Overlap-aware diarization" (ICASSP
    2020). Exception: a local speaker of a window that only ever speaks in overlap gets its own
    embedding; when it resembles no known speaker and fewer than max_speakers are known it is a
    new speaker, and takes its overlapped frames."""
    n_frames, n_speakers = on.shape
    per_win = STEP // FRAME_STEP
    new_cent: list[np.ndarray] = []
    claimed = []  # (window, local speaker, new speaker)
    for w, k, c in _local_speakers(activity, count, primary, n_speakers) if n_speakers < max_speakers else []:
        if c >= 0:
            continue
        v = _embed_local(audio, activity, w, k)
        if v is None:
            continue
        sims = [float(v @ x) for x in list(cent) + new_cent]
        if sims and max(sims) >= SAME_SPEAKER_SIM:
            if int(np.argmax(sims)) >= n_speakers:  # a new speaker heard again
                claimed.append((w, k, int(np.argmax(sims))))
        elif n_speakers + len(new_cent) < max_speakers:
            new_cent.append(v)
            claimed.append((w, k, n_speakers + len(new_cent) - 1))
    total = n_speakers + len(new_cent)
    frames = np.arange(n_frames)
    has = primary >= 0
    dist = np.full((n_frames, total), np.inf)
    for c in range(n_speakers):  # frames to the nearest frame where speaker c speaks alone
        idx = np.flatnonzero(primary == c)
        if len(idx):
            pos = np.searchsorted(idx, frames)
            left = idx[np.clip(pos - 1, 0, len(idx) - 1)]
            right = idx[np.clip(pos, 0, len(idx) - 1)]
            dist[:, c] = np.minimum(np.abs(frames - left), np.abs(right - frames))
    dist[frames[has], primary[has]] = np.inf  # not the primary speaker again
    second = dist.argmin(axis=1)
    add = (count >= 2) & has & np.isfinite(dist[frames, second])
    for w, k, c in claimed:
        g0, g1 = w * per_win, min(n_frames, w * per_win + FRAMES_PER_WINDOW)
        m = activity[w, :g1 - g0, k] & (count[g0:g1] >= 2)
        second[g0:g1][m] = c
        add[g0:g1] |= m
    on = np.concatenate([on, np.zeros((n_frames, total - n_speakers), bool)], axis=1)
    on[frames[add], second[add]] = True
    return on


def _smooth_flips(primary: np.ndarray) -> np.ndarray:
    """A run of one speaker shorter than FLIP_S between two runs of another speaker, with pauses
    shorter than FLIP_GAP_S on both sides, is taken as that other speaker (A B A -> A A A): a
    lone 1.5 s piece that sounded different, not a reply."""
    frames = np.flatnonzero(primary >= 0)
    if len(frames) < 3:
        return primary
    lab = primary[frames]
    cut = np.flatnonzero((np.diff(lab) != 0) | (np.diff(frames) > 1)) + 1
    starts = np.concatenate([[0], cut])
    ends = np.concatenate([cut, [len(frames)]])
    runs = [[int(lab[a]), int(frames[a]), int(frames[b - 1]) + 1] for a, b in zip(starts, ends)]
    flip, gap = FLIP_S * SAMPLE_RATE / FRAME_STEP, FLIP_GAP_S * SAMPLE_RATE / FRAME_STEP
    out = primary.copy()
    for i in range(1, len(runs) - 1):
        (a, _, a_end), (b, s, e), (c, c_start, _) = runs[i - 1], runs[i], runs[i + 1]
        if a == c != b and e - s < flip and s - a_end < gap and c_start - e < gap:
            seg = out[s:e]
            seg[seg == b] = a
    return out


# --------------------------------------------------------------------------- step 5


def _turns(on: np.ndarray) -> list[tuple[float, float, int]]:
    step = FRAME_STEP / SAMPLE_RATE
    out = []
    fill = int(round(FILL_GAP_S / step))
    min_len = int(round(MIN_TURN_S / step))
    for c in range(on.shape[1]):
        x = np.concatenate([[0], on[:, c].astype(np.int8), [0]])
        d = np.diff(x)
        segs = []
        others = np.delete(on, c, axis=1).any(axis=1) if on.shape[1] > 1 else np.zeros(len(on), bool)
        for s, e in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)):
            if segs and s - segs[-1][1] <= fill and not others[segs[-1][1]:s].any():
                segs[-1][1] = e  # a short pause nobody else speaks in
            else:
                segs.append([s, e])
        for s, e in segs:
            if e - s >= min_len:  # frame f covers about [f, f+1) * step around its centre
                out.append((FRAME_CENTER + (s - 0.5) * step, FRAME_CENTER + (e - 0.5) * step, c))
    return out


# --------------------------------------------------------------------------- public API


def diarize(audio: np.ndarray, max_speakers: int = 2, sample_rate: int = 16000) -> list[SpeakerTurn]:
    """audio: mono float32 in [-1,1] (16 kHz unless `sample_rate` says otherwise). Returns speech
    turns sorted by start time, speakers 0..k-1 numbered in order of first appearance, with
    k <= max_speakers (k is estimated: MaxSpeakerLabels is an upper bound; k may be 1).

    Overlap-aware: where two people speak at once both have a turn, so turns of *different*
    speakers may overlap in time; the turns of one speaker never overlap each other."""
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

    n_frames = int(np.ceil(len(audio) / FRAME_STEP))
    activity = _segment(audio)
    count = _count(activity, n_frames)
    speech = count >= 1
    primary = np.full(n_frames, -1, int)
    pieces = _pieces(speech)
    n_speakers = 1
    cent = np.zeros((0, 192), np.float32)
    if pieces:
        if max_speakers > 1:
            emb, which = _embed(audio, pieces, count)
            length = np.array([(pieces[i][1] - pieces[i][0]) * FRAME_STEP / SAMPLE_RATE for i in which])
            big = length >= MIN_EMBED_S  # short pieces are too noisy to cluster; they are assigned
            if big.any():
                cover = np.zeros(n_frames, np.float32)  # pieces overlap: count each second once
                for p, q in pieces:
                    cover[p:q] += 1
                weight = np.array([(1 / cover[pieces[i][0]:pieces[i][1]]).sum() * FRAME_STEP / SAMPLE_RATE
                                   for i in which[big]])
                lab = _cluster(emb[big], weight, max_speakers)
                n_speakers = int(lab.max()) + 1
                cent = _normalise(np.stack([(emb[big][lab == c] * weight[lab == c, None]).sum(0)
                                            for c in range(n_speakers)]))
                sims = np.zeros((len(pieces), n_speakers), np.float32)
                sims[which] = emb @ cent.T
                # pieces too short to embed: the speaker of the nearest embedded piece
                rest = np.setdiff1d(np.arange(len(pieces)), which)
                if len(rest):
                    pos = np.clip(np.searchsorted(which, rest), 0, len(which) - 1)
                    prev = np.clip(pos - 1, 0, len(which) - 1)
                    near = np.where(np.abs(which[prev] - rest) < np.abs(which[pos] - rest), which[prev], which[pos])
                    sims[rest] = sims[near]
        if n_speakers > 1:  # each frame: the speaker most similar to the pieces that cover it
            score = np.zeros((n_frames, n_speakers), np.float32)
            for (p, q), v in zip(pieces, sims):
                score[p:q] += v
            primary[speech] = score[speech].argmax(axis=1)
        else:
            primary[speech] = 0
    if n_speakers > 1:
        primary = _smooth_flips(primary)
    on = np.zeros((n_frames, n_speakers), bool)
    on[np.flatnonzero(primary >= 0), primary[primary >= 0]] = True
    if max_speakers > 1 and (count >= 2).any():
        on = _add_overlap(audio, activity, count, primary, on, max_speakers, cent)
    turns = sorted(_turns(on), key=lambda t: (t[0], t[2]))
    duration = len(audio) / SAMPLE_RATE
    kept = []
    for s, e, c in turns:
        s, e = round(max(0.0, float(s)), 3), float(np.floor(min(duration, float(e)) * 1000) / 1000)
        if e > s:
            kept.append((s, e, c))
    order: dict[int, int] = {}
    for _, _, c in kept:
        order.setdefault(c, len(order))
    return [SpeakerTurn(s, e, order[c]) for s, e, c in kept]


_INDEX: list = [None, None, None, None]  # turns last indexed, its length, starts, running max of ends


def _index(turns: list[SpeakerTurn]):
    """Start times and running maximum of end times of `turns`, cached for the last list seen
    (speaker_at is called once per word with the same turns)."""
    if _INDEX[0] is not turns or _INDEX[1] != len(turns) or _INDEX[1] and _INDEX[3][-1] < turns[-1].end:
        _INDEX[:] = [turns, len(turns), [t.start for t in turns],
                     list(itertools.accumulate((t.end for t in turns), max))]
    return _INDEX[2], _INDEX[3]


def speaker_at(turns: list[SpeakerTurn], start: float, end: float) -> int:
    """Speaker for a word spanning [start,end]: the turn with the largest overlap, else the
    nearest turn in time (the earlier turn on ties; 0 if no turns). `turns` sorted by start, as
    diarize returns them; turns of different speakers may overlap."""
    if not turns:
        return 0
    starts, max_end = _index(turns)
    lo = bisect.bisect_right(max_end, start)  # turns[:lo] all end by `start`
    hi = bisect.bisect_left(starts, end)  # turns[hi:] all start at or after `end`
    best, best_overlap = None, 0.0
    for i in range(lo, hi):
        t = turns[i]
        overlap = min(end, t.end) - max(start, t.start)
        if overlap > best_overlap:
            best, best_overlap = t, overlap
    if best is not None:
        return best.speaker
    cands = []  # nearest: the turn ending last before the word, the ones around it, the next one
    if lo > 0:
        cands.append(bisect.bisect_left(max_end, max_end[lo - 1], 0, lo))
    cands += range(lo, min(hi + 1, len(turns)))
    return turns[min(cands, key=lambda i: (max(turns[i].start - end, start - turns[i].end, 0.0), i))].speaker
