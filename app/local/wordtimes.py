"""Word times that match the speech: trimmed of silence, positive, never backwards."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .vad import FRAME_S

if TYPE_CHECKING:
    from .decoding import Word

MIN_WORD_S = 0.02                     # shortest word duration written
SQUEEZED_S = 0.08                     # a word shorter than this next to a long one shares its time
SILENCE_PROB = 0.35                   # Silero probability below which a frame is not speech
MAX_EDGE_SILENCE_S = 0.15             # silence a word may keep at either edge


def fix_word_times(words: list[Word], probs: np.ndarray) -> None:
    """In place: trim silence off word edges, a positive duration for each, never backwards."""
    speech = probs >= SILENCE_PROB
    for w in words:
        a, b = int(w.start / FRAME_S), int(math.ceil(w.end / FRAME_S))
        if b - a < 2 or a >= len(speech):
            continue
        voiced = np.flatnonzero(speech[a:b])
        if len(voiced) == 0:
            continue  # the VAD heard nothing under the word: keep the decoder's times
        first, last = a + voiced[0], a + voiced[-1] + 1
        w.start = max(w.start, first * FRAME_S - MAX_EDGE_SILENCE_S)
        w.end = min(w.end, last * FRAME_S + MAX_EDGE_SILENCE_S)
    for prev, w in zip(words, words[1:]):
        if w.start < prev.start:
            w.start = prev.start
    _share_squeezed(words)
    for i, w in enumerate(words):
        if w.end < w.start:
            w.end = w.start
        if w.end - w.start >= MIN_WORD_S:
            continue
        after = words[i + 1].start if i + 1 < len(words) else math.inf
        before = words[i - 1].end if i else 0.0
        if after - w.start >= MIN_WORD_S:
            w.end = w.start + MIN_WORD_S
        elif w.end - before >= MIN_WORD_S:
            w.start = w.end - MIN_WORD_S
        else:  # squeezed between neighbours: share the longer neighbour's time
            w.end = w.start + MIN_WORD_S
    for prev, w in zip(words, words[1:]):  # a lengthened word may push its successor
        if w.start < prev.start:
            w.start = prev.start
        w.end = max(w.end, w.start + MIN_WORD_S)
    for w in words:
        w.start, w.end = round(w.start, 3), round(max(w.end, w.start + MIN_WORD_S), 3)


def _share_squeezed(words: list[Word]) -> None:
    """A word the alignment squeezed to almost nothing next to a long neighbour
    ("a" 0.70-1.24, "confused" 1.24-1.26) shares their joint span by spelling length."""
    def letters(w: Word) -> int:
        return max(1, sum(ch.isalnum() for ch in w.word))

    for i, w in enumerate(words):
        if w.end - w.start >= SQUEEZED_S:
            continue
        for j in (i - 1, i + 1):
            if not 0 <= j < len(words):
                continue
            a, b = (words[j], w) if j < i else (w, words[j])
            span = b.end - a.start
            if abs(a.end - b.start) > 0.05 or span < 2 * SQUEEZED_S or words[j].end - words[j].start < 2 * SQUEEZED_S:
                continue
            cut = a.start + span * letters(a) / (letters(a) + letters(b))
            cut = min(max(cut, a.start + SQUEEZED_S / 2), b.end - SQUEEZED_S / 2)
            a.end = b.start = round(cut, 3)
            break
