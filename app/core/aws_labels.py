"""Each item's speaker or channel label, as older AWS outputs give them (Qt-free).

Older AWS transcripts carry labels only in ``results.speaker_labels.segments[*].items`` (timed
entries) and ``results.channel_labels.channels[*].items`` (full items), not on each item; these
functions put a label on every item of ``results.items`` (None for all when there are none).
"""

from __future__ import annotations


def _f(value) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def _time_key(item: dict) -> tuple[float, float] | None:
    start, end = _f(item.get("start_time")), _f(item.get("end_time"))
    return None if start is None or end is None else (round(start, 3), round(end, 3))


def item_content(item: dict) -> str:
    return (item.get("alternatives") or [{}])[0].get("content", item.get("content", ""))


def _fill(labels: list[str | None]) -> list[str | None]:
    """Items that belong to no labelled segment (punctuation, strays) take the label before them
    (the first ones the label after them)."""
    out, prev = list(labels), None
    for k, lab in enumerate(out):
        if lab is None:
            out[k] = prev
        prev = out[k]
    nxt = None
    for k in range(len(out) - 1, -1, -1):
        if out[k] is None:
            out[k] = nxt
        nxt = out[k]
    return out


def speaker_labels(results: dict, items: list[dict]) -> list[str | None]:
    """Each item's speaker from ``results.speaker_labels.segments[*].items`` (timed entries),
    as older AWS outputs give them; None for every item when there are none."""
    segs = (results.get("speaker_labels") or {}).get("segments") or []
    if not segs:
        return [None] * len(items)
    by_time: dict[tuple[float, float], str] = {}
    spans: list[tuple[float, float, str]] = []
    for seg in segs:
        label = seg.get("speaker_label")
        start, end = _f(seg.get("start_time")), _f(seg.get("end_time"))
        if label and start is not None and end is not None:
            spans.append((start, end, label))
        for entry in seg.get("items") or []:
            k = _time_key(entry)
            if k is not None and (entry.get("speaker_label") or label):
                by_time[k] = entry.get("speaker_label") or label
    labels: list[str | None] = []
    for item in items:
        k = _time_key(item) if item.get("type", "pronunciation") == "pronunciation" else None
        label = by_time.get(k) if k else None
        if label is None and k:  # a word AWS timed slightly differently: the segment around it
            label = next((lab for s, e, lab in spans if s - 0.01 <= k[0] <= e + 0.01), None)
        labels.append(label)
    return _fill(labels)


def channel_labels(results: dict, items: list[dict]) -> list[str | None]:
    """Each item's channel from ``results.channel_labels.channels[*].items`` (full items): by id
    when both carry one, else by time and content, punctuation by its place in its channel."""
    chans = [c for c in (results.get("channel_labels") or {}).get("channels") or [] if c.get("channel_label")]
    if not chans:
        return [None] * len(items)
    lists = [c.get("items") or [] for c in chans]
    names = [c["channel_label"] for c in chans]
    by_id = {it["id"]: names[c] for c, lst in enumerate(lists) for it in lst if "id" in it}
    by_time = {}
    for c, lst in enumerate(lists):
        for j, it in enumerate(lst):
            k = _time_key(it)
            if k is not None:
                by_time[(k, item_content(it))] = (c, j)
    ptr = [0] * len(chans)  # where each channel's list has got to
    labels: list[str | None] = []
    last = None  # the channel of the last word
    for item in items:
        if "id" in item and item["id"] in by_id:
            labels.append(by_id[item["id"]])
            continue
        k = _time_key(item)
        if k is not None:
            hit = by_time.get((k, item_content(item)))
            if hit:
                last, ptr[hit[0]] = hit[0], hit[1] + 1
            labels.append(names[hit[0]] if hit else None)
            continue
        # punctuation: a channel whose next entry is this mark, preferring the last word's channel
        cands = [c for c in range(len(chans)) if ptr[c] < len(lists[c])
                 and lists[c][ptr[c]].get("type") == item.get("type") and item_content(lists[c][ptr[c]]) == item_content(item)]
        if cands:
            c = last if last in cands else cands[0]
            ptr[c] += 1
            labels.append(names[c])
        else:
            labels.append(None)
    return _fill(labels)
