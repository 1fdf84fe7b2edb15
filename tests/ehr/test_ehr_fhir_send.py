"""Sending to the real FHIR server through a fault-injecting proxy: retries, the server's words on a
refusal, and the outbox keeping what failed until a later retry delivers it — exactly once."""

from __future__ import annotations

import json
import logging

import pytest

from app.ehr import send
from app.ehr.base import SendError
from app.ehr.fhir_client import FhirClient
from app.ehr.outbox import FAILED, QUEUED, SENT, STALE_QUEUED, SUPERSEDED, Outbox
from ehrdata import HEADER, sample_note, settings_for

URI = "urn:ietf:rfc:3986"


def stored(fhir_server, row) -> list[dict]:
    """The DocumentReferences on the server carrying this send's identifier."""
    return fhir_server.search("DocumentReference", identifier=f"{URI}|{row.document_id}")


def fast_client(proxy, **kw):
    waits = []
    client = FhirClient(proxy.url, sleep=waits.append, **kw)
    client.waits = waits
    return client


def test_503_then_ok_is_retried_and_arrives_once(ehr_home, proxy, fhir_server):
    settings = settings_for(ehr_home, fhir_base_url=proxy.url)
    proxy.faults = [503, 503]
    client = fast_client(proxy)
    row = send.send_note(sample_note(), "fhir", settings=settings, base=ehr_home, client=client)
    assert row.status == SENT and row.attempts == 3 and proxy.posts() == 3
    assert client.waits == [0.0, 0.0]  # Retry-After: 0 was honoured
    assert row.server_id.startswith("DocumentReference/")
    [doc] = stored(fhir_server, row)
    assert f"DocumentReference/{doc['id']}" == row.server_id
    assert Outbox.open(ehr_home).status_line(row.job_name, "aws").startswith("sent to EHR ")


def test_a_lost_answer_is_retried_without_a_duplicate(ehr_home, proxy, fhir_server):
    settings = settings_for(ehr_home, fhir_base_url=proxy.url)
    proxy.faults = ["drop-after"]  # the server stored it, the answer never came back
    row = send.send_note(sample_note(), "fhir", settings=settings, base=ehr_home, client=fast_client(proxy))
    assert row.status == SENT and row.attempts == 2
    assert len(stored(fhir_server, row)) == 1  # the conditional create found the first copy


def test_401_is_not_retried_and_says_so(ehr_home, proxy, fhir_server):
    settings = settings_for(ehr_home, fhir_base_url=proxy.url)
    proxy.faults = [401]
    row = send.send_note(sample_note(), "fhir", settings=settings, base=ehr_home, client=fast_client(proxy))
    assert row.status == FAILED and proxy.posts() == 1 and row.next_attempt is None  # only a manual retry
    assert "refused the credentials (401): Invalid token" in row.last_error and "ehr-login" in row.last_error
    assert stored(fhir_server, row) == []


def test_422_operation_outcome_in_words(proxy):
    proxy.faults = [422]
    with pytest.raises(SendError) as err:
        fast_client(proxy).post_document(json.dumps({"resourceType": "DocumentReference"}))
    assert str(err.value) == ("The FHIR server answered 422: Missing required property (DocumentReference.subject)")
    assert proxy.posts() == 1


def test_429_waits_as_the_server_asks_and_a_long_wait_is_left_to_the_outbox(proxy, fhir_server):
    proxy.faults = [429]
    client = fast_client(proxy)
    note = sample_note()
    from app.export import fhir

    assert client.post_document(fhir.render(note)).server_id.startswith("DocumentReference/")
    assert client.waits == [0.0]
    err = SendError("x", retryable=True, status=429)
    err.retry_after = 3600.0
    assert client._wait_hint(err) is None
    assert err.retryable and err.later and "asks to wait 3600 s" in str(err)


def test_a_failed_send_stays_in_the_outbox_and_a_later_retry_delivers_it_once(ehr_home, proxy, fhir_server):
    settings = settings_for(ehr_home, fhir_base_url=proxy.url)
    proxy.faults = ["drop"] * 5  # the first send and its 4 retries find the server unreachable
    row = send.send_note(sample_note(), "fhir", settings=settings, base=ehr_home, client=fast_client(proxy))
    assert row.status == FAILED and row.attempts == 5 and "could not be reached" in row.last_error
    assert row.next_attempt and Outbox.open(ehr_home).status_line(row.job_name, "aws").startswith("failed: ")
    assert Outbox.open(ehr_home).retry_due() == []  # not due yet
    assert stored(fhir_server, row) == []
    again = send.retry(settings=settings, base=ehr_home, due_only=False)  # the user's "Retry"
    assert [r.status for r in again] == [SENT] and again[0].attempts == 6
    assert len(stored(fhir_server, row)) == 1
    assert Outbox.open(ehr_home).retry_due(now=row.next_attempt + 10) == []  # nothing sent twice


