"""The FHIR bearer token: asked by ``ehr-login``, kept in the OS keyring only, sent as
``Authorization: Bearer``; without a keyring or a token the send fails in words and stays queued."""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest

from app import cli as app_cli
from app.ehr import send
from app.ehr.outbox import FAILED, SENT
from app.store import credentials
from ehrdata import sample_note, settings_for

keyring = pytest.importorskip("keyring")
from keyring.backends import fail, null  # noqa: E402

TOKEN = "test-token-" + uuid.uuid4().hex


def real_keyring() -> bool:
    return not isinstance(keyring.get_keyring(), (fail.Keyring, null.Keyring))


@pytest.fixture
def service_name(monkeypatch):
    name = f"ClinScribe-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(credentials, "SERVICE_NAME", name)
    yield name
    try:
        credentials.delete_secret(send.TOKEN_SECRET)
    except credentials.CredentialStoreError:
        pass


@pytest.mark.skipif(not real_keyring(), reason="no OS keyring here; scripts/test.sh runs one (gnome-keyring)")
def test_ehr_login_keeps_the_token_in_the_keyring_and_sends_it(ehr_home, proxy, fhir_server, service_name,
                                                               monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": TOKEN)
    assert app_cli.main(["ehr-login"]) == 0
    assert keyring.get_password(service_name, send.TOKEN_SECRET) == TOKEN
    settings = settings_for(ehr_home, fhir_base_url=proxy.url, fhir_auth="bearer")
    row = send.send_note(sample_note(), "fhir", settings=settings, base=ehr_home)
    assert row.status == SENT
    assert [h.get("Authorization") for m, _, h in proxy.requests if m == "POST"] == [f"Bearer {TOKEN}"]
    # the token is nowhere on disk
    for path in ehr_home.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    db = sqlite3.connect(ehr_home / "outbox.db")
    assert all(TOKEN not in json.dumps(r) for r in db.execute("SELECT * FROM sends"))
    assert app_cli.main(["ehr-logout"]) == 0
    assert keyring.get_password(service_name, send.TOKEN_SECRET) is None
    capsys.readouterr()


def test_no_token_is_a_failure_in_words_kept_in_the_outbox(ehr_home, fhir_server, service_name, monkeypatch):
    monkeypatch.setattr(credentials, "get_secret", lambda name: None)
    settings = settings_for(ehr_home, fhir_base_url=fhir_server.url, fhir_auth="bearer")
    row = send.send_note(sample_note(), "fhir", settings=settings, base=ehr_home)
    assert row.status == FAILED and row.last_error == "No FHIR token is stored: run 'clinscribe ehr-login'."


def test_ehr_login_never_reads_the_token_from_a_pipe(ehr_home, capsys):
    assert app_cli.main(["ehr-login"]) == 252
    assert "asks for the token at a terminal" in capsys.readouterr().err


@pytest.mark.skipif(not real_keyring(), reason="no OS keyring here; scripts/test.sh runs one (gnome-keyring)")
def test_ehr_smart_key_keeps_the_private_key_in_the_keyring(ehr_home, service_name, capsys):
    from app.ehr import smart

    assert app_cli.main(["ehr-smart-key"]) == 0
    first = json.loads(capsys.readouterr().out)["keys"][0]
    pem = keyring.get_password(service_name, smart.KEY_SECRET + "#1") or keyring.get_password(service_name,
                                                                                            smart.KEY_SECRET)
    assert pem and smart.public_jwk(credentials.get_secret(smart.KEY_SECRET))["kid"] == first["kid"]
    assert app_cli.main(["ehr-smart-key"]) == 0
    assert json.loads(capsys.readouterr().out)["keys"][0]["kid"] == first["kid"]  # kept, not replaced
    assert app_cli.main(["ehr-smart-key", "--new"]) == 0
    assert json.loads(capsys.readouterr().out)["keys"][0]["kid"] != first["kid"]
    for path in ehr_home.rglob("*"):
        if path.is_file():
            assert b"PRIVATE KEY" not in path.read_bytes()
    credentials.delete_secret(smart.KEY_SECRET)


@pytest.mark.skipif(not real_keyring(), reason="no OS keyring here; scripts/test.sh runs one (gnome-keyring)")
def test_the_outbox_seals_the_note_of_an_encrypted_job(ehr_home, mllp, service_name):
    from app.ehr.outbox import Outbox
    from app.store.kms import LocalKms

    from ehrdata import HEADER

    key = LocalKms(ehr_home).ensure_key("alias/ehr-outbox-test")
    protection = (key, {"clinic": "riverside"})
    settings = settings_for(ehr_home, mllp_host="127.0.0.1", mllp_port=mllp.port)
    mllp.behaviours = [("AE", "paused")]
    row = send.send_note(sample_note(), "hl7", settings=settings, base=ehr_home, protection=protection)
    assert row.status == FAILED and row.payload.startswith(send.SEALED)
    for path in ehr_home.glob("outbox.db*"):
        data = path.read_bytes()
        assert b"MRN-004211" not in data and HEADER["patient_name"].encode() not in data
    [again] = send.retry(settings=settings, base=ehr_home, due_only=False)
    assert again.status == SENT and mllp.received[0] == mllp.received[1]
    assert "MRN-004211" in mllp.received[1]
    assert send.payload_of(Outbox.open(ehr_home), again) == mllp.received[1]
