"""The transcript file, exactly as AWS Transcribe Medical writes it.

Internally a transcript is a list of *items*: ``{"type": "pronunciation" |
"punctuation", "content", "confidence", "start", "end"}`` with optional
``"speaker"`` / ``"channel"`` (ints). :func:`build` turns items and segment
groupings into AWS's JSON: string times and confidences, ids, ``spk_N`` / ``ch_N``.
"""

from __future__ import annotations

import re
from typing import Iterable

from .asr import Segment

_TRAILING = re.compile(r"^(?P<body>.*?)(?P<punct>[.,?!;:]+)$")
_ACRONYM = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]$")
_STRIP = "\"“”‘’«»()[]{}…¿¡*_~`"


def fmt_time(t: float) -> str:
    """AWS's time strings: seconds, at most 3 decimals, at least one ("0.0", "1.3", "0.009")."""
    text = f"{max(t, 0.0):.3f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def fmt_confidence(p: float) -> str:
    text = f"{min(max(p, 0.0), 1.0):.4f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def split_word(text: str) -> tuple[str, list[str]]:
    """A Whisper word → (spoken content, trailing punctuation mark or none)."""
    text = text.strip().strip(_STRIP)
    mark = ""
    match = _TRAILING.match(text)
    if match:
        text, mark = match["body"].strip(_STRIP), match["punct"][-1]
        if _ACRONYM.match(text) and mark == ".":  # "U.S." keeps its final period
            text, mark = text + ".", ""
    if not any(ch.isalnum() for ch in text):
        text = ""
    return text, [mark] if mark else []


def items_from_segments(segments: Iterable[Segment], **labels) -> tuple[list[dict], list[list[int]]]:
    """Items for the words of ``segments`` and, per segment, the indices of its items."""
    items: list[dict] = []
    groups: list[list[int]] = []
    for segment in segments:
        group = []
        for word in segment.words:
            content, marks = split_word(word.word)
            if content:
                group.append(len(items))
                items.append({"type": "pronunciation", "content": content,
                              "confidence": float(word.probability),
                              "start": float(word.start), "end": float(max(word.end, word.start)), **labels})
            for mark in marks:
                if items and items[-1]["type"] == "pronunciation":
                    group.append(len(items))
                    items.append({"type": "punctuation", "content": mark, "confidence": 0.0, **labels})
        if group:
            groups.append(group)
    return items, groups


def text_of(items: Iterable[dict]) -> str:
    out = []
    for item in items:
        if item["type"] == "punctuation" and out:
            out[-1] += item["content"]
        else:
            out.append(item["content"])
    return " ".join(out)


def aws_item(item: dict, index: int) -> dict:
    out: dict = {"id": index, "type": item["type"],
                 "alternatives": [{"confidence": fmt_confidence(item["confidence"]) if item["type"] == "pronunciation" else "0.0",
                                   "content": item["content"]}]}
    if item["type"] == "pronunciation":
        out["start_time"] = fmt_time(item["start"])
        out["end_time"] = fmt_time(item["end"])
    if "speaker" in item:
        out["speaker_label"] = f"spk_{item['speaker']}"
    if "channel" in item:
        out["channel_label"] = f"ch_{item['channel']}"
    return out


def _span(items: list[dict], indices: list[int]) -> tuple[float, float]:
    timed = [items[i] for i in indices if items[i]["type"] == "pronunciation"]
    return timed[0]["start"], timed[-1]["end"]


def audio_segments(items: list[dict], groups: list[list[int]]) -> list[dict]:
    out = []
    for group in groups:
        start, end = _span(items, group)
        seg = {"id": len(out), "transcript": text_of(items[i] for i in group),
               "start_time": fmt_time(start), "end_time": fmt_time(end)}
        first = items[group[0]]
        if "speaker" in first:
            seg["speaker_label"] = f"spk_{first['speaker']}"
        if "channel" in first:
            seg["channel_label"] = f"ch_{first['channel']}"
        seg["items"] = list(group)
        out.append(seg)
    return out


def build(job_name: str, account_id: str, items: list[dict], groups: list[list[int]],
          extra_results: dict | None = None) -> dict:
    """The transcript JSON document for a COMPLETED job."""
    results: dict = {
        "transcripts": [{"transcript": text_of(items)}],
        "items": [aws_item(item, i) for i, item in enumerate(items)],
        "audio_segments": audio_segments(items, groups),
    }
    results.update(extra_results or {})
    return {"jobName": job_name, "accountId": account_id, "status": "COMPLETED", "results": results}
