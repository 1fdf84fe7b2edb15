"""Every MediaFormat decodes, and every documented FailureReason comes from a real bad file."""

from __future__ import annotations

import numpy as np
import pytest

from app.local import media
from app.engine.local import LocalEngine
from helpers import AUDIO, JFK_TEXT, job_request, wer
from mediafiles import FORMATS, make, speech, write


@pytest.fixture(scope="module")
def jfk():
    return speech(AUDIO / "jfk.flac")


@pytest.fixture(scope="module")
def engine(shared_home):
    return LocalEngine(base=shared_home)


@pytest.fixture(scope="module")
def files(tmp_path_factory, jfk):
    folder = tmp_path_factory.mktemp("formats")
    return {fmt: make(fmt, jfk, folder) for fmt in FORMATS}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_media_format_is_detected_and_decoded(files, fmt):
    info = media.probe(files[fmt])
    assert info.media_format == fmt
    assert info.channels == 1 and info.sample_rate == FORMATS[fmt][2]
    assert 10.5 < info.duration < 11.5
    (audio,) = media.decode(files[fmt], info.channels)
    assert audio.dtype == np.float32 and 10.5 < len(audio) / 16000 < 11.5


@pytest.mark.parametrize("fmt", ["mp3", "mp4", "m4a", "wav", "flac", "ogg", "webm"])
def test_every_format_transcribes_through_a_job(engine, files, fmt):
    name = f"format-{fmt}"
    uri = engine.put_media(files[fmt], key=f"formats/{files[fmt].name}")
    engine.start_medical_transcription_job(**job_request(name, uri, MediaFormat=fmt))
    job = engine.wait(name, poll=0.2, timeout=120)
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    assert job["MediaFormat"] == fmt
    text = engine.get_transcript(name)["results"]["transcripts"][0]["transcript"]
    assert wer(JFK_TEXT, text) <= 0.1  # lossy codecs at low bit rates may cost a word


def failed_reason(engine, name, path, **extra) -> str:
    uri = engine.put_media(path, key=f"bad/{name}/{path.name}")
    engine.start_medical_transcription_job(**job_request(name, uri, **extra))
    job = engine.wait(name, poll=0.2, timeout=120)
    assert job["TranscriptionJobStatus"] == "FAILED"
    assert "Transcript" in job and "TranscriptFileUri" not in job["Transcript"]
    summary = engine.list_medical_transcription_jobs(JobNameContains=name)["MedicalTranscriptionJobSummaries"][0]
    assert summary["FailureReason"] == job["FailureReason"]
    return job["FailureReason"]


def test_not_audio_at_all(engine, tmp_path):
    fake = tmp_path / "notes.wav"
    fake.write_text("Patient seen today for follow-up.\n" * 50)
    assert failed_reason(engine, "bad-text", fake) == "Unsupported media format"


def test_truncated_header(engine, files, tmp_path):
    cut = tmp_path / "cut.wav"
    cut.write_bytes(files["wav"].read_bytes()[:30])
    assert failed_reason(engine, "bad-truncated", cut) == "Unsupported media format"


def test_truncated_in_the_middle_keeps_what_is_there(engine, files, tmp_path):
    half = tmp_path / "half.mp3"
    data = files["mp3"].read_bytes()
    half.write_bytes(data[: len(data) // 2])
    uri = engine.put_media(half, key="bad/half/half.mp3")
    engine.start_medical_transcription_job(**job_request("half-mp3", uri))
    job = engine.wait("half-mp3", poll=0.2, timeout=120)
    assert job["TranscriptionJobStatus"] == "COMPLETED"
    text = engine.get_transcript("half-mp3")["results"]["transcripts"][0]["transcript"].lower()
    assert "americans" in text and "ask what you can do" not in text


def test_a_format_aws_does_not_take(engine, jfk, tmp_path):
    aiff = write(jfk, tmp_path / "dictation.aiff", "aiff", "pcm_s16be", 16000)
    assert failed_reason(engine, "bad-aiff", aiff) == "Unsupported media format"


def test_renamed_file_with_a_wrong_declared_format(engine, files, tmp_path):
    renamed = tmp_path / "dictation.mp3"
    renamed.write_bytes(files["flac"].read_bytes())
    assert failed_reason(engine, "bad-renamed", renamed, MediaFormat="mp3") == \
        "The media format provided does not match the detected media format"


def test_three_channels(engine, jfk, tmp_path):
    three = write(np.stack([jfk, jfk * 0.5, jfk * 0.25]), tmp_path / "three.wav", "wav", "pcm_s16le", 16000)
    assert failed_reason(engine, "bad-channels", three) == "Invalid number of channels: number of channels too large"


def test_declared_rate_that_does_not_match(engine):
    assert failed_reason(engine, "bad-declared-rate", AUDIO / "jfk.flac", MediaSampleRateHertz=16000) == \
        "The sample rate provided does not match the detected sample rate"


def test_rate_below_what_transcribe_medical_takes(engine, files):
    # AMR-NB is 8 kHz; Transcribe Medical takes 16-48 kHz.
    assert failed_reason(engine, "bad-rate-amr", files["amr"]) == "Invalid sample rate for audio file"


def test_file_too_large(shared_home, files):
    small_limit = LocalEngine(base=shared_home, max_media_bytes=10_000)
    assert failed_reason(small_limit, "bad-size", files["wav"]) == "Invalid file size: file size too large"


def test_media_removed_after_submission(home, files, tmp_path):
    doomed = tmp_path / "doomed.wav"
    doomed.write_bytes(files["wav"].read_bytes())
    idle = LocalEngine(base=home, spawn_worker=False)  # submit while no worker runs
    idle.start_medical_transcription_job(**job_request("bad-gone", f"file://{doomed}"))
    doomed.unlink()
    job = LocalEngine(base=home).wait("bad-gone", poll=0.2, timeout=120)  # the app comes back
    assert job["TranscriptionJobStatus"] == "FAILED"
    assert job["FailureReason"] == "The media file couldn't be found. Check MediaFileUri and try your request again."


def test_two_channels_are_judged_from_the_audio(tmp_path):
    """jfk.flac is stereo with one voice; the consultations have doctor and patient apart; a room
    recording with bleed between two microphones is still two voices; a delayed copy is one."""
    import soundfile

    from helpers import DATA

    assert media.channel_layout(AUDIO / "jfk.flac") == "same"
    assert media.channel_layout(AUDIO / "stereo_diarization.wav") == "distinct"
    data, rate = soundfile.read(DATA / "consultations" / "day1_consultation01.flac")
    data = data[: 40 * rate]
    room = np.stack([data[:, 0] + 0.35 * np.roll(data[:, 1], 48), data[:, 1] + 0.35 * np.roll(data[:, 0], 48)], 1)
    soundfile.write(tmp_path / "room.wav", room / np.abs(room).max(), rate)
    assert media.channel_layout(tmp_path / "room.wav") == "distinct"
    stereo, jfk_rate = soundfile.read(AUDIO / "jfk.flac")
    mono = stereo[:, 0]
    delayed = np.stack([mono, 0.6 * np.roll(mono, int(0.005 * jfk_rate))], 1)   # 5 ms later, quieter: one voice
    soundfile.write(tmp_path / "delayed.wav", delayed, jfk_rate)
    assert media.channel_layout(tmp_path / "delayed.wav") == "same"
    silent = np.stack([mono, np.zeros_like(mono)], 1)
    soundfile.write(tmp_path / "silent.wav", silent, jfk_rate)
    assert media.channel_layout(tmp_path / "silent.wav") == "one-silent"
