"""Voice commands in dictation: "period", "new paragraph", "scratch that", "next field"... (Qt-free).

:func:`apply_commands` works on the engine's internal items (``{"type", "content",
"confidence", "start", "end"}``, see app/core/transcript.py) of one dictation in time order and
returns the items with the command words removed and their punctuation in place, plus the
layout (line and paragraph breaks, bullets) and the template sections the commands asked for.

**When is a word a command?** Only at a *boundary*, so that the same words in a sentence stay
text ("the period of the infection", "colon cancer", "scratch that itch", "bullet wound"):

- *after*: a command must end the dictation, or be followed by a pause of at least
  :data:`PAUSE` seconds (from the word times), or by the sentence end Whisper writes at a pause
  ("Period." -- a Whisper comma alone is not enough: it writes "reports, period, pain" for
  "reports period pain"), or by another command;
- *before*: punctuation commands ("period", "comma", "colon", "question mark", "full stop",
  "open/close bracket") must not be the noun of a noun phrase: the word before must not be a
  determiner, preposition or one of the few adjectives that go with these nouns ("the colon.",
  "a short period.", "menstrual period.") -- unless there is a pause or punctuation before the
  command too. Layout and editing commands ("new line", "new paragraph", "bullet",
  "scratch that", "next field", "go to <section>") need a boundary before as well: the start
  of the dictation, a pause, punctuation, or another command.

Whisper often writes its own punctuation around a spoken command ("fever. Period."): the
command's mark replaces Whisper's marks next to it, so there is one mark, never "..".

Breaks and bullets have no AWS item. They are returned as ``layout`` events, which the pipeline
writes to ``results["layout"]`` (``[{"type": "line_break" | "paragraph_break" | "bullet",
"item": i}]``: before item ``i``); the words after a break start a new audio segment, and the
transcript text (:func:`layout_text`) shows them as ``\\n``, ``\\n\\n`` and ``\\n• ``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PAUSE = 0.25  # seconds of silence between two words that make a boundary

# spoken form (normalised words) -> command
_PUNCTUATION = {
    ("period",): ".", ("full", "stop"): ".", ("fullstop",): ".",
    ("comma",): ",", ("colon",): ":", ("semicolon",): ";", ("semi", "colon"): ";",
    ("question", "mark"): "?", ("exclamation", "mark"): "!", ("exclamation", "point"): "!",
    ("open", "bracket"): "(", ("open", "parenthesis"): "(", ("open", "paren"): "(",
    ("close", "bracket"): ")", ("close", "parenthesis"): ")", ("close", "paren"): ")",
}
_LAYOUT = {
    ("new", "line"): "line_break", ("newline",): "line_break",
    ("new", "paragraph"): "paragraph_break", ("newparagraph",): "paragraph_break",
    ("bullet",): "bullet", ("bullet", "point"): "bullet", ("next", "bullet"): "bullet",
}
_EDIT = {("scratch", "that"): "scratch", ("next", "field"): "next_field", ("next", "section"): "next_field"}

# the words before a noun that make "period", "colon"... that noun and not a command
_NOUN_BEFORE = set("""
a an the this that these those my your his her its our their no any some each every another
of in on at to for from with by into during over under per within throughout after before through
last first same short long brief whole entire refractory incubation menstrual trial waiting
postoperative perioperative postpartum neonatal washout grace time sigmoid transverse ascending
descending distal proximal spastic irritable his/her semi full open close
""".split())
_SENTENCE_END = ".?!"
_ORDER = ("paragraph_break", "line_break", "bullet")  # events at one item, in this order


def norm(word: str) -> str:
    return re.sub(r"[^a-z0-9]", "", word.lower())


@dataclass
class Applied:
    """One command that was applied: what it was, its words and when it was said."""
    command: str
    words: str
    start: float


@dataclass
class CommandResult:
    items: list[dict]
    layout: list[dict] = field(default_factory=list)    # {"type", "item"}: before item i
    sections: list[dict] = field(default_factory=list)  # {"title", "start_item", "end_item"}
    applied: list[Applied] = field(default_factory=list)


def _sections(sections) -> list:
    from .templates import Section

    return [s if isinstance(s, Section) else Section(str(s)) for s in sections or ()]


def _spoken_sections(sections) -> list[tuple[tuple[str, ...], str]]:
    out = []
    for section in sections:
        out.extend((tuple(name.split()), section.title) for name in section.spoken())
    return sorted(out, key=lambda s: -len(s[0]))


def _match(norms: list[str], at: int, sections) -> tuple[int, str, str] | None:
    """(number of words, kind, value) of the command spoken at word ``at``, whatever its boundaries."""
    best = None
    for table, kind in ((_PUNCTUATION, "punctuation"), (_LAYOUT, "layout"), (_EDIT, "edit")):
        for phrase, value in table.items():
            if tuple(norms[at:at + len(phrase)]) == phrase and (best is None or len(phrase) > best[0]):
                if value == "next_field" and not sections:
                    continue  # without a template, "next field" is just words
                best = (len(phrase), kind, value)
    if sections and norms[at:at + 2] == ["go", "to"]:
        for name, title in _spoken_sections(sections):
            if tuple(norms[at + 2:at + 2 + len(name)]) == name:
                return 2 + len(name), "goto", title
    return best


def apply_commands(items: list[dict], sections=None, *, pause: float = PAUSE) -> CommandResult:
    """The dictation ``items`` with its voice commands applied (see the module's docstring).

    ``sections``: the job's template sections (app/live/templates.Section, or titles); without
    them "next field" and "go to ..." are ordinary words and no sections are returned.
    """
    sections = _sections(sections)
    titles = [s.title for s in sections]
    word_at = [k for k, it in enumerate(items) if it["type"] == "pronunciation"]
    norms = [norm(items[k]["content"]) for k in word_at]

    def punct_after(w: int) -> list[int]:
        """Indices of the punctuation items right after word ``w``."""
        k, out = word_at[w] + 1, []
        while k < len(items) and items[k]["type"] == "punctuation":
            out.append(k)
            k += 1
        return out

    def gap(w1: int, w2: int) -> float:
        return float(items[word_at[w2]]["start"]) - float(items[word_at[w1]]["end"])

    def boundary_after(w: int) -> bool:
        # Whisper's comma alone is not a pause ("She reports, period, pain"): its sentence ends are
        n = w + 1
        return (n >= len(word_at) or gap(w, n) >= pause
                or any(items[p]["content"] in _SENTENCE_END for p in punct_after(w))
                or _match(norms, n, sections) is not None)

    def boundary_before(w: int, consumed_before: bool) -> bool:
        return w == 0 or consumed_before or gap(w - 1, w) >= pause or bool(punct_after(w - 1))

    out: list[dict] = []
    result = CommandResult(out)
    pending: set[str] = set()  # breaks before the next word
    pending_section: str | None = titles[0] if titles else None
    current_section: str | None = None
    capitalise = False
    lowercase = False
    block = 0
    consumed_prev = False
    skip_punct: set[int] = set()

    def drop_trailing_punct(brackets: bool = False) -> list[str]:
        """Remove the marks at the end (Whisper's, or a command's that the next one replaces);
        a bracket stays unless ``brackets``."""
        dropped = []
        while out and out[-1]["type"] == "punctuation" and (brackets or out[-1]["content"] not in "()"):
            dropped.append(out.pop()["content"])
        return dropped

    def reopen_events(floor: int) -> None:
        """Events at items that a "scratch that" removed apply to the next word instead."""
        nonlocal pending_section, current_section
        while result.layout and result.layout[-1]["item"] >= floor:
            pending.add(result.layout.pop()["type"])
        while result.sections and result.sections[-1]["start_item"] >= floor:
            pending_section = result.sections.pop()["title"]
            current_section = result.sections[-1]["title"] if result.sections else None

    w = 0
    k = 0
    while k < len(items):
        item = items[k]
        if item["type"] == "punctuation":
            if k not in skip_punct and out and (out[-1]["type"] == "pronunciation" or out[-1]["content"] == ")"):
                new = dict(item)
                if "_segment" in out[-1]:
                    new["_segment"] = out[-1]["_segment"]
                out.append(new)
            k += 1
            continue
        match = _match(norms, w, sections)
        is_command = False
        if match:
            length, kind, value = match
            last = w + length - 1
            after = boundary_after(last)
            before = boundary_before(w, consumed_prev)
            if value == "(":  # "open bracket 81 mg": the pause may come before it only
                is_command = (after or before) and (before or norms[w - 1] not in _NOUN_BEFORE)
            elif kind == "punctuation":
                is_command = after and (before or norms[w - 1] not in _NOUN_BEFORE)
            else:
                is_command = after and before if kind != "goto" else before
        if not is_command:
            new = dict(item)
            if "_segment" in item:
                new["_segment"] = (item["_segment"], block)
            if capitalise:
                new["content"] = new["content"][:1].upper() + new["content"][1:]
            elif lowercase and re.fullmatch(r"[A-Z][a-z]+", new["content"]) and new["content"] != "I":
                new["content"] = new["content"].lower()
            capitalise = lowercase = False
            if pending_section is not None and pending_section != current_section:
                if result.sections:
                    result.sections[-1]["end_item"] = len(out) - 1
                result.sections.append({"title": pending_section, "start_item": len(out), "end_item": len(out)})
                current_section = pending_section
                if out:  # a new section starts a new paragraph
                    pending.add("paragraph_break")
            pending_section = None
            if pending & {"paragraph_break", "bullet"}:
                pending.discard("line_break")  # a paragraph break or a bullet is also a new line
            if not out:
                pending &= {"bullet"}
            if pending:
                result.layout.extend({"type": kind, "item": len(out)} for kind in _ORDER if kind in pending)
                block += 1  # the words after a break are a new audio segment
                if "_segment" in item:
                    new["_segment"] = (item["_segment"], block)
            pending.clear()
            out.append(new)
            consumed_prev = False
            w += 1
            k += 1
            continue

        # a command: its words (and Whisper's punctuation after them) are removed
        length, kind, value = match
        last = w + length - 1
        result.applied.append(Applied(value if kind != "goto" else f"go to {value}",
                                      " ".join(items[word_at[j]]["content"] for j in range(w, last + 1)),
                                      float(items[word_at[w]]["start"])))
        whisper_after = [items[p]["content"] for p in punct_after(last)]
        skip_punct.update(punct_after(last))
        for j in range(w, last):  # Whisper's marks inside a two-word command ("Full. Stop.")
            skip_punct.update(punct_after(j))
        if kind == "punctuation":
            if value == "(":
                drop_trailing_punct()
                if out:
                    out.append({**{x: out[-1][x] for x in ("speaker", "channel", "_segment") if x in out[-1]},
                                "type": "punctuation", "content": "(", "confidence": 0.0})
                lowercase = True
            elif out:
                drop_trailing_punct()
                if out:
                    out.append({**{x: out[-1][x] for x in ("speaker", "channel", "_segment") if x in out[-1]},
                                "type": "punctuation", "content": value, "confidence": 0.0})
                capitalise = value in _SENTENCE_END
                lowercase = not capitalise and any(m in _SENTENCE_END for m in whisper_after)
        elif kind == "layout":
            pending.add(value)
            capitalise = True
        elif value == "scratch":
            drop_trailing_punct(brackets=True)
            while out and out[-1]["type"] == "pronunciation":
                out.pop()
            if out and out[-1]["content"] == "(":  # the phrase was the bracket's
                out.pop()
            reopen_events(len(out))
            capitalise = not out or out[-1]["content"] in _SENTENCE_END or bool(pending)
        elif value == "next_field" or kind == "goto":
            if value == "next_field":
                here = pending_section if pending_section is not None else current_section
                at = titles.index(here) if here in titles else -1
                target = titles[min(at + 1, len(titles) - 1)]
            else:
                target = value
            pending_section = target
            capitalise = True
        if capitalise:
            lowercase = False
        consumed_prev = True
        # skip the command's words (and their punctuation, through skip_punct)
        while w <= last:
            k = word_at[w] + 1
            w += 1
    # a dangling "(" or mark at the very start is not kept
    while out and out[0]["type"] == "punctuation":
        out.pop(0)
        for event in result.layout:
            event["item"] -= 1
        for section in result.sections:
            section["start_item"] = max(0, section["start_item"] - 1)
            section["end_item"] = max(0, section["end_item"] - 1)
    if out and out[-1]["content"] == "(":
        out.pop()
    if result.sections:
        result.sections[-1]["end_item"] = len(out) - 1
        result.sections = [s for s in result.sections if s["end_item"] >= s["start_item"]]
    result.layout = [e for e in result.layout if (0 < e["item"] or e["type"] == "bullet") and e["item"] < len(out)]
    result.items = out
    return result


def layout_text(items: list[dict], layout: list[dict] | None = None) -> str:
    """The transcript text: words and punctuation as AWS joins them ("(" glued to the next word),
    with ``\\n`` for a line break, ``\\n\\n`` for a paragraph break and ``\\n• `` for a bullet
    (``\\n\\n• `` for a bullet that starts a paragraph or a section)."""
    breaks: dict[int, set[str]] = {}
    for event in layout or []:
        breaks.setdefault(event["item"], set()).add(event["type"])
    text = ""
    glue = True
    for n, item in enumerate(items):
        kinds = breaks.get(n)
        if kinds:
            text = text.rstrip(" ")
            if n:
                text += "\n\n" if "paragraph_break" in kinds else "\n"
            text += "• " if "bullet" in kinds else ""
            glue = True
        if item["type"] == "punctuation" and item["content"] != "(":
            text += item["content"]
            continue
        text += ("" if glue or not text else " ") + item["content"]
        glue = item["content"] == "("
    return text


def segment_text(items: list[dict]) -> str:
    """One audio segment's text (no breaks inside a segment), "(" glued to the next word."""
    return layout_text(items)


def spoken_text(words, sections=None) -> str:
    """What the clinician sees while dictating: ``words`` (objects with ``text``, ``start`` and ``end``,
    e.g. the live session's settled words) with the voice commands applied, as the final note will
    have them ("fever period new paragraph" shows as "fever." and a paragraph break)."""
    from ..core.tokens import tokenize

    items = []
    for w in words:
        for tok in tokenize(w.text):
            tok.update(start=w.start, end=w.end, confidence=1.0)
            items.append(tok)
    result = apply_commands(items, sections)
    return layout_text(result.items, result.layout)
