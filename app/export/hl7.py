"""A note as an HL7 v2.5.1 MDM message: ``MDM^T02`` (original document notification and content),
or ``MDM^T10`` (document replacement) for a note that supersedes one already sent.

Built with ``hl7apy`` (MSH, EVN, PID, PV1, TXA, then ``OBX`` segments of type TX: the lines of each paragraph, wrapped within 199
characters, with an empty OBX between paragraphs)
and checked against the 2.5.1 message structure with hl7apy's strict validation before it is
returned. Every value goes through HL7 escaping (``| ^ ~ \\ &`` become ``\\F\\ \\S\\ \\R\\ \\E\\
\\T\\``); the message declares UTF-8 (MSH-18) so that accented names and text pass unchanged.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Field, Message
from hl7apy.exceptions import MaxLengthReached
from hl7apy.parser import parse_message
from hl7apy.v2_5_1 import TX

from . import PRESENTATION
from .note import NOTE_TYPES, Note

VERSION = "2.5.1"
SENDING_APPLICATION = "CLINSCRIBE"
# OBX-5 lines are kept within 199 characters: hl7apy's strict validation reads OBX-5 ("varies") as
# ST, whose maximum length is 199, and many receivers show TX lines as they come
LINE_WIDTH = 199
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def escape(value: str) -> str:
    """``value`` as HL7 v2 text: the escape character first (hl7apy leaves a literal ``\\F\\`` in
    text unescaped), then hl7apy's escaping of the field, component, repetition and subcomponent
    separators. Control characters and line breaks become spaces (lines are separate OBX)."""
    value = _CONTROL.sub(" ", str(value).replace("\r\n", " ").replace("\n", " "))
    return TX(value.replace("\\", "\\E\\")).to_er7()


def _ts(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.astimezone()
    return value.strftime("%Y%m%d%H%M%S%z")


def _date(value: str) -> str:
    return value.replace("-", "")[:8] if value else ""


def _name(name: str) -> str:
    """``Smith, John A`` as an XPN/XCN name: ``Smith^John^A``."""
    family, sep, given = (s.strip() for s in name.partition(","))
    if not sep:
        return escape(name)
    parts = given.split(maxsplit=1)
    return "^".join(escape(p) for p in [family, *parts])


def _wrap(text: str, width: int) -> list[str]:
    """``text`` in lines whose escaped form is at most ``width`` characters, broken between words."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        while len(escape(word)) > width:  # one very long "word": cut it
            cut = width
            while len(escape(word[:cut])) > width:
                cut -= 1
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:cut])
            word = word[cut:]
        candidate = f"{current} {word}" if current else word
        if len(escape(candidate)) > width and current:
            lines.append(current)
            candidate = word
        current = candidate
    if current:
        lines.append(current)
    return lines


def _authority(system: str) -> str:
    """The identifier's system as an HD assigning authority: an OID as ``&oid&ISO``, a URI as
    ``&uri&URI``, a short local code as the namespace."""
    if not system:
        return ""
    if system.startswith("urn:oid:"):
        return f"&{escape(system[8:])}&ISO"
    if ":" in system or len(system) > 20:
        return f"&{escape(system)}&URI"
    return escape(system)


def _lines(note: Note, width: int = LINE_WIDTH) -> list[str]:
    """The note as OBX lines: a heading when the template section changes, each paragraph's lines
    (the speaker's name first) wrapped to ``width``, and an empty line between paragraphs."""
    out: list[str] = []
    section = None
    for p in note.paragraphs:
        if p.section and p.section != section:
            out += [*([""] if out else []), *_wrap(p.section.upper() + ":", width)]
            section = p.section
        lines = [line for line in str(p.text).splitlines() if line.strip()]
        if not lines:
            continue
        if out:
            out.append("")
        for k, line in enumerate(lines):
            out += _wrap(f"{p.speaker}: {line}" if p.speaker and k == 0 else line, width)
    return out or [""]


