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


def test_edits_and_note_header_are_sealed_at_rest_and_every_reader_opens_them(sealed_home):
    """The editor seals a plain job's edits and header with the local key; export (CLI) reads them."""
    import os
    import subprocess
    import sys

    from app.core.document import TranscriptDocument, edits_path
    from app.export.note import NoteHeader, header_path, load_header, save_header
    from helpers import ROOT

    home, settings = sealed_home
    engine = LocalEngine(base=home, settings=settings)
    engine.start_medical_transcription_job(**job_request("edits-at-rest", engine.put_media(AUDIO / "jfk.flac")))
    assert engine.wait("edits-at-rest", poll=0.2, timeout=300)["TranscriptionJobStatus"] == "COMPLETED"
    doc = TranscriptDocument.open(engine.get_transcript("edits-at-rest"), home, "local", "edits-at-rest",
                                  at_rest=True)
    doc.set_turn_text(0, doc.turn_text(0) + " Reviewed at rest.")
    save_header(home, "local", "edits-at-rest", NoteHeader(patient_id="MRN-9"), sealer=doc.sealer)
    for path in (edits_path(home, "local", "edits-at-rest"), header_path(home, "local", "edits-at-rest")):
        raw = path.read_bytes()
        assert is_envelope(raw) and b"Reviewed" not in raw and b"MRN-9" not in raw
    # readers without a sealer (another process, the CLI) open them through the keyring
    again = TranscriptDocument.open(engine.get_transcript("edits-at-rest"), home, "local", "edits-at-rest")
    assert again.turn_text(0).endswith("Reviewed at rest.")
    assert load_header(home, "local", "edits-at-rest").patient_id == "MRN-9"
    out = subprocess.run([sys.executable, "-m", "app", "export", "--medical-transcription-job-name",
                          "edits-at-rest", "--format", "text"], capture_output=True, text=True, cwd=ROOT,
                         env=dict(os.environ, CLINSCRIBE_HOME=str(home)), timeout=120)
    assert out.returncode == 0 and "Reviewed at rest." in out.stdout, out.stderr
    # without the key: an error, and the sealed edits are not set aside
    credentials.delete_secret(SECRET)
    with pytest.raises(Exception) as caught:
        TranscriptDocument.open(engine.get_transcript("edits-at-rest"), home, "local", "edits-at-rest")
    assert "NotFound" in type(caught.value).__name__ or "NotFound" in str(caught.value)
    assert edits_path(home, "local", "edits-at-rest").exists()
    assert not edits_path(home, "local", "edits-at-rest").with_suffix(".json.bak").exists()
