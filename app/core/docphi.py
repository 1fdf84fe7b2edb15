"""The PHI side of a transcript document: which words an entity covers, and the redacted view."""

from __future__ import annotations

from .tokens import join_tokens


class PhiMixin:
    """Mixed into :class:`app.core.document.TranscriptDocument` (uses its ``entities`` and ``turns``)."""

    def phi_entity(self, token: dict) -> int | None:
        """Index of the PHI entity a word belongs to: the one covering most of its time (at least half),
        so that a neighbour whose time only touches the entity's is not swallowed by it."""
        start, end = token.get("start"), token.get("end")
        if token["type"] != "pronunciation" or start is None:
            return None
        end = start if end is None else end
        best, best_share = None, 0.0
        for k, ent in enumerate(self.entities):
            a, b = ent["start"], ent["end"]
            if a is None or b is None:
                continue
            if end - start <= 1e-6:  # a word without duration: inside the entity's time
                share = 1.0 if a - 1e-6 <= start <= b + 1e-6 and (start < b or a == b) else 0.0
            else:
                share = (min(end, b) - max(start, a)) / (end - start)
            if share > best_share + 1e-9:
                best, best_share = k, share
        return best if best_share >= 0.5 - 1e-9 else None

    def phi_category(self, token: dict) -> str | None:
        k = self.phi_entity(token)
        return None if k is None else (self.entities[k].get("category") or "PHI")

    def phi_spans(self, index: int) -> list[int | None]:
        """The PHI entity of each token of a turn; punctuation between two words of one entity (the
        commas of a phone number) belongs to it, so an entity is one highlight and one tag."""
        tokens = self.turns[index]["tokens"]
        ents = [self.phi_entity(t) for t in tokens]
        words = [k for k, t in enumerate(tokens) if t["type"] == "pronunciation"]
        for before, after in zip(words, words[1:]):
            if ents[before] is not None and ents[before] == ents[after]:
                for k in range(before + 1, after):
                    ents[k] = ents[before]
        return ents

    def redacted_tokens(self, index: int) -> list[dict]:
        """A turn's tokens with each PHI entity (its punctuation included) replaced by one
        ``[category]`` token, timed from the first to the last word it hides, with no confidence."""
        tokens, out = self.turns[index]["tokens"], []
        prev = None
        for tok, ent in zip(tokens, self.phi_spans(index)):
            if ent is not None:
                if ent != prev:
                    cat = self.entities[ent].get("category") or "PHI"
                    out.append({"type": "pronunciation", "content": f"[{cat}]", "start": tok.get("start"),
                                "end": tok.get("end"), "confidence": None, "phi": cat})
                else:
                    out[-1]["end"] = tok.get("end") or out[-1]["end"]
                prev = ent
                continue
            prev = None
            out.append(tok)
        return out

    def redacted_text(self, index: int) -> str:
        return join_tokens(self.redacted_tokens(index))
