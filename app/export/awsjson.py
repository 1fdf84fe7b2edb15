"""The AWS transcript JSON with the user's edits applied, in AWS Transcribe Medical's layout.

``results.items`` are the edited words and punctuation: a word kept from the engine keeps its
times and confidence; a word the user typed takes the times of the words it replaced (or of
its neighbours) and confidence 1.0 (a person wrote it). ``transcripts[0].transcript`` is
the items' text. ``speaker_labels`` / ``channel_labels`` / ``audio_segments`` are rebuilt from
the turns (present when the engine's transcript had them), and ``entities`` follow the
edited words (an entity whose words were all deleted is gone). With ``redact`` each PHI
entity's words are one ``[PHI-…]`` item, entities keep only their category and times, and
the n-best ``segments`` (which hold the original words) are left out.
"""

from __future__ import annotations

import json

from ..core.document import TranscriptDocument
from ..core.transcript import fmt_confidence, fmt_time, text_of

_KEEP = ("untranscribed_speech",)  # other results keys that carry no words


def _fill_times(tokens: list[dict]) -> list[tuple[float, float] | None]:
    """Each pronunciation token's (start, end); a token with none takes its neighbours'."""
    out: list[tuple[float, float] | None] = []
    prev = 0.0
    for tok in tokens:
        if tok["type"] != "pronunciation":
            out.append(None)
            continue
        start, end = tok.get("start"), tok.get("end")
        if start is None:
            nxt = next((t["start"] for t in tokens[len(out):] if t.get("start") is not None), None)
            start = prev
            end = nxt if nxt is not None and nxt >= prev else prev
        end = max(end if end is not None else start, start)
        out.append((start, end))
        prev = end
    return out


def edited_transcript(doc: TranscriptDocument, *, redact: bool = False) -> dict:
    results = doc.transcript.get("results") or {}
    speakers = "speaker_labels" in results or any(t["label"].startswith("spk_") for t in doc.turns)
    channels = "channel_labels" in results or any(t.get("channel") or t["label"].startswith("ch_")
                                                  for t in doc.turns)
    items: list[dict] = []
    groups: list[tuple[dict, list[int]]] = []  # (turn, its item ids)
    phi: list[tuple[str, int, float]] = []     # (category, item id, confidence) of PHI words
    for index, turn in enumerate(doc.turns):
        tokens = doc.redacted_tokens(index) if redact else turn["tokens"]
        channel = turn.get("channel") or (turn["label"] if turn["label"].startswith("ch_") else None)
        ids: list[int] = []
        for tok, span in zip(tokens, _fill_times(tokens)):
            item: dict = {"id": len(items), "type": tok["type"]}
            if span is not None:
                item["start_time"], item["end_time"] = fmt_time(span[0]), fmt_time(span[1])
                conf = tok.get("confidence")
                conf = 1.0 if conf is None else conf
            else:
                conf = 0.0
            item["alternatives"] = [{"confidence": fmt_confidence(conf), "content": tok["content"]}]
            if speakers and turn["label"].startswith("spk_"):
                item["speaker_label"] = turn["label"]
            if channels and channel:
                item["channel_label"] = channel
            cat = tok.get("phi") if redact else doc.phi_category(tok)
            if cat and span is not None:
                phi.append((cat, item["id"], conf))
            ids.append(item["id"])
            items.append(item)
        if ids:
            groups.append((turn, ids))

    out: dict = {"transcripts": [{"transcript": text_of(
        {"type": it["type"], "content": it["alternatives"][0]["content"]} for it in items)}]}
    if speakers:
        out["speaker_labels"] = _speaker_labels(items, groups, results.get("speaker_labels") or {})
    if channels:
        names = sorted({it["channel_label"] for it in items if "channel_label" in it},
                       key=lambda c: int(c[3:]) if c[3:].isdigit() else 0)
        number = max((results.get("channel_labels") or {}).get("number_of_channels") or 0, len(names))
        names = [f"ch_{c}" for c in range(number)] if all(n[3:].isdigit() for n in names) else names
        out["channel_labels"] = {"channels": [{"channel_label": name,
                                               "items": [it for it in items if it.get("channel_label") == name]}
                                              for name in names], "number_of_channels": number}
    out["items"] = items
    if "audio_segments" in results:
        out["audio_segments"] = _audio_segments(items, groups)
    if "entities" in results:
        out["entities"] = _entities(items, phi, doc, redact)
    if "segments" in results and not redact:
        out["segments"] = results["segments"]
    out.update({k: results[k] for k in _KEEP if k in results})
    head = {k: v for k, v in doc.transcript.items() if k in ("jobName", "accountId")}
    return {**head, "results": out, "status": doc.transcript.get("status", "COMPLETED")}


