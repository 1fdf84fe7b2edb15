"""The transcript file, exactly as AWS Transcribe Medical writes it.

Internally a transcript is a list of *items*: ``{"type": "pronunciation" |
"punctuation", "content", "confidence", "start", "end"}`` with optional
``"speaker"`` / ``"channel"`` (ints). :func:`build` turns items and segment
groupings into AWS's JSON: string times and confidences, ids, ``spk_N`` / ``ch_N``.
"""

from __future__ import annotations

import bisect
import re
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # the core does not import the offline engine
    from ..local.asr import Segment

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


def segment_items(segment: Segment, **labels) -> list[dict]:
    """Items (pronunciation and punctuation) for the words of one ASR segment."""
    items: list[dict] = []
    for word in segment.words:
        content, marks = split_word(word.word)
        if content:
            items.append({"type": "pronunciation", "content": content, "confidence": float(word.probability),
                          "start": float(word.start), "end": float(max(word.end, word.start)), **labels})
        for mark in marks:
            if items and items[-1]["type"] == "pronunciation":
                items.append({"type": "punctuation", "content": mark, "confidence": 0.0, **labels})
    return items


def text_of(items: Iterable[dict]) -> str:
    out = []
    for item in items:
        if item["type"] == "punctuation" and out:
            out[-1] += item["content"]
        else:
            out.append(item["content"])
    return " ".join(out)


def timed(item: dict) -> dict:
    """The times (and labels) of an item, as speaker-label segments list them."""
    out = {"start_time": fmt_time(item["start"]), "end_time": fmt_time(item["end"])}
    if "speaker" in item:
        out["speaker_label"] = f"spk_{item['speaker']}"
    return out


def aws_item(item: dict, index: int | None) -> dict:
    out: dict = {} if index is None else {"id": index}
    out["type"] = item["type"]
    confidence = fmt_confidence(item["confidence"]) if item["type"] == "pronunciation" else "0.0"
    out["alternatives"] = [{"confidence": confidence, "content": item["content"]}]
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


def speaker_labels(items: list[dict], turns=None, channel: int = 0) -> dict:
    """``results.speaker_labels``: who spoke when, with each segment's words.

    With the diarizer's ``turns`` (objects with ``start``, ``end``, ``speaker``), every turn
    is one segment spanning the turn (stretched to its words), with the words the speaker
    said in it: a segment's times are the speaker's speech, not the words' ends, and a turn
    whose speech yielded no words is still there (with no items). Turns of two speakers may
    overlap. Without turns, one segment per run of one speaker's words.
    """
    words = [i for i in items if i["type"] == "pronunciation"]
    spans: list[list] = []  # [start, end, speaker, words]
    if turns is None:
        for item in words:
            if spans and spans[-1][2] == item["speaker"]:
                spans[-1][1] = item["end"]
                spans[-1][3].append(item)
            else:
                spans.append([item["start"], item["end"], item["speaker"], [item]])
    else:
        own: dict[int, list[tuple[int, object]]] = {}
        for k, turn in enumerate(turns):
            own.setdefault(turn.speaker, []).append((k, turn))
        starts = {spk: [t.start for _, t in mine] for spk, mine in own.items()}
        # every turn is a segment, also one whose speech yielded no words: who spoke when is kept
        by_turn: dict[int, list] = {k: [t.start, t.end, t.speaker, []] for k, t in enumerate(turns)}
        for item in words:
            mine = own.get(item["speaker"])
            if not mine:
                by_turn.setdefault(-1 - len(by_turn), [item["start"], item["end"], item["speaker"], []])[3].append(item)
                continue
            # the speaker's turns near the word (sorted by start): the one it overlaps most, else the nearest
            at = bisect.bisect_right(starts[item["speaker"]], item["end"])
            near = mine[max(0, at - 3): at + 1]
            k, turn = max(near, key=lambda kt: (min(kt[1].end, item["end"]) - max(kt[1].start, item["start"]),
                                                 -abs(kt[1].start - item["start"])))
            span = by_turn[k]
            span[0], span[1] = min(span[0], item["start"]), max(span[1], item["end"])
            span[3].append(item)
        spans = sorted(by_turn.values(), key=lambda s: (s[0], s[1]))
    segments = [{"start_time": fmt_time(start), "end_time": fmt_time(end), "speaker_label": f"spk_{speaker}",
                 "items": [timed(i) for i in members]} for start, end, speaker, members in spans]
    speakers = len({i["speaker"] for i in items if "speaker" in i} | {span[2] for span in spans})
    return {"channel_label": f"ch_{channel}", "speakers": speakers, "segments": segments}


def channel_labels(items: list[dict], number_of_channels: int) -> dict:
    """``results.channel_labels``: each channel's items (with their ids)."""
    channels = [{"channel_label": f"ch_{c}", "items": []} for c in range(number_of_channels)]
    for index, item in enumerate(items):
        channels[item["channel"]]["items"].append(aws_item(item, index))
    return {"number_of_channels": number_of_channels, "channels": channels}


def alternative_segment(start: float, end: float, alternatives: list[dict], channel: int | None = None) -> dict:
    """One entry of ``results.segments``: a stretch of audio and its n-best transcripts."""
    out: dict = {"start_time": fmt_time(start), "end_time": fmt_time(end)}
    if channel is not None:
        out["channel_label"] = f"ch_{channel}"
    out["alternatives"] = [
        {"transcript": alt["transcript"],
         "items": [{**({"start_time": fmt_time(i["start"]), "end_time": fmt_time(i["end"])}
                       if i["type"] == "pronunciation" else {}),
                    "confidence": fmt_confidence(i["confidence"]) if i["type"] == "pronunciation" else "0.0",
                    "content": i["content"], "type": i["type"]} for i in alt["items"]]}
        for alt in alternatives
    ]
    return out
