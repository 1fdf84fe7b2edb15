"""DOCX (python-docx): a header block, the note, and the "Transcribed by ClinScribe" footer.

With ``confidence=True`` words recognised with a confidence under ``threshold`` are coloured
(words the user typed have no confidence and are never coloured).
"""

from __future__ import annotations

import io
from datetime import date

from .note import Note, clock, footer_text, header_rows, sections
from .note import printable as clean

LOW_CONFIDENCE = 0.5
LOW_COLOUR = (0xC0, 0x39, 0x2B)  # a red readable on white
def render(note: Note, *, speakers: bool = True, timestamps: bool = False, confidence: bool = False,
           threshold: float = LOW_CONFIDENCE, reviewed: date | None = None, **_) -> bytes:
    import docx
    from docx.shared import Pt, RGBColor

    document = docx.Document()
    props = document.core_properties
    props.title, props.author, props.comments = clean(note.title), clean(note.header.author_name), "ClinScribe"
    props.subject = note.header.note_type_display
    style = document.styles["Normal"]
    style.font.name, style.font.size = "Calibri", Pt(11)

    document.add_heading(clean(note.title), level=1)
    rows = header_rows(note)
    if rows:
        table = document.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for label, value in rows:
            cells = table.add_row().cells
            cells[0].paragraphs[0].add_run(label).bold = True
            cells[1].text = clean(value)
    if note.redacted:
        document.add_paragraph().add_run("PHI in the text has been redacted.").italic = True

    colour = RGBColor(*LOW_COLOUR)
    for heading, paragraphs in sections(note):
        if heading:
            document.add_heading(clean(heading), level=2)
        for p in paragraphs:
            para = document.add_paragraph()
            if timestamps and p.start is not None:
                para.add_run(f"[{clock(p.start)}] ")
            if speakers and p.speaker:
                para.add_run(f"{clean(p.speaker)}: ").bold = True
            if not confidence:
                para.add_run(clean(p.text))
                continue
            for k, (word, conf) in enumerate(p.words):
                run = para.add_run(clean(word) + (" " if k < len(p.words) - 1 else ""))
                if conf is not None and conf < threshold:
                    run.font.color.rgb = colour
    if confidence:
        legend = document.add_paragraph().add_run(
            f"Words in red were recognised with a confidence under {threshold:.0%}: check them against the audio.")
        legend.italic, legend.font.size = True, Pt(9)

    footer = document.sections[0].footer
    footer.paragraphs[0].text = clean(footer_text(note, reviewed))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
