"""AWS ``ShowAlternatives`` from the transcript's own beam search.

Each decoded segment carries the beam's other hypotheses (``app.local.decoding``): its
first alternative *is* the transcript — the very items of ``results.items``, after the
vocabulary and the term check — and the others are the beam's next-best sequences for the
same audio, aligned on the same encoder output. De-duplicated after normalising case and
punctuation, so there are fewer than MaxAlternatives when the beam has fewer distinct ones.
"""

from __future__ import annotations

import string
from typing import Callable

from ..core import transcript

__all__ = ["normalise", "alternative_segment"]


def normalise(text: str) -> str:
    """Case- and punctuation-insensitive form used for de-duplication and comparison."""
    text = text.lower().replace("’", "'")
    text = "".join(" " if ch in string.punctuation and ch != "'" else ch for ch in text)
    text = text.replace("'", "")
    return " ".join(text.split())


def alternative_segment(segment, best_items: list[dict], max_alternatives: int, *,
                        channel: int | None = None,
                        rewrite: Callable[[list[dict]], list[dict]] | None = None) -> dict | None:
    """The ``results.segments`` entry of one decoded ``segment``.

    ``best_items`` are the transcript's items of this segment (alternative 0); each other
    hypothesis becomes items the same way the transcript's did (``rewrite``: the
    vocabulary's DisplayAs step).
    """
    best = list(best_items)
    if not any(i["type"] == "pronunciation" for i in best):
        return None
    alternatives = [{"transcript": transcript.text_of(best), "items": best}]
    seen = {normalise(alternatives[0]["transcript"])}
    for hypothesis in segment.alternatives:
        if len(alternatives) >= max_alternatives:
            break
        items = transcript.segment_items(hypothesis)
        if rewrite is not None:
            items = rewrite(items)
        text = transcript.text_of(items)
        key = normalise(text)
        if key and key not in seen:
            seen.add(key)
            alternatives.append({"transcript": text, "items": items})
    # the stretch of audio all the readings cover (another reading may hear one more word)
    timed = [i for a in alternatives for i in a["items"] if i["type"] == "pronunciation"]
    return transcript.alternative_segment(min(i["start"] for i in timed), max(i["end"] for i in timed),
                                          alternatives, channel)
