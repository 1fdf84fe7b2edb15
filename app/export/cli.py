"""``clinscribe export`` and ``clinscribe note-header`` (registered by app.cli's parser)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from . import FORMATS, ExportUnavailable, renderer
from ..core.privacy import write_private
from .note import NOTE_TYPES, build_note, load_header, save_header

# note-header options -> NoteHeader fields
_HEADER_OPTIONS = (("--patient-name", "patient_name", "as it should appear, e.g. 'Smith, John'"),
                   ("--mrn", "patient_id", "the patient's identifier (MRN)"),
                   ("--mrn-system", "patient_id_system", "the identifier's system URI (optional)"),
                   ("--birth-date", "patient_birth_date", "YYYY-MM-DD"),
                   ("--encounter", "encounter_id", "the encounter (visit) identifier"),
                   ("--author", "author_name", "the reviewing clinician"),
                   ("--author-id", "author_id", "the author's identifier, e.g. an NPI"),
                   ("--organization", "organization", "the clinic or hospital"),
                   ("--note-type", "note_type", "a LOINC code or name: " + ", ".join(
                       f"{c} {n}" for c, n in NOTE_TYPES.items())),
                   ("--service-date", "service_date", "ISO date or date-time (default: the job's creation time)"),
                   ("--status", "status", "final or preliminary"))


def register(sub) -> None:
    from ..cli import _engine_options

    p = sub.add_parser("export", help="export a job's edited transcript: text, html, docx, pdf, srt, vtt, "
                                      "aws-json, fhir, hl7")
    _engine_options(p)
    p.add_argument("--medical-transcription-job-name", required=True)
    p.add_argument("--format", required=True, choices=list(FORMATS))
    p.add_argument("--redact", action="store_true", help="replace each PHI entity by its category ([PHI-Personal])")
    p.add_argument("--redact-header", action="store_true", help="leave the patient's name, MRN and birth date out")
    p.add_argument("--timestamps", action="store_true", help="start time of each paragraph (text, html, docx, pdf)")
    p.add_argument("--no-speakers", action="store_true", help="no speaker names")
    p.add_argument("--confidence", action="store_true", help="colour low-confidence words (docx, pdf)")
    p.add_argument("--output", help="file to write (default: standard output, for text formats)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("note-header", help="show or change a job's note header (patient, author, note type...)")
    _engine_options(p)
    p.add_argument("--medical-transcription-job-name", required=True)
    for option, _field, help_text in _HEADER_OPTIONS:
        p.add_argument(option, help=help_text)
    p.add_argument("--save-as-default", action="store_true",
                   help="also keep the author, author id and organization as the defaults of new notes")
    p.set_defaults(func=cmd_note_header)


def _usage(message: str):
    from ..cli import UsageError

    return UsageError(message)


def open_job(args):
    """(engine name, TranscriptDocument with the user's edits, the job's creation time, sealer)."""
    from ..cli import _engine
    from ..core.config import home
    from ..core.document import TranscriptDocument

    engine = _engine(args)
    name = args.medical_transcription_job_name
    job = engine.get_medical_transcription_job(MedicalTranscriptionJobName=name)["MedicalTranscriptionJob"]
    if job.get("TranscriptionJobStatus") != "COMPLETED":
        raise _usage(f"The job {name} is {job.get('TranscriptionJobStatus')}: it has no transcript to export yet.")
    created = job.get("CreationTime")
    created = created.astimezone() if isinstance(created, datetime) else None
    protection = engine.encryption(name)
    sealer = None
    if protection:
        from ..store.kms import LocalKms, Sealer

        sealer = Sealer(LocalKms(home()), *protection)
    doc = TranscriptDocument.open(engine.get_transcript(name), home(), engine.name, name, sealer=sealer)
    return engine.name, doc, created, sealer


def cmd_export(args) -> int:
    from ..core.config import home

    fmt = FORMATS[args.format]
    if fmt.binary and not args.output:
        raise _usage(f"The {args.format} format is binary: give --output FILE.")
    try:
        render = renderer(args.format)
    except ExportUnavailable as exc:
        raise _usage(str(exc)) from None
    output = Path(args.output).expanduser() if args.output else None
    if output is not None and (output.is_dir() or not output.parent.is_dir()):
        raise _usage(f"Cannot write {output}: " + ("it is a folder." if output.is_dir() else "no such folder."))
    engine, doc, created, sealer = open_job(args)
    header = load_header(home(), engine, doc.job_name, sealer=sealer)
    problems = header.problems()
    if problems:
        raise _usage(f"The note header of {doc.job_name} needs fixing (clinscribe note-header): {problems[0]}")
    note = build_note(doc, header, redact=args.redact, redact_header=args.redact_header, created=created)
    body = render(note, document=doc, speakers=not args.no_speakers, timestamps=args.timestamps,
                  confidence=args.confidence)
    data = body if isinstance(body, bytes) else body.encode("utf-8")
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_private(output, data)
        print(f"Wrote {output} ({fmt.label or args.format}, {len(data)} bytes).", file=sys.stderr)
    return 0


def _note_type(value: str) -> str:
    if value in NOTE_TYPES:
        return value
    by_name = {n.lower(): c for c, n in NOTE_TYPES.items()}
    code = by_name.get(value.strip().lower()) or by_name.get(value.strip().lower() + " note")
    return code or value  # unknown: problems() says so


def cmd_note_header(args) -> int:
    from ..core.config import Settings, home

    engine, doc, _created, sealer = open_job(args)
    header = load_header(home(), engine, doc.job_name, sealer=sealer)
    changed = False
    for option, field_name, _help in _HEADER_OPTIONS:
        value = getattr(args, option[2:].replace("-", "_"))
        if value is not None:
            value = value.strip()
            if field_name == "note_type":
                value = _note_type(value)
            elif field_name == "status":
                value = value.lower()
            setattr(header, field_name, value)
            changed = True
    problems = header.problems()
    if changed and problems:
        raise _usage(" ".join(problems))
    if changed:
        save_header(home(), engine, doc.job_name, header, sealer=sealer)
    if args.save_as_default:
        settings = Settings.load()
        settings.note_author, settings.note_author_id = header.author_name, header.author_id
        settings.note_organization = header.organization
        settings.save()
    out = {"MedicalTranscriptionJobName": doc.job_name, "NoteHeader": header.to_dict(),
           "NoteType": NOTE_TYPES.get(header.note_type, ""), "Problems": problems}
    print(json.dumps(out, indent=4, ensure_ascii=False))
    return 0

