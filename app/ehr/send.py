"""Sending a job's reviewed note: build it, keep it in the outbox, deliver it, record the answer.

``load_note`` is the one place that turns a job into a Note (the job's transcript with the user's
edits, and its header); everything else works on Notes and outbox rows.
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

from ..core.config import Settings, home as default_home
from ..export import fhir, hl7 as hl7_export
from ..export.note import Note, build_note, load_header
from .base import SendError
from .fhir_client import FhirClient
from .mllp_client import MllpClient
from .outbox import FAILED, SENT, Outbox, SendRow

TOKEN_SECRET = "fhir_bearer_token"  # the OS keyring item ehr-login writes
SEALED = "sealed:"
KINDS = ("fhir", "hl7")


def load_note(job_name: str, engine_name: str | None = None, *, redact: bool = False,
              base: Path | None = None) -> Note:
    """The job's note: its transcript with the saved edits (as the editor opens it) and its header."""
    from ..core.document import TranscriptDocument
    from ..engine import create_engine
    from ..store.kms import LocalKms, Sealer

    root = base or default_home()
    engine = create_engine(engine_name)
    transcript = engine.get_transcript(job_name)
    protection = engine.encryption(job_name)
    sealer = Sealer(LocalKms(root), *protection) if protection else None
    doc = TranscriptDocument.open(transcript, root, engine.name, job_name, sealer=sealer)
    header = load_header(root, engine.name, job_name, sealer=sealer)
    return build_note(doc, header, redact=redact, created=_created(engine, job_name))


def _created(engine, job_name: str):
    """The job's creation time (the note's default date of service)."""
    try:
        value = engine.get_medical_transcription_job(MedicalTranscriptionJobName=job_name)[
            "MedicalTranscriptionJob"].get("CreationTime")
    except Exception:  # noqa: BLE001 - a note still goes out dated now
        return None
    return value.astimezone() if hasattr(value, "astimezone") else None


def job_protection(job_name: str, engine_name: str | None = None) -> tuple[str, dict] | None:
    """``(local KMS key id, context)`` protecting the job's transcript: its outbox payloads are sealed too."""
    from ..engine import create_engine

    return create_engine(engine_name).encryption(job_name)


def _sealer(base: Path, protection: tuple[str, dict]):
    from ..store.kms import LocalKms, Sealer

    return Sealer(LocalKms(base), protection[0], protection[1])


def payload_of(outbox: Outbox, row: SendRow) -> str:
    """The payload as it is sent (unsealed when the outbox keeps it sealed)."""
    if not row.payload.startswith(SEALED):
        return row.payload
    key_id, context = json.loads(row.protection)
    sealed = base64.b64decode(row.payload[len(SEALED):])
    return _sealer(outbox.path.parent, (key_id, context)).unseal(sealed).decode("utf-8")


def destination(kind: str, settings: Settings) -> str:
    if kind == "fhir":
        if not settings.fhir_base_url:
            raise ValueError("No FHIR server is set: clinscribe settings --fhir-base-url URL")
        return settings.fhir_base_url.rstrip("/")
    if not settings.mllp_host:
        raise ValueError("No interface engine is set: clinscribe settings --mllp-host HOST --mllp-port PORT")
    return f"{settings.mllp_host}:{settings.mllp_port}"


def client_for(row: SendRow, settings: Settings):
    """A client for the row's own destination (where it was queued for), with today's credentials."""
    if row.kind == "fhir":
        token = None
        if settings.fhir_auth == "smart":
            from ..store.credentials import get_secret
            from .smart import KEY_SECRET, SmartAuth
            pem = get_secret(KEY_SECRET)
            if not pem:
                raise SendError("No SMART key is stored: run 'clinscribe ehr-smart-key'.", retryable=False)
            return FhirClient(row.destination, auth=SmartAuth(row.destination, settings.fhir_client_id, pem,
                                                              token_url=settings.fhir_token_url))
        if settings.fhir_auth == "bearer":
            from ..store.credentials import get_secret
            token = get_secret(TOKEN_SECRET)
            if not token:
                raise SendError("No FHIR token is stored: run 'clinscribe ehr-login'.", retryable=False)
        return FhirClient(row.destination, token=token)
    host, _, port = row.destination.rpartition(":")
    tls = settings.mllp_tls and host == settings.mllp_host
    return MllpClient(host, int(port), tls=tls)