def build(note: Note, *, replaces: str | None = None, control_id: str | None = None,
          document_id: str | None = None, sending_facility: str = "", receiving_application: str = "", receiving_facility: str = "",
          now: dt.datetime | None = None) -> Message:
    """The hl7apy message. ``replaces``: the unique document number (TXA-12) of the document this one
    replaces, which makes it an MDM^T10 with that number as TXA-13 (parent document)."""
    h = note.header
    now = now or dt.datetime.now(dt.timezone.utc)
    event = "T10" if replaces else "T02"
    control_id = control_id or uuid.uuid4().hex[:20]
    document_id = document_id or uuid.uuid4().hex
    msg = Message("MDM_T02", version=VERSION, validation_level=VALIDATION_LEVEL.TOLERANT)
    msh = msg.msh
    msh.msh_3 = SENDING_APPLICATION
    if sending_facility:  # a code the interface engine knows (at most 20 characters), not a name
        msh.msh_4 = escape(sending_facility)
    if receiving_application:
        msh.msh_5 = escape(receiving_application)
    if receiving_facility:
        msh.msh_6 = escape(receiving_facility)
    msh.msh_7 = _ts(now)
    msh.msh_9 = f"MDM^{event}^MDM_T02"
    msh.msh_10 = escape(control_id)
    msh.msh_11 = "P"
    msh.msh_12 = VERSION
    msh.msh_15 = "AL"   # accept acknowledgment: always
    msh.msh_16 = "NE"   # application acknowledgment: never (the accept ACK is the answer)
    msh.msh_18 = "UNICODE UTF-8"

    msg.evn.evn_1 = event
    msg.evn.evn_2 = _ts(now)

    pid = msg.pid
    pid.pid_1 = "1"
    if h.patient_id:
        pid.pid_3 = f"{escape(h.patient_id)}^^^{_authority(h.patient_id_system)}^MR"
    if h.patient_name:
        pid.pid_5 = _name(h.patient_name)
    if h.patient_birth_date:
        pid.pid_7 = _date(h.patient_birth_date)

    pv1 = msg.pv1
    pv1.pv1_1 = "1"
    pv1.pv1_2 = "U"  # patient class unknown (table 0004): the note does not say
    if h.encounter_id:
        pv1.pv1_19 = escape(h.encounter_id)

    code = h.note_type or "11506-3"
    title = NOTE_TYPES.get(code, note.title)
    txa = msg.txa
    txa.txa_1 = "1"
    txa.txa_2 = escape(code)
    txa.txa_3 = "TX"
    txa.txa_4 = _ts(note.created)
    if h.service_date:
        txa.txa_6 = _date(h.service_date)
    if h.author_id or h.author_name:
        txa.txa_9 = f"{escape(h.author_id)}^{_name(h.author_name) if h.author_name else ''}".rstrip("^")
    txa.txa_12 = escape(document_id)
    if replaces:
        txa.txa_13 = escape(replaces)
    final = h.status != "preliminary"
    txa.txa_17 = "AU" if final else "DO"  # authenticated / documented (table 0271)
    txa.txa_19 = "AV"                      # available for patient care (table 0273)

    for i, line in enumerate(_lines(note), start=1):
        obx = msg.add_group("MDM_T02_OBXNTE_SUPPGRP").obx
        obx.obx_1 = str(i)
        obx.obx_2 = "TX"
        obx.obx_3 = f"{escape(code)}^{escape(title)}^LN"
        value = Field("OBX_5", datatype="TX", version=VERSION, validation_level=VALIDATION_LEVEL.TOLERANT)
        value.value = escape(line)
        obx.add(value)
        obx.obx_11 = "F" if final else "P"
    return msg


def validate(er7: str) -> None:
    """Raise ValueError unless ``er7`` is a valid 2.5.1 message by hl7apy's strict validation."""
    try:
        parse_message(er7, validation_level=VALIDATION_LEVEL.STRICT, force_validation=True)
    except MaxLengthReached as exc:  # its message quotes the value: it may be PHI, so not shown
        raise ValueError(f"not a valid HL7 v{VERSION} message: a value is longer than the {exc.limit} "
                         "characters its field allows (e.g. a facility code over 20)") from None
    except Exception as exc:  # hl7apy raises several unrelated exception types
        raise ValueError(f"not a valid HL7 v{VERSION} message: {type(exc).__name__}: {exc}") from None


def render(note: Note, *, replaces: str | None = None, control_id: str | None = None, **options) -> str:
    """The MDM message as ER7 text: each segment ends with a carriage return (HL7's segment
    terminator, the last one included)."""
    options = {k: v for k, v in options.items() if k not in PRESENTATION}  # what a document layout takes
    er7 = build(note, replaces=replaces, control_id=control_id, **options).to_er7()
    validate(er7)
    return er7 + "\r"
