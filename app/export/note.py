"""STAND-IN (branch ehrsend): the minimal interface of the real app/export/note.py, written by the
export branch; replaced at merge. Only what fhir.py, hl7.py and the sender need."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

NOTE_TYPES: dict[str, str] = {
    "11506-3": "Progress note",
    "34117-2": "History and physical note",
    "11488-4": "Consult note",
    "18842-5": "Discharge summary",
    "28570-0": "Procedure note",
}


@dataclass
class NoteHeader:
    patient_id: str = ""
    patient_id_system: str = ""
    patient_name: str = ""          # "Smith, John"
    patient_birth_date: str = ""    # YYYY-MM-DD
    encounter_id: str = ""
    author_name: str = ""
    author_id: str = ""             # NPI
    organization: str = ""
    note_type: str = "11506-3"
    service_date: str = ""
    status: str = "final"           # | "preliminary"


@dataclass
class Paragraph:
    speaker: str
    text: str
    start: float | None
    end: float | None
    section: str | None = None
    words: list[tuple[str, float | None]] = field(default_factory=list)


@dataclass
class Note:
    header: NoteHeader
    job_name: str
    engine: str
    paragraphs: list[Paragraph]
    redacted: bool
    created: dt.datetime
    title: str


def build_note(doc, header: NoteHeader, *, redact: bool = False, redact_header: bool = False,
               created: dt.datetime | None = None) -> Note:
    paragraphs = []
    for i, turn in enumerate(doc.turns):
        start, end = doc.turn_span(i)
        text = doc.redacted_text(i) if redact else doc.turn_text(i)
        paragraphs.append(Paragraph(doc.speaker_name(turn["label"]), text, start, end))
    title = NOTE_TYPES.get(header.note_type, "Clinical note")
    return Note(header, doc.job_name, doc.engine, paragraphs, redact,
                created or dt.datetime.now(dt.timezone.utc), title)


def note_text(note: Note, *, speakers: bool = True, timestamps: bool = False) -> str:
    out = []
    for p in note.paragraphs:
        stamp = f"[{p.start:.1f}] " if timestamps and p.start is not None else ""
        out.append(f"{stamp}{p.speaker}: {p.text}" if speakers and p.speaker else f"{stamp}{p.text}")
    return "\n\n".join(out)