def test_a_crash_between_queue_and_send_leaves_it_queued(ehr_home, fhir_server):
    settings = settings_for(ehr_home, fhir_base_url=fhir_server.url)
    outbox = Outbox.open(ehr_home)
    row = send.queue_note(outbox, sample_note(), "fhir", settings)  # ... and the process died here
    assert outbox.get(row.id).status == QUEUED
    assert outbox.retry_due() == []  # maybe still being sent by the process that queued it
    [due] = outbox.retry_due(now=row.created + STALE_QUEUED + 1)
    assert due.id == row.id
    [done] = send.retry(settings=settings, base=ehr_home, due_only=False)
    assert done.status == SENT and len(stored(fhir_server, row)) == 1


def test_a_corrected_note_supersedes_the_one_sent(ehr_home, fhir_server):
    settings = settings_for(ehr_home, fhir_base_url=fhir_server.url)
    first = send.send_note(sample_note(), "fhir", settings=settings, base=ehr_home)
    note = sample_note()
    note.paragraphs[0].text = "Corrected: " + note.paragraphs[0].text
    second = send.send_note(note, "fhir", settings=settings, base=ehr_home)
    assert second.status == SENT and second.replaces == first.server_id
    [doc] = stored(fhir_server, second)
    assert doc["relatesTo"] == [{"code": "replaces", "target": {"reference": first.server_id}}]


def test_an_unsent_version_is_superseded_by_the_new_one(ehr_home, proxy, fhir_server):
    settings = settings_for(ehr_home, fhir_base_url=proxy.url)
    proxy.faults = ["drop"] * 5
    old = send.send_note(sample_note(), "fhir", settings=settings, base=ehr_home, client=fast_client(proxy))
    new = send.send_note(sample_note(), "fhir", settings=settings, base=ehr_home, client=fast_client(proxy))
    outbox = Outbox.open(ehr_home)
    assert outbox.get(old.id).status == SUPERSEDED and new.status == SENT
    assert send.retry(settings=settings, base=ehr_home, due_only=False) == []


def test_bundle_send_creates_the_patient_once(ehr_home, fhir_server):
    settings = settings_for(ehr_home, fhir_base_url=fhir_server.url)
    system = "urn:oid:2.16.840.1.113883.3.7418.2.99"
    rows = [send.send_note(sample_note(patient_id_system=system), "fhir", bundle=True, settings=settings,
                           base=ehr_home) for _ in range(2)]
    assert [r.status for r in rows] == [SENT, SENT]
    assert all(r.server_id.startswith("DocumentReference/") for r in rows)
    assert len(fhir_server.search("Patient", identifier=f"{system}|{HEADER['patient_id']}")) == 1
    doc = fhir_server.get(rows[1].server_id)
    assert doc["relatesTo"][0]["target"]["reference"] == rows[0].server_id
    assert doc["subject"]["reference"].startswith("Patient/")


def test_no_phi_in_logs_or_errors(ehr_home, proxy, fhir_server, caplog):
    caplog.set_level(logging.DEBUG)
    settings = settings_for(ehr_home, fhir_base_url=proxy.url)
    proxy.faults = [422, ]
    note = sample_note()
    row = send.send_note(note, "fhir", settings=settings, base=ehr_home, client=fast_client(proxy))
    ok = send.send_note(note, "fhir", settings=settings, base=ehr_home, client=fast_client(proxy))
    assert row.status == FAILED and ok.status == SENT
    secrets = [HEADER["patient_name"], HEADER["patient_id"], "Garcia", note.paragraphs[0].text[:30]]
    text = caplog.text + (row.last_error or "")
    assert not any(s in text for s in secrets)


def test_retry_after_as_seconds_or_a_date_and_error_bodies_in_words():
    import email.utils
    import time as _time

    from app.ehr.fhir_client import _retry_after, outcome_words

    assert _retry_after("7") == 7.0 and _retry_after(None) is None and _retry_after("soon") is None
    later = email.utils.formatdate(_time.time() + 30, usegmt=True)
    assert 25 <= _retry_after(later) <= 31
    assert outcome_words(b"<html>Bad   gateway</html>", 502) == "<html>Bad gateway</html>"
    assert outcome_words(b"", 500) == "HTTP 500"
    assert outcome_words(json.dumps({"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "invalid", "diagnostics": "Subject not found"}]}).encode(), 400) == \
        "Subject not found"


def test_a_long_retry_after_is_left_to_the_outbox(ehr_home, proxy, fhir_server, monkeypatch):
    settings = settings_for(ehr_home, fhir_base_url=proxy.url)
    proxy.faults = [503]
    monkeypatch.setattr("app.ehr.fhir_client._retry_after", lambda value: 600.0)
    row = send.send_note(sample_note(), "fhir", settings=settings, base=ehr_home, client=fast_client(proxy))
    assert row.status == FAILED and proxy.posts() == 1 and row.next_attempt is not None
    assert "asks to wait 600 s" in row.last_error
    [again] = send.retry(settings=settings, base=ehr_home, due_only=False)
    assert again.status == SENT
