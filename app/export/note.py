"""A note: the edited transcript of one job plus its header, as every exporter reads it (Qt-free).

The *header* (patient, encounter, author, organisation, note type, date of service) is kept
with the job, next to its edits file (``<home>/edits/<engine>/<job>.header.json``), owner-only,
sealed like the edits when the job's transcript is encrypted. A :class:`Note` is built from a
:class:`~app.core.document.TranscriptDocument`: one :class:`Paragraph` per turn, with the
user's text edits, chosen alternatives and speaker names, redacted on request with the
editor's own redaction (``[PHI-Personal]``).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from pathlib import Path

from ..core.document import TranscriptDocument, default_name, edits_path, join_tokens
from ..core.privacy import private_folder, write_private

# LOINC document codes (LOINC's display names) -> the note types a user picks from
NOTE_TYPES: dict[str, str] = {
    "11506-3": "Progress note",
    "34117-2": "History and physical note",
    "11488-4": "Consult note",
    "18842-5": "Discharge summary",
    "28570-0": "Procedure note",
}
DEFAULT_NOTE_TYPE = "11506-3"
STATUSES = ("final", "preliminary")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def printable(text: str) -> str:
    """``text`` without control characters (which XML, and so a .docx, cannot hold)."""
    return _CONTROL.sub("", text)


def parse_when(text: str) -> datetime | None:
    """An ISO date or date-time (``2026-12-02``, ``2026-12-02T14:05``, ``...Z``), else None."""
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None


@dataclass
class NoteHeader:
    patient_id: str = ""          # MRN / identifier value
    patient_id_system: str = ""   # identifier system URI (optional)
    patient_name: str = ""        # as the user typed it, e.g. "Smith, John"
    patient_birth_date: str = ""  # YYYY-MM-DD or ""
    encounter_id: str = ""
    author_name: str = ""
    author_id: str = ""           # e.g. NPI
    organization: str = ""
    note_type: str = DEFAULT_NOTE_TYPE  # LOINC code, key of NOTE_TYPES
    service_date: str = ""        # ISO date/datetime; "" = the job's creation time
    status: str = "final"         # "final" | "preliminary"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "NoteHeader":
        known = {f.name for f in fields(cls)}
        return cls(**{k: ("" if v is None else str(v)) for k, v in (d or {}).items() if k in known})

    @property
    def note_type_display(self) -> str:
        return NOTE_TYPES.get(self.note_type, self.note_type)

    def problems(self) -> list[str]:
        """What is wrong with the header, in sentences a user can act on (empty when it is fine)."""
        out: list[str] = []
        birth = None
        if self.patient_birth_date:
            if not _DATE.match(self.patient_birth_date):
                out.append(f"The date of birth '{self.patient_birth_date}' is not a date like 1961-04-23.")
            else:
                try:
                    birth = date.fromisoformat(self.patient_birth_date)
                except ValueError:
                    out.append(f"The date of birth '{self.patient_birth_date}' is not a real date.")
            if birth and birth > date.today():
                out.append("The date of birth is in the future.")
        if self.note_type not in NOTE_TYPES:
            known = ", ".join(f"{code} ({name})" for code, name in NOTE_TYPES.items())
            out.append(f"The note type '{self.note_type}' is not one of {known}.")
        if self.status not in STATUSES:
            out.append(f"The status '{self.status}' must be final or preliminary.")
        when = None
        if self.service_date:
            when = parse_when(self.service_date)
            if when is None:
                out.append(f"The date of service '{self.service_date}' is not a date like 2026-12-02 "
                           "or 2026-12-02T14:05.")
        if birth and when and when.date() < birth:
            out.append("The date of service is before the date of birth.")
        if self.patient_id_system and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", self.patient_id_system):
            out.append(f"The identifier system '{self.patient_id_system}' is not a URI "
                       "(e.g. urn:oid:1.2.3 or https://clinic.example/mrn).")
        return out


def header_path(home: Path, engine: str, job_name: str) -> Path:
    return edits_path(home, engine, job_name).with_name(f"{job_name}.header.json")


def _settings_defaults(home: Path, settings: dict | None) -> dict:
    if settings is None:
        from ..core.config import Settings, SettingsError

        try:
            settings = asdict(Settings.load(Path(home)))
        except SettingsError:
            settings = {}
    return {"author_name": settings.get("note_author") or "", "author_id": settings.get("note_author_id") or "",
            "organization": settings.get("note_organization") or ""}


def load_header(home: Path, engine: str, job_name: str, settings: dict | None = None, *,
                sealer=None) -> NoteHeader:
    """The job's saved header; else a new one with the author and organisation from Settings
    (``note_author``, ``note_author_id``, ``note_organization``) and a Progress note type.
    ``sealer`` opens a header sealed with the job's key (see TranscriptDocument)."""
    path = header_path(home, engine, job_name)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return NoteHeader(**_settings_defaults(home, settings))
    from ..core.document import is_sealed_bytes, sealer_for

    if is_sealed_bytes(raw):   # the job's key, or the local key for data at rest: the envelope names it
        if sealer is None or (hasattr(sealer, "owns") and not sealer.owns(raw)):
            sealer = sealer_for(raw, home, sealer)
        raw = sealer.unseal(raw)
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError:
        raise ValueError(f"The note header of {job_name} ({path}) is damaged; fix it or delete it.") from None
    return NoteHeader.from_dict(data if isinstance(data, dict) else {})


