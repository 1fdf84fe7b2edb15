"""Tokens of an editable transcript: words and punctuation, joined back into text (Qt-free)."""

from __future__ import annotations

import re

_PUNCT = ".,?!;:"
_TOKEN = re.compile(r"[^\s]+")


def _f(value) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def tokenize(text: str) -> list[dict]:
    """Words and trailing punctuation marks of ``text`` as bare tokens."""
    out: list[dict] = []
    for chunk in _TOKEN.findall(text):
        body = chunk.rstrip(_PUNCT)
        marks = chunk[len(body):]
        if body:
            out.append({"type": "pronunciation", "content": body})
        elif marks and not out:
            out.append({"type": "pronunciation", "content": marks})
            continue
        for mark in marks:
            out.append({"type": "punctuation", "content": mark})
    return out


def _opens(tok: dict) -> bool:
    """An opening bracket (a voice command's "("): glued to the word after it, not before."""
    return tok["type"] == "punctuation" and tok["content"] == "("


def join_tokens(tokens: list[dict]) -> str:
    parts: list[str] = []
    glue = False
    for tok in tokens:
        if (tok["type"] == "punctuation" and not _opens(tok) or glue) and parts:
            parts[-1] += tok["content"]
        else:
            parts.append(tok["content"])
        glue = _opens(tok)
    return " ".join(parts)


def token_offsets(tokens: list[dict]) -> list[tuple[int, int]]:
    """(start, end) character offsets of each token in :func:`join_tokens`' text."""
    out, pos = [], 0
    for i, tok in enumerate(tokens):
        if i and (tok["type"] != "punctuation" or _opens(tok)) and not _opens(tokens[i - 1]):
            pos += 1  # the space
        out.append((pos, pos + len(tok["content"])))
        pos += len(tok["content"])
    return out
