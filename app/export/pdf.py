"""PDF (fpdf2): the same content as the DOCX — header block, the note, the footer on every page.

Text is set in a Unicode TrueType font found on the computer (DejaVu Sans, Liberation Sans,
Noto Sans, Arial, Segoe UI…), embedded as a subset; where none is found, fpdf2's core
Helvetica is used and characters outside Latin-1 are replaced by close ASCII ones ("–" by
"-", "…" by "...") or "?" — a PDF is always produced.
"""

from __future__ import annotations

import functools
import os
import unicodedata
import warnings
from datetime import date
from pathlib import Path

from .note import Note, clock, footer_text, header_rows, printable, sections

LOW_CONFIDENCE = 0.5
LOW_COLOUR = (0xC0, 0x39, 0x2B)
_FONT_DIRS = ["/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts", "/System/Library/Fonts/Supplemental",
              os.path.join(os.environ.get("WINDIR", "C:\\Windows"), "Fonts"), os.path.expanduser("~/.fonts"),
              os.path.expanduser("~/.local/share/fonts")]
_CANDIDATES = [("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"), ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"),
               ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"), ("arial.ttf", "arialbd.ttf"), ("Arial.ttf", "Arial Bold.ttf"),
               ("segoeui.ttf", "segoeuib.ttf")]
_ASCII = {"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "•": "*", "\u00a0": " "}


def find_font() -> tuple[Path, Path | None] | None:
    """(regular, bold) TrueType files of a Unicode sans-serif font on this computer, or None."""
    override = os.environ.get("CLINSCRIBE_PDF_FONT")
    if override and Path(override).is_file():
        return Path(override), None
    found: dict[str, Path] = {}
    wanted = {name for pair in _CANDIDATES for name in pair}
    for folder in _FONT_DIRS:
        if not os.path.isdir(folder):
            continue
        for root, _dirs, files in os.walk(folder):
            for name in files:
                if name in wanted and name not in found:
                    found[name] = Path(root) / name
    for regular, bold in _CANDIDATES:
        if regular in found:
            return found[regular], found.get(bold)
    return None


@functools.lru_cache(maxsize=4)
def _covered(path: str) -> frozenset[int]:
    """The characters a TrueType font has glyphs for."""
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap() or ())


def _fixer(fonts):
    """The text mapping for the chosen font: characters it lacks become "?" (never a crash,
    nor fpdf2's warning naming the missing characters of a patient's text)."""
    if not fonts:
        return lambda text: latin1(printable(text))
    covered = _covered(str(fonts[0]))
    if fonts[1]:
        covered &= _covered(str(fonts[1]))
    if not covered:
        return lambda text: latin1(printable(text))

    def fix(text: str) -> str:
        return "".join(ch if ord(ch) in covered or ch in "\n" else _ASCII.get(ch, "?") for ch in printable(text))

    return fix


def latin1(text: str) -> str:
    """``text`` with what Latin-1 lacks replaced (for the core fonts)."""
    out = []
    for ch in text:
        if ord(ch) < 256:
            out.append(ch)
            continue
        ch = _ASCII.get(ch, ch)
        if len(ch) == 1 and ord(ch) >= 256:
            ch = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1") or "?"
        out.append(ch)
    return "".join(out)


def render(note: Note, *, speakers: bool = True, timestamps: bool = False, confidence: bool = False,
           threshold: float = LOW_CONFIDENCE, reviewed: date | None = None, font: tuple | None | bool = True,
           **_) -> bytes:
    with warnings.catch_warnings():   # the frozen app leaves Pillow out: a note has no images
        warnings.filterwarnings("ignore", message="Pillow could not be imported")
        from fpdf import FPDF

    fonts = find_font() if font is True else (font or None)
    fix = _fixer(fonts)
    footer = fix(footer_text(note, reviewed))

    class _Pdf(FPDF):
        def footer(self):
            self.set_y(-15)
            self.set_font(family, "", 8)
            self.set_text_color(90, 90, 90)
            room = self.w - self.l_margin - self.r_margin
            self.cell(room - 16, 8, footer)
            self.cell(16, 8, f"{self.page_no()}/{{nb}}", align="R")

    pdf = _Pdf(format="A4")
    family = "Helvetica"
    if fonts:
        family = "NoteSans"
        pdf.add_font(family, "", str(fonts[0]))
        pdf.add_font(family, "B", str(fonts[1] or fonts[0]))
    pdf.set_title(fix(note.title))
    pdf.set_author(fix(note.header.author_name))
    pdf.set_creator("ClinScribe")
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    pdf.set_font(family, "B", 15)
    pdf.multi_cell(width, 8, fix(note.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for label, value in header_rows(note):
        pdf.set_font(family, "B", 10)
        pdf.cell(38, 6, fix(label))
        pdf.set_font(family, "", 10)
        pdf.multi_cell(width - 38, 6, fix(value), new_x="LMARGIN", new_y="NEXT")
    if note.redacted:
        pdf.set_font(family, "", 9)
        pdf.multi_cell(width, 6, "PHI in the text has been redacted.", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    for heading, paragraphs in sections(note):
        if heading:
            pdf.set_font(family, "B", 13)
            pdf.multi_cell(width, 8, fix(heading), new_x="LMARGIN", new_y="NEXT")
        for p in paragraphs:
            pdf.set_text_color(0, 0, 0)
            if timestamps and p.start is not None:
                pdf.set_font(family, "", 11)
                pdf.write(6, f"[{clock(p.start)}] ")
            if speakers and p.speaker:
                pdf.set_font(family, "B", 11)
                pdf.write(6, fix(p.speaker) + ": ")
            pdf.set_font(family, "", 11)
            if not confidence:
                pdf.write(6, fix(p.text))
            else:
                for k, (word, conf) in enumerate(p.words):
                    low = conf is not None and conf < threshold
                    pdf.set_text_color(*(LOW_COLOUR if low else (0, 0, 0)))
                    word = fix(word)
                    if pdf.get_x() + pdf.get_string_width(word + " ") + 2 * pdf.c_margin > pdf.w - pdf.r_margin:
                        pdf.ln(6)  # a word that does not fit starts the next line (write() would cut it)
                    pdf.write(6, word + (" " if k < len(p.words) - 1 else ""))
            pdf.ln(9)
    if confidence:
        pdf.set_text_color(90, 90, 90)
        pdf.set_font(family, "", 9)
        pdf.multi_cell(width, 5, f"Words in red were recognised with a confidence under {threshold:.0%}: "
                                 "check them against the audio.", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
