"""FHIR R4 export of real AWS transcripts: built with fhir.resources, read back by it, and accepted
by a real FHIR server's R4 validation (medplum), which rejects what is not valid."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.documentreference import DocumentReference

from app.ehr.base import SendError
from app.ehr.fhir_client import FhirClient
from app.export import fhir
from app.export.note import note_text
from ehrdata import sample_note


def test_document_reference_is_us_core_shaped(aws_note):
    data = json.loads(fhir.render(aws_note, replaces="DocumentReference/prev-1"))
    DocumentReference.model_validate(data)  # the library reads its own output back
    assert data["status"] == "current" and data["docStatus"] == "final"
    assert data["type"]["coding"][0] == {"system": "http://loinc.org", "code": "11506-3", "display": "Progress note"}
    cat = data["category"][0]["coding"][0]
    assert (cat["system"], cat["code"]) == (
        "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category", "clinical-note")
    assert data["subject"]["identifier"] == {"system": "urn:oid:2.16.840.1.113883.3.7418.2.1", "value": "MRN-004211"}
    assert data["author"][0]["identifier"] == {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}
    assert data["context"]["encounter"][0]["identifier"]["value"] == "ENC-88120"
    assert data["date"].startswith("2026-12-02T14:02:00")
    att = data["content"][0]["attachment"]
    raw = base64.b64decode(att["data"])
    assert raw.decode("utf-8") == note_text(aws_note) and att["size"] == len(raw)
    assert base64.b64decode(att["hash"]) == hashlib.sha1(raw).digest()
    assert att["contentType"] == "text/plain" and att["title"] == aws_note.title and att["creation"]
    assert data["relatesTo"] == [{"code": "replaces", "target": {"reference": "DocumentReference/prev-1"}}]
    # the edited transcript's words are what is sent
    assert aws_note.paragraphs and all(p.text in raw.decode("utf-8") for p in aws_note.paragraphs)


def test_preliminary_pdf_and_redaction():
    note = sample_note(status="preliminary")
    pdf = b"%PDF-1.4\n% a stand-in body is enough for the attachment\n%%EOF\n"
    data = json.loads(fhir.render(note, attachment="application/pdf", pdf_bytes=pdf))
    assert data["docStatus"] == "preliminary"
    att = data["content"][0]["attachment"]
    assert att["contentType"] == "application/pdf" and base64.b64decode(att["data"]) == pdf
    with pytest.raises(ValueError):
        fhir.render(note, attachment="application/pdf")
    with pytest.raises(ValueError):
        fhir.render(note, attachment="text/html")


def test_bundle_holds_patient_composition_and_document(aws_note):
    data = json.loads(fhir.render(aws_note, bundle=True))
    Bundle.model_validate(data)
    kinds = [e["resource"]["resourceType"] for e in data["entry"]]
    assert kinds == ["Patient", "Composition", "DocumentReference"]
    patient_url = data["entry"][0]["fullUrl"]
    assert data["entry"][2]["resource"]["subject"]["reference"] == patient_url
    assert data["entry"][0]["request"]["ifNoneExist"].startswith("identifier=urn:oid:")
    patient = data["entry"][0]["resource"]
    assert patient["name"][0]["family"] == "Garcia-O'Neil" and patient["birthDate"] == "1961-07-14"
    div = data["entry"][1]["resource"]["section"][0]["text"]["div"]
    assert div.startswith('<div xmlns="http://www.w3.org/1999/xhtml">')


def test_the_real_server_accepts_each_note_and_rejects_an_invalid_one(fhir_server, aws_note):
    client = FhirClient(fhir_server.url, retries=0)
    ident = f"urn:uuid:{uuid.uuid4()}"
    sent = client.post_document(fhir.render(aws_note, identifier=ident), identifier=ident)
    assert sent.server_id.startswith("DocumentReference/")
    stored = fhir_server.get(sent.server_id)
    assert stored["content"][0]["attachment"]["hash"] == json.loads(fhir.render(aws_note))["content"][0]["attachment"]["hash"]
    bundle = client.post_bundle(fhir.render(aws_note, bundle=True))
    assert bundle.server_id.startswith("DocumentReference/")
    # the server is no mock that accepts anything: R4 validation refuses a wrong document
    bad = json.loads(fhir.render(aws_note))
    bad["status"] = "bogus"
    bad["extra"] = 1
    with pytest.raises(SendError) as err:
        client.post_document(json.dumps(bad))
    assert err.value.status == 422 and not err.value.retryable
    assert 'Invalid additional property "extra"' in str(err.value) and "DocumentReference" in str(err.value)
