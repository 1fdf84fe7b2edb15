"""Recordings and bucket audio encrypted at rest (Settings.encrypt_audio): sealed on disk, transcribed
and played from memory, and a missing key is a FAILED job that says so.

Needs the real OS keyring (scripts/test.sh); the worker is a separate process that takes the key
from it, as on a clinician's desktop."""

from __future__ import annotations

import pytest

from app.core.config import Settings
from app.engine.local import LocalEngine
from app.local import media
from app.store import audiovault, credentials
from app.store.kms import is_envelope
from helpers import AUDIO, JFK_TEXT, job_request, wer

keyring = pytest.importorskip("keyring")
from keyring.backends import fail, null  # noqa: E402

pytestmark = pytest.mark.skipif(isinstance(keyring.get_keyring(), (fail.Keyring, null.Keyring)),
                                reason="no OS keyring backend here: run via scripts/test.sh")
SECRET = "kms:" + audiovault.AUDIO_KEY


@pytest.fixture
def sealed_home(tmp_path):
    credentials.delete_secret(SECRET)
    home = tmp_path / "home"
    settings = Settings(encrypt_audio=True)
    home.mkdir()
    settings.save(home)
    yield home, settings
    credentials.delete_secret(SECRET)


def test_bucket_audio_is_sealed_and_still_transcribed(sealed_home):
    home, settings = sealed_home
    engine = LocalEngine(base=home, settings=settings)
    uri = engine.put_media(AUDIO / "jfk.flac", key="visit/jfk.flac")
    stored = engine.objects.resolve(uri)
    raw = stored.read_bytes()
    assert is_envelope(raw) and b"fLaC" not in raw[:4096]          # no audio on disk, only the envelope
    assert stored.stat().st_mode & 0o077 == 0
    engine.start_medical_transcription_job(**job_request("sealed-jfk", uri))
    job = engine.wait("sealed-jfk", poll=0.2, timeout=300)
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    text = engine.get_transcript("sealed-jfk")["results"]["transcripts"][0]["transcript"]
    assert wer(JFK_TEXT, text) < 0.15
    # opened in memory, the same audio as the original
    opened = audiovault.open_audio(home, stored)
    assert opened.getvalue() == (AUDIO / "jfk.flac").read_bytes()
    assert media.check(opened).duration == pytest.approx(media.check(AUDIO / "jfk.flac").duration)


def test_without_the_key_the_job_fails_saying_why(sealed_home):
    home, settings = sealed_home
    engine = LocalEngine(base=home, settings=settings)
    uri = engine.put_media(AUDIO / "jfk.flac", key="visit/jfk.flac")
    credentials.delete_secret(SECRET)                              # the keyring lost the key
    engine.start_medical_transcription_job(**job_request("keyless", uri))
    job = engine.wait("keyless", poll=0.2, timeout=300)
    assert job["TranscriptionJobStatus"] == "FAILED"
    assert "encrypted at rest" in job["FailureReason"] and "import" in job["FailureReason"]
    assert is_envelope(engine.objects.resolve(uri).read_bytes())   # nothing lost: still there, sealed


def test_plain_audio_stays_plain_when_the_setting_is_off(tmp_path):
    engine = LocalEngine(base=tmp_path / "home", settings=Settings())
    uri = engine.put_media(AUDIO / "jfk.flac", key="jfk.flac")
    assert engine.objects.resolve(uri).read_bytes() == (AUDIO / "jfk.flac").read_bytes()
