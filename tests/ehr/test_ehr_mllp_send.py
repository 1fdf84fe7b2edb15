"""HL7 v2 over MLLP to a listener from python hl7 that ACKs (AA), NAKs (AE/AR with a reason) and
drops the connection on demand."""

from __future__ import annotations

import socket
import ssl

import hl7
import pytest

from app.ehr import send
from app.ehr.base import SendError
from app.ehr.mllp_client import MllpClient
from app.ehr.outbox import FAILED, SENT, Outbox
from app.export import hl7 as mdm
from ehrdata import sample_note, settings_for
from ehrservers import free_port


def client(listener, **kw):
    c = MllpClient("127.0.0.1", listener.port, timeout=5, sleep=lambda s: None, **kw)
    return c


def test_aa_is_success_and_the_engine_got_the_message(mllp):
    message = mdm.render(sample_note(), control_id="C1")
    result = client(mllp).send(message)
    assert result.location == "C1" and result.attempts == 1
    [got] = mllp.received
    assert got == message  # byte for byte, UTF-8 names included
    assert hl7.parse(got).segment("PID")[5][0][1][0] == "María José".split()[0]


def test_ae_is_a_failure_with_the_engines_reason_and_no_retry(mllp):
    mllp.behaviours = [("AE", "Unknown patient MRN|x")]
    with pytest.raises(SendError) as err:
        client(mllp).send(mdm.render(sample_note()))
    assert not err.value.retryable and len(mllp.received) == 1
    assert "refused the message (AE): Unknown patient MRN|x" in str(err.value)
    mllp.behaviours = [("AR", "Unsupported message type")]
    with pytest.raises(SendError) as err:
        client(mllp).send(mdm.render(sample_note()))
    assert "rejected the message (AR): Unsupported message type" in str(err.value)


def test_a_dropped_connection_is_retried(mllp):
    mllp.behaviours = ["drop", "drop"]
    result = client(mllp).send(mdm.render(sample_note(), control_id="C2"))
    assert result.attempts == 3 and len(mllp.received) == 3
    assert {hl7.parse(m).segment("MSH")[10][0] for m in mllp.received} == {"C2"}  # the same control id


def test_nobody_listening_is_retried_then_reported():
    port = free_port()
    c = MllpClient("127.0.0.1", port, timeout=2, retries=2, sleep=lambda s: None)
    with pytest.raises(SendError) as err:
        c.send(mdm.render(sample_note()))
    assert err.value.retryable and err.value.attempts == 3
    assert f"127.0.0.1:{port} could not be reached" in str(err.value)


def test_tls_to_a_plain_listener_fails_clearly(mllp):
    ctx = ssl.create_default_context()
    with pytest.raises(SendError) as err:
        client(mllp, tls=True, ssl_context=ctx, retries=0).send(mdm.render(sample_note()))
    assert "127.0.0.1" in str(err.value)


def test_outbox_send_then_t10_replacement(ehr_home, mllp):
    settings = settings_for(ehr_home, mllp_host="127.0.0.1", mllp_port=mllp.port)
    first = send.send_note(sample_note(), "hl7", settings=settings, base=ehr_home)
    assert first.status == SENT and first.server_id == first.document_id
    second = send.send_note(sample_note(), "hl7", settings=settings, base=ehr_home)
    assert second.status == SENT and second.replaces == first.document_id
    one, two = (hl7.parse(m) for m in mllp.received)
    assert str(one.segment("MSH")[9]) == "MDM^T02^MDM_T02"
    assert str(two.segment("MSH")[9]) == "MDM^T10^MDM_T02"
    assert str(two.segment("TXA")[13]) == str(one.segment("TXA")[12]) == first.document_id
    assert str(two.segment("TXA")[12]) == second.document_id


def test_outbox_keeps_a_nak_and_retry_sends_it(ehr_home, mllp):
    settings = settings_for(ehr_home, mllp_host="127.0.0.1", mllp_port=mllp.port)
    mllp.behaviours = [("AE", "Interface paused")]
    row = send.send_note(sample_note(), "hl7", settings=settings, base=ehr_home)
    assert row.status == FAILED and "Interface paused" in row.last_error
    assert Outbox.open(ehr_home).status_line(row.job_name, "aws") == \
        "failed: The interface engine refused the message (AE): Interface paused — Retry"
    [again] = send.retry(settings=settings, base=ehr_home, due_only=False)
    assert again.status == SENT and len(mllp.received) == 2
    assert mllp.received[0] == mllp.received[1]  # the payload kept in the outbox, unchanged


def test_mllp_framing_is_standard(mllp):
    """The bytes on the wire: <VT> message <FS><CR> (checked with a plain socket listener)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        import threading

        got = {}

        def serve():
            conn, _ = server.accept()
            data = b""
            while not data.endswith(b"\x1c\r"):
                data += conn.recv(65536)
            got["data"] = data
            msg = hl7.parse(data[1:-2].decode("utf-8"))
            conn.sendall(b"\x0b" + str(msg.create_ack("AA")).encode() + b"\x1c\r")
            conn.close()

        t = threading.Thread(target=serve)
        t.start()
        message = mdm.render(sample_note())
        MllpClient("127.0.0.1", port, timeout=5, retries=0).send(message)
        t.join(5)
    assert got["data"] == b"\x0b" + message.encode("utf-8") + b"\x1c\r"