def queue_note(outbox: Outbox, note: Note, kind: str, settings: Settings, *, bundle: bool = False,
               protection: tuple[str, dict] | None = None) -> SendRow:
    """Build the payload (superseding what this job last sent there) and keep it in the outbox."""
    if kind not in KINDS:
        raise ValueError(f"Unknown destination '{kind}': use fhir or hl7")
    if not note.header.patient_id:
        raise ValueError("The note has no patient identifier (MRN): fill in the note header before sending "
                         "it to the EHR.")
    where = destination(kind, settings)
    previous = outbox.latest_sent(note.job_name, note.engine, kind)
    replaces = previous.server_id if previous and previous.server_id else None
    if kind == "fhir":
        document_id = f"urn:uuid:{uuid.uuid4()}"
        payload = fhir.render(note, bundle=bundle, replaces=replaces, identifier=document_id)
    else:
        document_id = uuid.uuid4().hex
        payload = hl7_export.render(note, replaces=replaces, control_id=uuid.uuid4().hex[:20],
                                    document_id=document_id)
    kept = None
    if protection:
        sealed = _sealer(outbox.path.parent, protection).seal(payload.encode("utf-8"))
        payload, kept = SEALED + base64.b64encode(sealed).decode("ascii"), json.dumps(list(protection))
    return outbox.queue(job_name=note.job_name, engine=note.engine, kind=kind, destination=where,
                        payload=payload, document_id=document_id, replaces=replaces,
                        options="bundle" if bundle else "", protection=kept)


def deliver(outbox: Outbox, row: SendRow, client) -> SendRow:
    """One send of a queued row; the outcome is written to the outbox whatever happens."""
    try:
        payload = payload_of(outbox, row)
        if row.kind == "fhir" and row.options == "bundle":
            result = client.post_bundle(payload)
        elif row.kind == "fhir":
            result = client.post_document(payload, identifier=row.document_id)
        else:
            result = client.send(payload)
            result.server_id = row.document_id  # HL7: the document is known by its TXA-12 number
    except SendError as exc:
        # a refusal (401, 422, AE) is not retried by itself: only when the user asks (outbox retry --all)
        outbox.mark_failed(row.id, str(exc), attempts=getattr(exc, "attempts", 1), retry=exc.retryable)
        return outbox.get(row.id)
    except Exception as exc:  # never leave a row without its reason (no payload in the message)
        outbox.mark_failed(row.id, f"{type(exc).__name__}: {exc}")
        return outbox.get(row.id)
    outbox.mark_sent(row.id, server_id=result.server_id, location=result.location, attempts=result.attempts)
    return outbox.get(row.id)


def send_note(note: Note, kind: str, *, bundle: bool = False, settings: Settings | None = None,
              base: Path | None = None, client=None, protection: tuple[str, dict] | None = None) -> SendRow:
    settings = settings or Settings.load(base)
    outbox = Outbox.open(base or default_home())
    row = queue_note(outbox, note, kind, settings, bundle=bundle, protection=protection)
    try:
        client = client or client_for(row, settings)
    except (SendError, ValueError) as exc:
        outbox.mark_failed(row.id, str(exc))
        return outbox.get(row.id)
    return deliver(outbox, row, client)


def retry(*, settings: Settings | None = None, base: Path | None = None, due_only: bool = True,
          clients: dict | None = None) -> list[SendRow]:
    """Send again what is due (or, with ``due_only=False``, everything failed or queued)."""
    settings = settings or Settings.load(base)
    outbox = Outbox.open(base or default_home())
    rows = outbox.retry_due() if due_only else [r for r in outbox.list(limit=1000)
                                                 if r.status in (FAILED, "queued")][::-1]
    done = []
    for row in rows:
        try:
            client = (clients or {}).get(row.kind) or client_for(row, settings)
        except (SendError, ValueError) as exc:
            outbox.mark_failed(row.id, str(exc))
            done.append(outbox.get(row.id))
            continue
        done.append(deliver(outbox, row, client))
    return done


__all__ = ["load_note", "send_note", "retry", "queue_note", "deliver", "SENT", "FAILED"]