def _span(items: list[dict], ids: list[int]) -> tuple[str, str] | None:
    timed = [items[i] for i in ids if "start_time" in items[i]]
    return (timed[0]["start_time"], timed[-1]["end_time"]) if timed else None


def _speaker_labels(items, groups, original: dict) -> dict:
    segments = []
    for turn, ids in groups:
        span = _span(items, ids)
        if span is None or not turn["label"].startswith("spk_"):
            continue
        segments.append({"start_time": span[0], "speaker_label": turn["label"], "end_time": span[1],
                         "items": [{"start_time": items[i]["start_time"], "speaker_label": turn["label"],
                                    "end_time": items[i]["end_time"]} for i in ids if "start_time" in items[i]]})
    out: dict = {"speakers": len({s["speaker_label"] for s in segments}), "segments": segments}
    if "channel_label" in original:
        out = {"channel_label": original["channel_label"], **out}
    return out


def _audio_segments(items, groups) -> list[dict]:
    out = []
    for turn, ids in groups:
        span = _span(items, ids)
        if span is None:
            continue
        seg = {"id": len(out), "transcript": text_of({"type": items[i]["type"],
                                                      "content": items[i]["alternatives"][0]["content"]} for i in ids),
               "start_time": span[0], "end_time": span[1]}
        for key in ("speaker_label", "channel_label"):
            if key in items[ids[0]]:
                seg[key] = items[ids[0]][key]
        seg["items"] = ids
        out.append(seg)
    return out


def _source(doc: TranscriptDocument, start: float, end: float) -> int | None:
    """The engine's entity a word at ``start``-``end`` belongs to (as the editor highlights it)."""
    for k, e in enumerate(doc.entities):
        if e["start"] is None or e["end"] is None:
            continue
        if start < e["end"] - 1e-6 and end > e["start"] + 1e-6 or e["start"] <= start <= e["end"]:
            return k
    return None


def _entities(items, phi, doc: TranscriptDocument, redact: bool) -> list[dict]:
    """One entity per run of the edited PHI words that belong to one of the engine's entities."""
    out: list[dict] = []
    last = None  # (source entity, item id) of the last PHI word
    for cat, item_id, _conf in phi:
        item = items[item_id]
        start, end = float(item["start_time"]), float(item["end_time"])
        source = _source(doc, start, end)
        between = range(last[1] + 1, item_id) if last else range(0)
        if not (last and last[0] == source and all(items[i]["type"] == "punctuation" for i in between)):
            confidence = doc.entities[source].get("confidence", 1.0) if source is not None else 1.0
            out.append({"start_time": start, "end_time": end, "category": cat, "content": "",
                        "confidence": float(confidence), "_ids": []})
        out[-1]["end_time"] = end
        out[-1]["_ids"].append(item_id)
        last = (source, item_id)
    for ent in out:
        ids = ent.pop("_ids")
        ent["content"] = f"[{ent['category']}]" if redact else " ".join(
            items[i]["alternatives"][0]["content"] for i in ids)
    return out


def render(note=None, *, document: TranscriptDocument | None = None, redact: bool | None = None, **_) -> str:
    """The edited transcript as JSON text. Needs the job's ``document`` (a Note has no items)."""
    if document is None:
        raise ValueError("the aws-json export needs the job's transcript document")
    flag = note.redacted if redact is None and note is not None else bool(redact)
    return json.dumps(edited_transcript(document, redact=flag), indent=2, ensure_ascii=False) + "\n"
