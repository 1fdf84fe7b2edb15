"""A live chunk's final pass, as pieces: its segments moved to recording time, cut at an instant
(alternatives cut alike), and where a cut inside speech goes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..local import decoding
from ..local.vad import FRAME_S, SAMPLE_RATE, speech_probabilities

if TYPE_CHECKING:
    from .session import LiveWord


def shifted(segment: decoding.Segment, offset: float) -> decoding.Segment:
    words = [dataclasses.replace(w, start=w.start + offset, end=w.end + offset) for w in segment.words]
    alts = [dataclasses.replace(h, words=[dataclasses.replace(w, start=w.start + offset, end=w.end + offset)
                                          for w in h.words]) for h in segment.alternatives]
    return dataclasses.replace(segment, start=segment.start + offset, end=segment.end + offset,
                               words=words, alternatives=alts)


def words_before(segment: decoding.Segment, cut: float) -> decoding.Segment | None:
    """The part of a segment whose words start before ``cut`` (its alternatives cut alike)."""
    return keep_words(segment, lambda w: w.start < cut - 0.02)


def words_from(segment: decoding.Segment, start: float) -> decoding.Segment | None:
    """The part of a segment whose words lie (by their middle) from ``start`` on."""
    return keep_words(segment, lambda w: (w.start + w.end) / 2 >= start)


def keep_words(segment: decoding.Segment, keep) -> decoding.Segment | None:
    words = [w for w in segment.words if keep(w)]
    if not words:
        return None
    if len(words) == len(segment.words):
        return segment
    alts = [dataclasses.replace(h, words=[w for w in h.words if keep(w)],
                                text=" ".join(w.word.strip() for w in h.words if keep(w)))
            for h in segment.alternatives]
    return dataclasses.replace(segment, start=words[0].start, end=words[-1].end, words=words,
                               alternatives=[h for h in alts if h.words],
                               text=" ".join(w.word.strip() for w in words))


@dataclass
class Final:
    """A final pass over ``audio[start:stop]``: what it adds to the closed segments."""
    start: int
    stop: int
    segments: list[decoding.Segment]
    uncovered: list[decoding.Uncovered]
    words: list[LiveWord]
    end: int | None = None          # where a cut inside speech went (samples)
    speech_end: int | None = None   # a pass done ahead of Stop: where the speech it heard ended (samples)


def same_end(a: int | None, b: int | None) -> bool:
    """Two ends of the last speech agree (the VAD's frames of a longer recording may shift by one)."""
    return a is not None and b is not None and abs(a - b) <= int(0.1 * SAMPLE_RATE)


def quiet_cut(words, chunk: np.ndarray, offset: float, near: float) -> float | None:
    """Where to cut a chunk inside speech (seconds): in the widest gap between two of the final pass's
    words within 0.6 s of ``near``, at the quietest 32 ms frame the VAD hears in it. Word times from
    the alignment can be a few frames off: cut at the middle of the gap of "for | forty-eight", the
    next chunk heard "the 8". (The quietest gap overall is no better: a plosive's closure before
    "country" is as quiet as a pause, and a cut there made it "free".)"""
    gaps = [(b.start - a.end, a, b) for a, b in zip(words, words[1:]) if abs((a.end + b.start) / 2 - near) <= 0.6]
    if not gaps:
        return None
    _, a, b = max(gaps, key=lambda g: g[0])
    probs = speech_probabilities(chunk)
    lo = max(0, int((a.end - offset) / FRAME_S))
    hi = min(len(probs), int((b.start - offset) / FRAME_S) + 1)
    if hi <= lo:
        return (a.end + b.start) / 2
    k = lo + int(np.argmin(probs[lo:hi]))
    return min(max(offset + (k + 0.5) * FRAME_S, a.start + 0.04), b.start)   # a before the cut, b after


def lead_start(closed: list[LiveWord], start: int, lead_s: float) -> int:
    """Where the audio a chunk's final pass hears before ``start`` begins (samples): at most ``lead_s``
    before it, at the start of a closed word (begun inside a word, jfk's "...Americans" was heard
    as "Check it." and cost a third more decoding)."""
    earliest = max(0, start - int(lead_s * SAMPLE_RATE))
    for w in closed:
        at = int((w.start - 0.05) * SAMPLE_RATE)
        if earliest <= at < start:
            return max(0, at)
    return start if closed else earliest


def prompt_after(initial: str | None, closed: list[LiveWord]) -> str | None:
    """The last closed words, so the next chunk continues the sentence (without them tiny.en heard
    "your country" after a cut as "your I'm free")."""
    tail = " ".join(w.text for w in closed[-30:])
    return " ".join(filter(None, [initial, tail])) or None
