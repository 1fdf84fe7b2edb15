"""AWS keys live in the OS keyring only.

The round-trip tests need a REAL keyring backend (the Secret Service on Linux CI):

    apt-get install -y --no-install-recommends gnome-keyring dbus-daemon dbus-bin
    dbus-run-session -- bash -c 'eval "$(printf ci-pass | gnome-keyring-daemon --unlock --components=secrets)"; \
        python -m pytest tests/test_credentials.py'

Without one they are skipped (saying so); the "no keyring" behaviour is tested everywhere.
They write under a throw-away service name, never over the developer's own ClinScribe keys.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

import pytest

keyring = pytest.importorskip("keyring")
from keyring.backends import fail, null  # noqa: E402

from app.store import credentials  # noqa: E402
from app.core.config import Settings  # noqa: E402
from app.engine.aws import AwsEngine, ConnectionProblem  # noqa: E402

CI_WRAPPER = ("dbus-run-session -- bash -c 'eval \"$(printf ci-pass | gnome-keyring-daemon --unlock "
              "--components=secrets)\"; python -m pytest tests/test_credentials.py'")


def _real_backend() -> bool:
    backend = keyring.get_keyring()
    if isinstance(backend, (fail.Keyring, null.Keyring)):
        return False
    if type(backend).__name__ == "ChainerBackend" and not getattr(backend, "backends", None):
        return False
    return True


needs_keyring = pytest.mark.skipif(
    not _real_backend(),
    reason=f"no OS keyring backend here ({type(keyring.get_keyring()).__module__}); run inside: {CI_WRAPPER}")

AKID = "TESTKEYIDFORCLINSCRIBE"  # a fake, not shaped like a real key
SECRET = "not-a-real-secret/for-the-keyring-tests-0"  # a fake, not shaped like a real one


@pytest.fixture
def service_name(monkeypatch):
    name = f"ClinScribe-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(credentials, "SERVICE_NAME", name)
    yield name
    try:
        credentials.delete_aws_keys()
    except credentials.CredentialStoreError:
        pass


def test_service_name_is_clinscribe():
    assert credentials.SERVICE_NAME == "ClinScribe"


@needs_keyring
def test_keys_round_trip_through_the_os_keyring(service_name, caplog):
    caplog.set_level(logging.DEBUG)
    assert credentials.load_aws_keys() is None
    credentials.save_aws_keys(AKID, SECRET)
    assert credentials.load_aws_keys() == {"aws_access_key_id": AKID, "aws_secret_access_key": SECRET}
    # what the user would find in their keyring app: items under the ClinScribe service
    assert keyring.get_password(service_name, "aws_secret_access_key") == SECRET
    if type(keyring.get_keyring()).__module__.endswith("SecretService"):
        import secretstorage
        with secretstorage.dbus_init() as bus:
            items = list(secretstorage.get_default_collection(bus).search_items({"service": service_name}))
            assert {i.get_attributes()["username"] for i in items} == {"aws_access_key_id", "aws_secret_access_key"}

    token = "IQoJb3JpZ2luX2VjE" + "x" * 2990  # STS tokens exceed one Windows credential blob
    credentials.save_aws_keys(" " + AKID + "\n", SECRET, token)
    assert credentials.load_aws_keys() == {"aws_access_key_id": AKID, "aws_secret_access_key": SECRET,
                                           "aws_session_token": token}
    assert all(len(keyring.get_password(service_name, f"aws_session_token#{i}")) <= credentials.CHUNK_CHARS
               for i in (1, 2, 3))

    credentials.save_aws_keys(AKID, SECRET)  # a long-term key replaces the temporary one entirely
    assert "aws_session_token" not in credentials.load_aws_keys()
    assert keyring.get_password(service_name, "aws_session_token#1") is None

    credentials.delete_aws_keys()
    assert credentials.load_aws_keys() is None
    credentials.delete_aws_keys()  # nothing stored: fine
    assert SECRET not in caplog.text and token not in caplog.text


@needs_keyring
def test_engine_uses_keyring_keys_and_writes_them_nowhere(service_name, tmp_path, monkeypatch):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    credentials.save_aws_keys(AKID, SECRET, "session-token-value")
    settings = Settings(engine="aws", aws_endpoint_url="http://127.0.0.1:9", aws_input_bucket="b")
    settings.save(tmp_path)
    engine = AwsEngine(settings=settings, base=tmp_path)
    creds = engine.session.get_credentials().get_frozen_credentials()
    assert (creds.access_key, creds.secret_key, creds.token) == (AKID, SECRET, "session-token-value")
    assert engine.credential_source == "the OS keyring (TEST…RIBE)"
    engine.transcribe, engine.s3  # clients made, job records opened
    for path in Path(tmp_path).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert SECRET.encode() not in data and b"session-token-value" not in data, path


def test_no_keyring_is_a_clear_error(monkeypatch, tmp_path):
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        for call in (lambda: credentials.save_aws_keys(AKID, SECRET), credentials.load_aws_keys,
                     credentials.delete_aws_keys):
            with pytest.raises(credentials.CredentialStoreError, match="No usable OS keyring") as err:
                call()
            assert SECRET not in str(err.value) and "\n" not in str(err.value)

        # the engine still works from the environment, and says why the keyring was not used
        for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        engine = AwsEngine(settings=Settings(aws_endpoint_url="http://127.0.0.1:9"), base=tmp_path)
        with pytest.raises(ConnectionProblem, match="No AWS credentials found.*No usable OS keyring"):
            engine.test_connection()
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-env")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-env-secret")
        engine = AwsEngine(settings=Settings(aws_endpoint_url="http://127.0.0.1:9"), base=tmp_path)
        assert engine.session.get_credentials().access_key == "from-env"
    finally:
        keyring.set_keyring(previous)


def test_bad_input_is_refused_before_the_keyring():
    with pytest.raises(ValueError, match="access key ID is empty"):
        credentials.save_aws_keys("  ", SECRET)
    with pytest.raises(ValueError, match="secret access key contains spaces"):
        credentials.save_aws_keys(AKID, "abc def")
    assert credentials.mask(AKID) == "TEST…RIBE" and SECRET not in credentials.mask(SECRET)
