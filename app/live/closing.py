"""When a live chunk closes: at a pause after enough speech, or, grown long, at its last pause or
short silence. Regions are the VAD's (samples in the open chunk): padded by 0.4 s of audio either
side as faster-whisper pads them, and ``tight`` without padding."""

from __future__ import annotations

from ..local.vad import SAMPLE_RATE

MIN_CHUNK_S = 2.0     # a chunk closes at a pause only once it holds this much audio...
LONG_PAUSE_S = 2.0    # ...or at a pause this long
SHORT_PAUSE_S = 0.25  # a long chunk with no pause between VAD regions closes at a silence this long...
MIN_CUT_S = 2.0       # ...found this far into it


def pause_end(regions: list[tuple[int, int]], now: float, pause: float) -> int | None:
    """The end of the speech before the open chunk's first closing pause (at least ``pause`` between
    padded regions, or up to ``now`` seconds), if any."""
    ends = [(end, (nxt[0] if nxt else None)) for (_, end), nxt in zip(regions, regions[1:] + [None])]
    for end, next_start in ends:
        last_end = end / SAMPLE_RATE
        gap = (next_start / SAMPLE_RATE if next_start is not None else now) - last_end
        if gap >= pause and (last_end >= MIN_CHUNK_S or gap >= LONG_PAUSE_S):
            return end
    return None


def last_pause(regions: list[tuple[int, int]], tight: list[tuple[int, int]], pause: float,
               short_pause: float | None, tail: float) -> int | None:
    """Where to close a long open chunk: ``tail`` seconds after the speech before its last pause of at
    least ``pause`` between the padded regions, else in the middle of its last silence of
    ``short_pause`` between the tight ones (the padding leaves none between a sentence's 0.6 s
    pause); None: no pause at all (or ``short_pause`` None and no long one)."""
    for (_, end), (start, _) in reversed(list(zip(regions, regions[1:]))):
        if (start - end) / SAMPLE_RATE >= pause:
            return end + int(tail * SAMPLE_RATE)
    if short_pause is None:
        return None
    for (_, end), (start, _) in reversed(list(zip(tight, tight[1:]))):
        middle = (end + start) // 2
        if middle < MIN_CUT_S * SAMPLE_RATE:   # a chunk of a few words alone is heard worse than a cut
            return None
        if (start - end) / SAMPLE_RATE >= short_pause:
            return middle
    return None
