"""OutputEncryptionKMSKeyId on the local engine: envelope-encrypted transcripts, keys in the OS keyring.

The round trips need a real keyring (scripts/test.sh runs the suite inside a D-Bus session with an
unlocked gnome-keyring); without one they are skipped, saying so. What happens without a usable
keyring is tested everywhere.
"""

from __future__ import annotations

import base64
import json
import shutil
import uuid

import botocore.exceptions
import pytest

from app.cli import main as cli
from app.core.document import TranscriptDocument
from app.engine.local import LocalEngine
from app.store import credentials
from app.store.kms import LocalKms, Sealer, is_envelope
from helpers import AUDIO, JFK_TEXT, conversation_transcript, job_request, wer

keyring = pytest.importorskip("keyring")
from keyring.backends import fail, null  # noqa: E402

REAL_KEYRING = not isinstance(keyring.get_keyring(), (fail.Keyring, null.Keyring))
needs_keyring = pytest.mark.skipif(not REAL_KEYRING, reason="no OS keyring backend here: run via scripts/test.sh")


@pytest.fixture
def service_name(monkeypatch):
    """Keys of each test under a service of their own, removed afterwards."""
    name = f"ClinScribe-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(credentials, "SERVICE_NAME", name)
    yield name


def code(exc_info) -> str:
    return exc_info.value.response["Error"]["Code"]


