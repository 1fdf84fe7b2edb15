"""For pasting into an EHR text field: plain text plus HTML (one <p> per turn, <h2> per section)."""

from __future__ import annotations

import html
from typing import NamedTuple

from .note import Note, clock, note_text, sections


class Clipboard(NamedTuple):
    text: str
    html: str


def fragment(note: Note, *, speakers: bool = True, timestamps: bool = False) -> str:
    """The note as an HTML fragment, every value escaped."""
    out: list[str] = []
    for heading, paragraphs in sections(note):
        if heading:
            out.append(f"<h2>{html.escape(heading)}</h2>")
        for p in paragraphs:
            when = f"[{clock(p.start)}] " if timestamps and p.start is not None else ""
            who = f"<b>{html.escape(p.speaker)}:</b> " if speakers and p.speaker else ""
            out.append(f"<p>{html.escape(when)}{who}{html.escape(p.text)}</p>")
    return "\n".join(out)


def render(note: Note, *, speakers: bool = True, timestamps: bool = False, **_) -> Clipboard:
    """Both flavours of the clipboard: ``text/plain`` and an ``text/html`` fragment."""
    return Clipboard(note_text(note, speakers=speakers, timestamps=timestamps),
                     fragment(note, speakers=speakers, timestamps=timestamps))


def render_html(note: Note, *, speakers: bool = True, timestamps: bool = False, **_) -> str:
    """A whole HTML document (the ``html`` export format)."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(note.title)}</title>\n</head>\n<body>\n"
            f"{fragment(note, speakers=speakers, timestamps=timestamps)}\n</body>\n</html>\n")
