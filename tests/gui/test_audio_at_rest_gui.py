"""In the app, with "encrypt audio at rest" on: a new recording is sealed when it stops, and it is
still checked, transcribed and played (from memory). Needs the real keyring (scripts/test.sh)."""

from __future__ import annotations

import pytest

from app.store import audiovault, credentials
from app.store.kms import is_envelope

keyring = pytest.importorskip("keyring")
from keyring.backends import fail, null  # noqa: E402

pytestmark = pytest.mark.skipif(isinstance(keyring.get_keyring(), (fail.Keyring, null.Keyring)),
                                reason="no OS keyring backend here: run via scripts/test.sh")


def test_a_sealed_recording_is_checked_transcribed_and_played(make_window, fake_mic, qtbot):
    credentials.delete_secret("kms:" + audiovault.AUDIO_KEY)
    try:
        w = make_window(restore=False)
        w.ctx.settings.encrypt_audio = True
        w.recorder.add_input("Sample speech (test input)", fake_mic)
        w.recorder.start()
        qtbot.waitUntil(lambda: w.recorder.recorder.elapsed > 2.5, timeout=10000)
        path = w.recorder.stop()
        assert is_envelope(path.read_bytes()) and path.stat().st_mode & 0o077 == 0
        w.importer.load_file(path)                       # the Import view reads it (in memory)
        qtbot.waitUntil(lambda: w.importer.info is not None, timeout=20000)
        assert w.importer.info.duration > 2
        w.player.load(path)                              # playback from memory
        assert w.player.duration > 2
        w.player.play()
        qtbot.waitUntil(lambda: w.player.position > 0.3, timeout=10000)
        w.player.stop()
        # no plaintext copy was written beside it
        assert [p for p in path.parent.iterdir() if p.suffix in (".wav", ".flac") and p != path] == []
        w.job_form.set_media(path)
        qtbot.waitUntil(lambda: w.job_form.submit_button.isEnabled(), timeout=5000)
        w.job_form.submit()
        qtbot.waitUntil(lambda: w.current_page() == "Jobs", timeout=20000)
        name = w.job_form.last_job[1]["MedicalTranscriptionJobName"]
        engine = w.ctx.engine("local")
        job = engine.wait(name, poll=0.2, timeout=300)
        assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
        assert "americans" in engine.get_transcript(name)["results"]["transcripts"][0]["transcript"].lower()
        assert is_envelope(engine.media_path(name).read_bytes())
    finally:
        credentials.delete_secret("kms:" + audiovault.AUDIO_KEY)


def test_the_setting_is_in_the_settings_view(make_window, home):
    from app.core.config import Settings

    w = make_window(restore=False)
    view = w.settings_view
    assert not view.encrypt_audio.isChecked()
    view.encrypt_audio.setChecked(True)
    assert view.save()
    assert Settings.load(home).encrypt_audio and w.ctx.settings.encrypt_audio
