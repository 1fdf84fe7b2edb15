"""SRT and WebVTT captions with speaker names, timed from the words.

A turn becomes one or more cues of at most ``max_seconds`` and two lines of ``line_chars``
characters, split preferably after a sentence end. Words with no time of their own (typed
where the audio had none) take the time of the word before them.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from .note import Note, Paragraph

MAX_SECONDS = 7.0
LINE_CHARS = 42
_WORD_SECONDS = 0.4  # a word with no time at all, after the last timed one


@dataclass
class Cue:
    start: float
    end: float
    speaker: str
    text: str


def _timed_words(p: Paragraph, after: float) -> list[tuple[str, float, float]]:
    out: list[tuple[str, float, float]] = []
    last = after
    for (word, _conf), (start, end) in zip(p.words, p.times or [(None, None)] * len(p.words)):
        if start is None:
            start, end = last, last + (_WORD_SECONDS if not out or out[-1][2] <= last else 0.0)
        end = max(end if end is not None else start, start)
        out.append((word, start, end))
        last = end
    return out


def _fits(words, limit: int, max_seconds: float) -> bool:
    return len(" ".join(w for w, _, _ in words)) <= limit and words[-1][2] - words[0][1] <= max_seconds


def _split(words, limit: int, max_seconds: float) -> list[list]:
    """A sentence too long for one cue, in the fewest nearly equal parts that each fit."""
    for n in range(2, len(words) + 1):
        size = -(-len(words) // n)
        parts = [words[k:k + size] for k in range(0, len(words), size)]
        if all(_fits(part, limit, max_seconds) for part in parts):
            return parts
    return [[w] for w in words]


def _pieces(words, limit: int, max_seconds: float) -> list[list]:
    """A turn's words as cues: sentences, long ones split evenly, short ones joined while they fit."""
    sentences: list[list] = [[]]
    for word in words:
        sentences[-1].append(word)
        if word[0][-1:] in ".?!":
            sentences.append([])
    parts: list[list] = []
    for sentence in filter(None, sentences):
        parts.extend([sentence] if _fits(sentence, limit, max_seconds) else _split(sentence, limit, max_seconds))
    out: list[list] = []
    for part in parts:
        if out and _fits(out[-1] + part, limit, max_seconds):
            out[-1] = out[-1] + part
        else:
            out.append(part)
    return out


def cues(note: Note, *, max_seconds: float = MAX_SECONDS, line_chars: int = LINE_CHARS) -> list[Cue]:
    out: list[Cue] = []
    last = 0.0
    for p in note.paragraphs:
        words = _timed_words(p, last)
        for group in _pieces(words, 2 * line_chars, max_seconds) if words else []:
            out.append(Cue(group[0][1], max(group[-1][2], group[0][1] + 0.2), p.speaker,
                           " ".join(w for w, _, _ in group)))
        last = out[-1].end if out else last
    # a cue ends before the next one starts (players stack overlapping cues)
    for a, b in zip(out, out[1:]):
        if a.end > b.start and a.start < b.start:
            a.end = b.start
    return out


def _lines(text: str, line_chars: int) -> str:
    lines = textwrap.wrap(text, line_chars, break_long_words=False, break_on_hyphens=False) or [text]
    if len(lines) > 2:  # the cue was cut to fit two lines; a long word makes a third: rebalance
        half = len(text) // 2
        cut = text.rfind(" ", 0, half + 1)
        cut = cut if cut > 0 else text.find(" ", half)
        lines = [text[:cut], text[cut + 1:]] if cut > 0 else [text]
    return "\n".join(lines)


def _stamp(seconds: float, sep: str) -> str:
    ms = int(round(max(seconds, 0.0) * 1000))
    return f"{ms // 3600000:02d}:{ms % 3600000 // 60000:02d}:{ms % 60000 // 1000:02d}{sep}{ms % 1000:03d}"


def render_srt(note: Note, *, speakers: bool = True, max_seconds: float = MAX_SECONDS,
               line_chars: int = LINE_CHARS, **_) -> str:
    blocks = []
    for n, cue in enumerate(cues(note, max_seconds=max_seconds, line_chars=line_chars), start=1):
        text = f"{cue.speaker}: {cue.text}" if speakers and cue.speaker else cue.text
        blocks.append(f"{n}\n{_stamp(cue.start, ',')} --> {_stamp(cue.end, ',')}\n{_lines(text, line_chars)}\n")
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_vtt(note: Note, *, speakers: bool = True, max_seconds: float = MAX_SECONDS,
               line_chars: int = LINE_CHARS, **_) -> str:
    blocks = ["WEBVTT\n"]
    for cue in cues(note, max_seconds=max_seconds, line_chars=line_chars):
        body = _vtt_escape(_lines(cue.text, line_chars))
        if speakers and cue.speaker:
            body = f"<v {_vtt_escape(cue.speaker)}>{body}"
        blocks.append(f"{_stamp(cue.start, '.')} --> {_stamp(cue.end, '.')}\n{body}\n")
    return "\n".join(blocks)


render = render_srt