def save_header(home: Path, engine: str, job_name: str, header: NoteHeader, *, sealer=None) -> None:
    """Written atomically (temporary file, fsync, rename), owner-only; sealed when ``sealer``."""
    path = header_path(home, engine, job_name)
    private_folder(path.parent)
    body = json.dumps(header.to_dict(), ensure_ascii=False, indent=1).encode("utf-8")
    if sealer is not None:
        body = sealer.seal(body)
    write_private(path, body)


@dataclass
class Paragraph:
    speaker: str            # display name (renamed speakers honoured), "" when no speakers/channels
    text: str               # the edited text of one turn (redacted when the note is)
    start: float | None
    end: float | None
    section: str | None = None   # template heading this paragraph belongs to
    # (word, confidence): each word with the punctuation that follows it; " ".join(words) == text.
    # confidence None: typed by the user, or a [PHI-…] placeholder
    words: list[tuple[str, float | None]] = field(default_factory=list)
    times: list[tuple[float | None, float | None]] = field(default_factory=list)  # (start, end) per word


@dataclass
class Note:
    header: NoteHeader
    job_name: str
    engine: str
    paragraphs: list[Paragraph]
    redacted: bool
    created: datetime
    title: str

    @property
    def service_date(self) -> datetime:
        """The date of service: the header's, else the job's creation time."""
        return parse_when(self.header.service_date) or self.created


def _chunks(tokens: list[dict]) -> tuple[list[tuple[str, float | None]], list[tuple[float | None, float | None]]]:
    words: list[tuple[str, float | None]] = []
    times: list[tuple[float | None, float | None]] = []
    glue = False  # after an opening bracket: the word is glued to it and keeps its confidence and time
    for tok in tokens:
        opens = tok["type"] == "punctuation" and tok["content"] == "("
        if glue and words:
            words[-1] = (words[-1][0] + tok["content"], tok.get("confidence"))
            times[-1] = (tok.get("start"), tok.get("end"))
        elif tok["type"] == "punctuation" and not opens and words:
            words[-1] = (words[-1][0] + tok["content"], words[-1][1])
        else:
            words.append((tok["content"], tok.get("confidence")))
            times.append((tok.get("start"), tok.get("end")))
        glue = opens
    return words, times


