"""An editable transcript over the AWS transcript JSON (Qt-free).

The engine's transcript is never modified. The user's work (speaker names,
edited text, picked alternatives) lives in an *edits file* beside the job:
``<home>/edits/<engine>/<job>.json``, written atomically after every change.

Model: a document is a list of *turns* (one per audio segment, or per run of
one speaker/channel); a turn is a list of *tokens* — words and punctuation with
the timing and confidence of the item they came from. Editing a turn's text
re-aligns the new words with the old ones, so corrected words keep their time
(click-to-seek and PHI still work) and new words have no confidence.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from .aws_labels import channel_labels as _channel_labels
from .aws_labels import speaker_labels as _speaker_labels
from .docalternatives import AlternativesMixin, Segment
from .docphi import PhiMixin
from .tokens import _f, join_tokens, token_offsets, tokenize

__all__ = ["Segment", "TranscriptDocument", "default_name", "edits_path", "is_sealed_bytes", "join_tokens",
           "sealer_for", "to_dict", "token_offsets", "tokenize"]

VERSION = 1


def edits_path(home: Path, engine: str, job_name: str) -> Path:
    return Path(home) / "edits" / engine / f"{job_name}.json"


def default_name(label: str) -> str:
    if label.startswith("spk_") and label[4:].isdigit():
        return f"Speaker {int(label[4:]) + 1}"
    if label.startswith("ch_") and label[3:].isdigit():
        return f"Channel {int(label[3:]) + 1}"
    return "Dictation" if not label else label


def is_sealed_bytes(raw: bytes) -> bool:
    from ..store.kms import is_envelope

    return is_envelope(raw[:64])


def sealer_for(raw: bytes, home: Path | None, fallback):
    """A sealer for the key and context an envelope names (its key must be in the keyring)."""
    from ..store.kms import LocalKms, Sealer

    from ..store.kms import kms_error

    named = LocalKms.envelope_key(raw)
    if named is None or home is None:
        if fallback is not None:
            return fallback
        # not a ValueError: the sealed edits must stay where they are, not be set aside as damaged
        raise kms_error("NotFoundException", "These edits are encrypted, and no local key was given to open "
                        "them.", "Decrypt")
    return Sealer(LocalKms(home), *named)


class TranscriptDocument(PhiMixin, AlternativesMixin):
    def __init__(self, transcript: dict, path: Path | None = None, *, job_name: str = "", engine: str = "",
                 sealer=None, home: Path | None = None):
        self.transcript = transcript
        self.home = Path(home) if home else None   # where the local keys are (sealed edits open with them)
        self.path = Path(path) if path else None
        # Edits of an encrypted transcript are kept encrypted with the same key and context: an
        # object with seal(bytes) -> bytes and unseal(bytes) -> bytes (app.store.kms.Sealer).
        self.sealer = sealer
        self.job_name = job_name or transcript.get("jobName", "")
        self.engine = engine
        results = transcript.get("results") or {}
        self.fingerprint = hashlib.sha256(json.dumps(results.get("items", []), sort_keys=True)
                                          .encode("utf-8")).hexdigest()[:16]
        self.entities = [dict(e, start=_f(e.get("start_time")), end=_f(e.get("end_time")))
                         for e in results.get("entities") or []]
        # stretches of speech the local engine heard but could not turn into words
        self.untranscribed = [(_f(u.get("start_time")) or 0.0, _f(u.get("end_time")) or 0.0, u.get("channel_label"))
                              for u in results.get("untranscribed_speech") or []]
        self.segments = [Segment(i, _f(s.get("start_time")) or 0.0, _f(s.get("end_time")) or 0.0,
                                 list(s.get("alternatives") or []), s.get("channel_label") or None)
                         for i, s in enumerate(results.get("segments") or [])]
        # template sections (results.sections of a dictation with a template, app/live/templates.py):
        # (title, first item, last item); each turn records its section as turn["section"]
        self.sections = [(str(s.get("title", "")), int(s.get("start_item", 0)), int(s.get("end_item", -1)))
                         for s in results.get("sections") or [] if isinstance(s, dict)]
        self.state = self._initial_state(results)
        if self.path and self.path.exists():
            try:
                raw = self.path.read_bytes()
                if is_sealed_bytes(raw):
                    # sealed with the job's key, or at rest with the local audio key: the envelope names
                    # its key; without it the error is raised and the edits stay where they are
                    if self.sealer is None or not self.sealer.owns(raw):
                        self.sealer = sealer_for(raw, self.home, self.sealer)
                    raw = self.sealer.unseal(raw)
                saved = json.loads(raw.decode("utf-8"))
                if saved.get("fingerprint") == self.fingerprint and saved.get("version") == VERSION:
                    self.state = saved["state"]
            except (OSError, ValueError, KeyError):
                pass  # an unreadable edits file: start from the transcript (it is kept as .bak)
                try:
                    os.replace(self.path, self.path.with_suffix(".json.bak"))
                except OSError:
                    pass

    @classmethod
    def open(cls, transcript: dict, home: Path, engine: str, job_name: str, sealer=None, *,
             at_rest: bool = False) -> "TranscriptDocument":
        """The job's transcript with its edits. ``at_rest``: edits of a job without a KMS key are sealed
        with the local key for data at rest (the encrypt_audio setting) when saved."""
        if sealer is None and at_rest:
            from ..store.audiovault import edits_sealer

            sealer = edits_sealer(home)
        return cls(transcript, edits_path(home, engine, job_name), job_name=job_name, engine=engine, sealer=sealer,
                   home=home)

    # -- building ------------------------------------------------------------------
    @staticmethod
    def _token(item: dict) -> dict:
        alt = (item.get("alternatives") or [{}])[0]
        tok = {"type": item.get("type", "pronunciation"), "content": alt.get("content", item.get("content", ""))}
        if tok["type"] == "pronunciation":
            tok["start"] = _f(item.get("start_time"))
            tok["end"] = _f(item.get("end_time"))
            tok["confidence"] = _f(alt.get("confidence", item.get("confidence")))
        return tok

    def _initial_state(self, results: dict) -> dict:
        items = results.get("items") or []
        turns: list[dict] = []
        segments = results.get("audio_segments") or []
        by_id = {it.get("id", i): it for i, it in enumerate(items)}
        bullets = {e.get("item") for e in results.get("layout") or [] if e.get("type") == "bullet"}
        if segments and all("items" in s for s in segments):
            for seg in segments:
                toks = [self._token(by_id[i]) for i in seg["items"] if i in by_id]
                label = seg.get("speaker_label") or seg.get("channel_label") or ""
                if toks:
                    turns.append({"label": label, "tokens": toks})
                    first = seg["items"][0]
                    section = next((t for t, a, b in self.sections if a <= first <= b), None)
                    if section:
                        turns[-1]["section"] = section
                    if first in bullets:
                        turns[-1]["bullet"] = True
        else:
            speakers = _speaker_labels(results, items)
            channels = _channel_labels(results, items)
            bounds = sorted(s.start for s in self.segments)
            nxt = 0  # the next results.segments start not yet passed
            for k, item in enumerate(items):
                channel = item.get("channel_label") or channels[k]
                label = item.get("speaker_label") or speakers[k] or channel or ""
                tok = self._token(item)
                starts_segment = False
                if tok.get("start") is not None:
                    while nxt < len(bounds) and bounds[nxt] <= tok["start"] + 0.02:
                        nxt += 1
                        starts_segment = True
                if not turns or (turns[-1]["label"], turns[-1].get("channel")) != (label, channel):
                    turns.append({"label": label, "tokens": []})
                    if channel:
                        turns[-1]["channel"] = channel
                elif not label and len(turns[-1]["tokens"]) > 40 and (starts_segment or not bounds) and (
                        turns[-1]["tokens"][-1]["content"] in ".?!" or len(turns[-1]["tokens"]) > 120):
                    # a long dictation: paragraphs at sentence ends (only where a results.segments
                    # entry starts, so that no segment's alternatives span two paragraphs)
                    turns.append({"label": label, "tokens": []})
                turns[-1]["tokens"].append(tok)
            turns = [t for t in turns if t["tokens"]]
        if not turns:
            text = ((results.get("transcripts") or [{}])[0]).get("transcript", "")
            if text:
                turns.append({"label": "", "tokens": tokenize(text)})
        return {"names": {}, "turns": turns, "picked": {}}

    # -- reading -------------------------------------------------------------------
    @property
    def turns(self) -> list[dict]:
        return self.state["turns"]

    def labels(self) -> list[str]:
        seen: list[str] = []
        for turn in self.turns:
            if turn["label"] not in seen:
                seen.append(turn["label"])
        return seen

    def speaker_name(self, label: str) -> str:
        return self.state["names"].get(label) or default_name(label)

    def turn_text(self, index: int) -> str:
        return join_tokens(self.turns[index]["tokens"])

    def turn_span(self, index: int) -> tuple[float | None, float | None]:
        times = [(t.get("start"), t.get("end")) for t in self.turns[index]["tokens"] if t.get("start") is not None]
        if not times:
            return None, None
        return times[0][0], times[-1][1]

    def text(self, *, redact: bool = False, names: bool = True) -> str:
        lines = []
        for i, turn in enumerate(self.turns):
            body = self.redacted_text(i) if redact else self.turn_text(i)
            lines.append(f"{self.speaker_name(turn['label'])}: {body}" if names else body)
        return "\n\n".join(lines)

    def word_at(self, seconds: float) -> tuple[int, int] | None:
        """(turn, token) being spoken at ``seconds`` (the latest word started by then)."""
        best = None
        for ti, turn in enumerate(self.turns):
            for ki, tok in enumerate(turn["tokens"]):
                start = tok.get("start")
                if start is None:
                    continue
                if start <= seconds + 1e-3:
                    if best is None or start >= best[0]:
                        best = (start, ti, ki)
        if best is None:
            return None
        start, ti, ki = best
        end = self.turns[ti]["tokens"][ki].get("end") or start
        if seconds > end + 1.0:
            return None  # in a pause
        return ti, ki

    # -- editing (each saves) ---------------------------------------------------------
    def snapshot(self) -> dict:
        return copy.deepcopy(self.state)

    def restore(self, state: dict) -> None:
        self.state = copy.deepcopy(state)
        self.save()

    def rename_speaker(self, label: str, name: str) -> None:
        name = name.strip()
        if name and name != default_name(label):
            self.state["names"][label] = name
        else:
            self.state["names"].pop(label, None)
        self.save()

    def set_turn_text(self, index: int, text: str) -> bool:
        """Replace a turn's text; returns False when nothing changed."""
        old = self.turns[index]["tokens"]
        new = tokenize(text)
        if [(t["type"], t["content"]) for t in old] == [(t["type"], t["content"]) for t in new]:
            return False
        self.turns[index]["tokens"] = self._align(old, new)
        self.save()
        return True

    @staticmethod
    def _align(old: list[dict], new: list[dict]) -> list[dict]:
        a = [t["content"] for t in old]
        b = [t["content"] for t in new]
        out: list[dict] = []
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if op == "equal":
                out.extend(copy.deepcopy(old[i1:i2]))
                continue
            timed = [t for t in old[i1:i2] if t.get("start") is not None]
            span = (timed[0]["start"], timed[-1]["end"]) if timed else (None, None)
            olds = old[i1:i2]
            for k, tok in enumerate(new[j1:j2]):
                tok = dict(tok)
                if tok["type"] == "pronunciation":
                    if len(olds) == j2 - j1 and olds[k].get("start") is not None:
                        tok["start"], tok["end"] = olds[k]["start"], olds[k].get("end")
                    else:
                        tok["start"], tok["end"] = span
                    tok["confidence"] = None  # typed by the user
                    tok["edited"] = True
                out.append(tok)
        return out

    def replace_all(self, find: str, replace: str, *, case_sensitive: bool = False) -> int:
        if not find:
            return 0
        flags = 0 if case_sensitive else re.IGNORECASE
        pattern = re.compile(re.escape(find), flags)
        count = 0
        for i in range(len(self.turns)):
            text = self.turn_text(i)
            new, n = pattern.subn(lambda _m: replace, text)
            if n:
                count += n
                self.turns[i]["tokens"] = self._align(self.turns[i]["tokens"], tokenize(new))
        if count:
            self.save()
        return count

    # -- persistence ------------------------------------------------------------------
    def save(self) -> None:
        if not self.path:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"version": VERSION, "job": self.job_name, "engine": self.engine,
                "fingerprint": self.fingerprint, "state": self.state}
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        if self.sealer is not None:
            body = self.sealer.seal(body)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def delete_edits(self) -> None:
        if self.path:
            self.path.unlink(missing_ok=True)


def to_dict(doc: TranscriptDocument) -> dict[str, Any]:
    """The edited transcript as plain data (for export)."""
    return {"job": doc.job_name,
            "turns": [{"speaker": doc.speaker_name(t["label"]), "label": t["label"],
                       "text": doc.turn_text(i)} for i, t in enumerate(doc.turns)]}