@needs_keyring
def test_envelope_round_trip_binds_key_and_context(tmp_path, service_name):
    kms = LocalKms(tmp_path)
    key = kms.ensure_key("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    assert key == "1234abcd-12ab-34cd-56ef-1234567890ab"          # an ARN and its id are one key
    assert keyring.get_password(service_name, f"kms:{key}")          # private half: in the keyring
    assert "PrivateKey" not in (tmp_path / "kms" / "keys.json").read_text()
    secret = "Patient John Smith, date of birth March 3 1961.".encode()
    sealed = kms.encrypt(secret, key, {"clinic": "north"})
    assert is_envelope(sealed) and b"John" not in sealed and sealed != kms.encrypt(secret, key, {"clinic": "north"})
    assert kms.decrypt(sealed, {"clinic": "north"}) == secret
    assert kms.decrypt(sealed) == secret                              # the context it carries
    with pytest.raises(botocore.exceptions.ClientError) as err:     # another context
        kms.decrypt(sealed, {"clinic": "south"})
    assert code(err) == "InvalidCiphertextException"
    # anyone changing the context kept in the envelope breaks it too
    envelope = json.loads(sealed)
    envelope["EncryptionContext"] = {"clinic": "south"}
    with pytest.raises(botocore.exceptions.ClientError) as err:
        kms.decrypt(json.dumps(envelope).encode())
    assert code(err) == "InvalidCiphertextException"
    # a flipped byte of the ciphertext
    envelope = json.loads(sealed)
    body = bytearray(base64.b64decode(envelope["Ciphertext"]))
    body[0] ^= 1
    envelope["Ciphertext"] = base64.b64encode(bytes(body)).decode()
    with pytest.raises(botocore.exceptions.ClientError) as err:
        kms.decrypt(json.dumps(envelope).encode())
    assert code(err) == "InvalidCiphertextException"


@needs_keyring
def test_a_key_lost_from_the_keyring_is_not_replaced_and_export_import_restores_it(tmp_path, service_name):
    kms = LocalKms(tmp_path)
    key = kms.ensure_key("alias/clinic-notes")
    sealed = kms.encrypt(b"note", key)
    backup = kms.export_key(key)
    credentials.delete_secret(f"kms:{key}")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        kms.decrypt(sealed)
    assert code(err) == "NotFoundException"
    with pytest.raises(botocore.exceptions.ClientError) as err:     # no silent new key under the old name
        kms.ensure_key("arn:aws:kms:eu-west-1:111122223333:alias/clinic-notes")
    assert code(err) == "NotFoundException"
    other = LocalKms(tmp_path / "other-computer")
    assert other.import_key("alias/clinic-notes", backup.encode()) == key
    assert kms.decrypt(sealed) == b"note"
    with pytest.raises(botocore.exceptions.ClientError) as err:
        kms.import_key("alias/x", b"too short")
    assert code(err) == "ValidationException"


def test_without_a_usable_keyring_the_job_is_refused_before_any_work(tmp_path, monkeypatch):
    keyring.set_keyring(fail.Keyring())
    try:
        engine = LocalEngine(base=tmp_path / "home", spawn_worker=False)
        uri = engine.put_media(AUDIO / "jfk.flac", key="jfk.flac")
        with pytest.raises(engine.exceptions.BadRequestException) as err:
            engine.start_medical_transcription_job(**job_request("kms-no-keyring", uri,
                                                                 OutputEncryptionKMSKeyId="alias/notes"))
        assert "keyring" in err.value.response["Error"]["Message"]
        assert engine.store.get("kms-no-keyring") is None               # nothing queued
    finally:
        keyring.core._keyring_backend = None  # next get_keyring() detects the real backend again


@needs_keyring
def test_an_encrypted_job_end_to_end(home, service_name, capsys):
    engine = LocalEngine(base=home)
    uri = engine.put_media(AUDIO / "jfk.flac", key="kms/jfk.flac")
    context = {"department": "cardiology"}
    engine.start_medical_transcription_job(**job_request("kms-jfk", uri, OutputEncryptionKMSKeyId="alias/notes",
                                                         KMSEncryptionContext=context))
    job = engine.wait("kms-jfk", poll=0.2, timeout=300)
    assert job["TranscriptionJobStatus"] == "COMPLETED"
    on_disk = engine.transcript_path("kms-jfk").read_bytes()
    assert is_envelope(on_disk) and b"country" not in on_disk       # no plain text on disk
    text = engine.get_transcript("kms-jfk")["results"]["transcripts"][0]["transcript"]
    assert wer(JFK_TEXT, text) == 0.0                                 # opened transparently
    with pytest.raises(botocore.exceptions.ClientError) as err:
        engine.kms.decrypt(on_disk, {"department": "oncology"})
    assert code(err) == "InvalidCiphertextException"

    assert cli(["get-transcript", "--medical-transcription-job-name", "kms-jfk", "--text"]) == 0
    assert "ask not what your country" in capsys.readouterr().out
    # a lost job history is rebuilt from the encrypted transcript too, and it still opens
    shutil.rmtree(home / "backups", ignore_errors=True)   # from the envelope alone
    (home / "jobs.db").write_bytes(b"")
    rebuilt = LocalEngine(base=home)
    assert rebuilt.notice and rebuilt.store.get("kms-jfk") is not None
    assert wer(JFK_TEXT, rebuilt.get_transcript("kms-jfk")["results"]["transcripts"][0]["transcript"]) == 0.0
    # the key gone from the keyring: one line with KMS's error, the AWS CLI's service exit code
    credentials.delete_secret("kms:alias/notes")
    assert cli(["get-transcript", "--medical-transcription-job-name", "kms-jfk"]) == 254
    err_text = capsys.readouterr().err
    assert "NotFoundException" in err_text and len(err_text.strip().splitlines()) == 1


@needs_keyring
def test_edits_of_an_encrypted_transcript_are_kept_encrypted(tmp_path, service_name):
    kms = LocalKms(tmp_path)
    kms.ensure_key("alias/notes")
    sealer = Sealer(kms, "alias/notes", {"department": "cardiology"})
    transcript = conversation_transcript()
    edits = tmp_path / "edits.json"
    doc = TranscriptDocument(transcript, edits, job_name="j", sealer=sealer)
    doc.rename_speaker("spk_0", "Dr Patel")
    on_disk = edits.read_bytes()
    assert is_envelope(on_disk) and b"Patel" not in on_disk
    again = TranscriptDocument(transcript, edits, job_name="j", sealer=sealer)
    assert again.speaker_name("spk_0") == "Dr Patel"


def test_cli_kms_commands_without_a_keyring_say_why_in_one_line(home, capsys, monkeypatch):
    keyring.set_keyring(fail.Keyring())
    try:
        assert cli(["kms", "create-key", "--key-id", "alias/notes"]) == 254
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "keyring" in err and "AccessDeniedException" in err
    finally:
        keyring.core._keyring_backend = None