def build_note(doc: TranscriptDocument, header: NoteHeader, *, redact: bool = False, redact_header: bool = False,
               created: datetime | None = None) -> Note:
    """The note of ``doc`` as edited; ``redact`` hides PHI in the text (and a speaker name made of
    PHI words, which falls back to "Speaker 2"), ``redact_header`` the patient's name, identifier
    and date of birth in the header."""
    header = NoteHeader.from_dict(header.to_dict())  # the caller's header is not changed
    if redact_header:
        header.patient_name = header.patient_id = header.patient_id_system = header.patient_birth_date = ""
    named = any(turn["label"] for turn in doc.turns)
    # a speaker the user named after a word of the PHI (the patient's name) is not named in a redacted note
    phi_words = {w.lower() for e in doc.entities for w in re.findall(r"\w{3,}", e.get("content") or "")}

    def speaker(label: str) -> str:
        name = doc.speaker_name(label)
        if redact and {w.lower() for w in re.findall(r"\w{3,}", name)} & phi_words:
            return default_name(label)
        return name

    paragraphs = []
    for i, turn in enumerate(doc.turns):
        tokens = doc.redacted_tokens(i) if redact else turn["tokens"]
        words, times = _chunks(tokens)
        start, end = doc.turn_span(i)
        text = join_tokens(tokens)
        if turn.get("bullet"):  # a dictated "bullet": the paragraph is a list item
            text, words, times = f"• {text}", [("•", None), *words], [(None, None), *times]
        paragraphs.append(Paragraph(speaker=speaker(turn["label"]) if named else "", text=text, start=start,
                                    end=end, section=turn.get("section"), words=words, times=times))
    created = created or datetime.now().astimezone()
    note = Note(header=header, job_name=doc.job_name, engine=doc.engine, paragraphs=paragraphs, redacted=redact,
                created=created, title="")
    note.title = f"{header.note_type_display} — {note.service_date.date().isoformat()}"
    return note


def clock(seconds: float | None) -> str:
    """``01:02:03`` (hours, minutes, seconds) for a paragraph's start."""
    s = int(seconds or 0)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def paragraph_line(p: Paragraph, *, speakers: bool = True, timestamps: bool = False) -> str:
    prefix = f"[{clock(p.start)}] " if timestamps and p.start is not None else ""
    who = f"{p.speaker}: " if speakers and p.speaker else ""
    return f"{prefix}{who}{p.text}"


def sections(note: Note):
    """(section heading or None, its paragraphs) in order."""
    out: list[tuple[str | None, list[Paragraph]]] = []
    for p in note.paragraphs:
        if not out or out[-1][0] != p.section:
            out.append((p.section, []))
        out[-1][1].append(p)
    return out


def note_text(note: Note, *, speakers: bool = True, timestamps: bool = False) -> str:
    """One paragraph per turn, a blank line between, ``Speaker: text``, headings for sections."""
    blocks: list[str] = []
    for heading, paragraphs in sections(note):
        if heading:
            blocks.append(heading)
        blocks.extend(paragraph_line(p, speakers=speakers, timestamps=timestamps) for p in paragraphs)
    return "\n\n".join(blocks)


def header_rows(note: Note) -> list[tuple[str, str]]:
    """The header block of a document note: (label, value), the empty ones left out."""
    h = note.header
    rows = [("Patient", h.patient_name), ("Date of birth", h.patient_birth_date), ("MRN", h.patient_id),
            ("Encounter", h.encounter_id), ("Author", h.author_name + (f" ({h.author_id})" if h.author_id else "")),
            ("Organization", h.organization), ("Date of service", note.service_date.strftime("%Y-%m-%d %H:%M")
                                                if h.service_date[10:] or not h.service_date
                                                else h.service_date),
            ("Note type", h.note_type_display), ("Status", "" if h.status == "final" else h.status)]
    return [(k, v) for k, v in rows if v.strip()]


def footer_text(note: Note, reviewed: date | None = None) -> str:
    day = (reviewed or date.today()).isoformat()
    who = note.header.author_name.strip()
    return (f"Transcribed by ClinScribe from audio, reviewed by {who} on {day}" if who
            else f"Transcribed by ClinScribe from audio, reviewed on {day}")
