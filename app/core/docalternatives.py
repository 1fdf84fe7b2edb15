"""Alternatives of a transcript document: which results.segments a turn offers, and picking one."""

from __future__ import annotations

from dataclasses import dataclass

from .aws_labels import item_content
from .tokens import _PUNCT, _f, join_tokens, tokenize


@dataclass
class Segment:
    """A results.segments entry: a time span with alternative transcripts."""
    index: int
    start: float
    end: float
    alternatives: list[dict]
    channel: str | None = None
    turn: int | None = None  # set on a part offered to one turn of a segment split by a speaker change


class AlternativesMixin:
    """Mixed into :class:`app.core.document.TranscriptDocument` (uses its ``segments``, ``turns``,
    ``state``, ``_token``, ``_align`` and ``save``)."""

    def _turn_channel(self, index: int) -> str | None:
        turn = self.turns[index]
        return turn.get("channel") or (turn["label"] if turn["label"].startswith("ch_") else None)

    def _spans(self) -> list[tuple[float, float] | None]:
        out = []
        for turn in self.turns:
            timed = [(t["start"], t.get("end") or t["start"]) for t in turn["tokens"] if t.get("start") is not None]
            out.append((min(a for a, _ in timed), max(b for _, b in timed)) if timed else None)
        return out

    def _segment_words(self, seg: Segment, spans=None) -> dict[int, list[int]]:
        """turn -> its timed words inside ``seg``: the words picking an alternative replaces.
        A segment with a channel only covers that channel's turns."""
        spans = self._spans() if spans is None else spans
        channels = seg.channel is not None and any(self._turn_channel(i) for i in range(len(self.turns)))
        out: dict[int, list[int]] = {}
        for ti, turn in enumerate(self.turns):
            span = spans[ti]
            if span is None or span[1] < seg.start - 0.02 or span[0] >= seg.end + 0.02:
                continue
            if channels and self._turn_channel(ti) != seg.channel:
                continue
            ks = [k for k, t in enumerate(turn["tokens"]) if t["type"] == "pronunciation"
                  and t.get("start") is not None and seg.start - 0.02 <= t["start"] < seg.end + 0.02]
            if ks:
                out[ti] = ks
        return out

    def _offer(self, seg: Segment, index: int, parts: dict[int, list[int]]) -> Segment | None:
        """What the menu of turn ``index`` offers of ``seg``: the whole segment when all its words
        are in this turn; when a speaker change splits it, only the part of each alternative
        timed inside this turn (never another speaker's words); nothing when speech overlaps."""
        if index not in parts or not seg.alternatives:
            return None
        if len(parts) == 1:
            return Segment(seg.index, seg.start, seg.end,
                           [dict(a, index=k) for k, a in enumerate(seg.alternatives)], seg.channel)
        mine = [self.turns[index]["tokens"][k] for k in parts[index]]
        lo, hi = min(t["start"] for t in mine), max(t.get("end") or t["start"] for t in mine)
        others = [t for ti, ks in parts.items() if ti != index for t in (self.turns[ti]["tokens"][k] for k in ks)]
        if any(lo <= t["start"] <= hi for t in others):
            return None  # interleaved with another turn's words: cannot be split by time
        before = [t.get("end") or t["start"] for t in others if t["start"] < lo]
        after = [t["start"] for t in others if t["start"] > hi]
        low = (max(before) + lo) / 2 if before else float("-inf")
        high = (hi + min(after)) / 2 if after else float("inf")
        alternatives, seen = [], set()
        for k, alt in enumerate(seg.alternatives):
            items, keep = [], False
            for it in alt.get("items") or []:
                start = _f(it.get("start_time"))
                if start is not None:
                    keep = low <= start < high
                if keep:
                    items.append(it)
            text = join_tokens([{"type": it.get("type", "pronunciation"), "content": item_content(it)} for it in items])
            if text and text not in seen:
                seen.add(text)
                alternatives.append({"transcript": text, "items": items, "index": k})
        if not alternatives:
            return None
        return Segment(seg.index, max(seg.start, lo), min(seg.end, hi), alternatives, seg.channel, index)

    def segments_for_turn(self, index: int) -> list[Segment]:
        """The results.segments a turn's alternatives menu offers (see :meth:`_offer`)."""
        spans, out = self._spans(), []
        if spans[index] is None:
            return []
        start, end = spans[index]
        for seg in self.segments:
            if seg.alternatives and seg.start - 0.02 <= end and start < seg.end + 0.02:
                offer = self._offer(seg, index, self._segment_words(seg, spans))
                if offer:
                    out.append(offer)
        return out

    @staticmethod
    def _picked_key(segment: int, turn: int | None) -> str:
        return str(segment) if turn is None else f"{segment}@{turn}"

    def picked(self, segment: int, turn: int | None = None) -> int | None:
        """The alternative picked for ``segment`` (for its part in ``turn`` when a speaker change split it)."""
        value = self.state["picked"].get(self._picked_key(segment, turn))
        return None if value is None else int(value)

    def pick_alternative(self, segment: int, alternative: int, turn: int | None = None) -> None:
        """Replace the words of ``segment`` with its ``alternative``, in one turn only: when a
        speaker change splits the segment, only that turn's part (see :meth:`_offer`)."""
        seg = self.segments[segment]
        parts = self._segment_words(seg)
        if turn is None:
            if len(parts) != 1:
                raise ValueError("this segment spans several turns: pick it in one of them" if parts
                                 else "no turn covers this segment")
            turn = next(iter(parts))
        offer = self._offer(seg, turn, parts)
        alt = next((a for a in offer.alternatives if a["index"] == alternative), None) if offer else None
        if alt is None:
            raise ValueError("this alternative is not offered for this turn")
        tokens = self.turns[turn]["tokens"]
        first, last = parts[turn][0], parts[turn][-1]
        while last + 1 < len(tokens) and tokens[last + 1]["type"] == "punctuation":
            last += 1
        items = alt.get("items") or []
        new = [self._token(it) if "alternatives" in it else {
            "type": it.get("type", "pronunciation"), "content": it.get("content", ""),
            **({"start": _f(it.get("start_time")), "end": _f(it.get("end_time")),
                "confidence": _f(it.get("confidence"))} if it.get("type", "pronunciation") == "pronunciation" else {})}
            for it in items]
        if not new:
            new = self._align(tokens[first:last + 1], tokenize(alt.get("transcript", "")))
        else:
            text = alt.get("transcript", "")
            if text and text.rstrip()[-1:] in _PUNCT and new[-1]["type"] != "punctuation":
                new.append({"type": "punctuation", "content": text.rstrip()[-1]})
        tokens[first:last + 1] = new
        self.state["picked"][self._picked_key(segment, offer.turn)] = alternative
        self.save()
