"""Plain text: one paragraph per turn, speaker-labelled or not, optional timestamps."""

from __future__ import annotations

from .note import Note, footer_text, header_rows, note_text


def render(note: Note, *, speakers: bool = True, timestamps: bool = False, header: bool = False, **_) -> str:
    """The note as text; ``header`` puts the header block above it and the footer below."""
    body = note_text(note, speakers=speakers, timestamps=timestamps)
    if not header:
        return body + "\n"
    top = "\n".join(f"{label}: {value}" for label, value in header_rows(note))
    return f"{note.title}\n{top}\n\n{body}\n\n{footer_text(note)}\n"
