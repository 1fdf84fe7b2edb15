"""The local engine end to end: real model (tiny.en), real audio, real worker process."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.engine.local import LocalEngine
from app.core.outputs import output_key
from helpers import AUDIO, JFK_TEXT, STEREO_LEFT, STEREO_RIGHT, job_request, normalise, wer


@pytest.fixture(scope="module")
def engine(shared_home):
    return LocalEngine(base=shared_home)


def run(engine, name, path_or_uri, **extra) -> dict:
    uri = path_or_uri if isinstance(path_or_uri, str) else engine.put_media(path_or_uri, key=f"{name}/{Path(path_or_uri).name}")
    engine.start_medical_transcription_job(**job_request(name, uri, **extra))
    return engine.wait(name, poll=0.2, timeout=300)


def test_jfk_is_transcribed_word_for_word(engine):
    job = run(engine, "jfk-dictation", AUDIO / "jfk.flac")
    assert job["TranscriptionJobStatus"] == "COMPLETED"
    assert job["MediaFormat"] == "flac" and job["MediaSampleRateHertz"] == 44100
    assert job["Settings"] == {"ChannelIdentification": False, "ShowAlternatives": False}
    assert job["CreationTime"] <= job["StartTime"] <= job["CompletionTime"]
    assert job["CompletionTime"].tzinfo is not None
    assert "FailureReason" not in job
    doc = engine.get_transcript("jfk-dictation")
    assert wer(JFK_TEXT, doc["results"]["transcripts"][0]["transcript"]) == 0.0
    # TranscriptFileUri points at the file in the local output bucket, medical/<job>.json by default
    uri = job["Transcript"]["TranscriptFileUri"]
    assert uri.startswith("file://") and uri.endswith("/test-transcripts/medical/jfk-dictation.json")
    assert json.loads(engine.transcript_path("jfk-dictation").read_text()) == doc


@pytest.mark.parametrize("channel, reference", [(0, STEREO_LEFT), (1, STEREO_RIGHT)])
def test_each_channel_of_the_stereo_recording(engine, tmp_path, channel, reference):
    data, rate = soundfile.read(AUDIO / "stereo_diarization.wav")
    mono = tmp_path / f"channel{channel}.wav"
    soundfile.write(mono, data[:, channel], rate)
    job = run(engine, f"stereo-ch{channel}", mono)
    assert job["TranscriptionJobStatus"] == "COMPLETED"
    text = engine.get_transcript(f"stereo-ch{channel}")["results"]["transcripts"][0]["transcript"]
    assert wer(reference, text) == 0.0


def test_transcript_json_matches_aws_structure(engine):
    doc = engine.get_transcript("jfk-dictation") if engine.store.get("jfk-dictation") else None
    if doc is None:
        run(engine, "jfk-dictation", AUDIO / "jfk.flac")
        doc = engine.get_transcript("jfk-dictation")
    assert set(doc) == {"jobName", "accountId", "status", "results"}
    assert doc["jobName"] == "jfk-dictation" and doc["status"] == "COMPLETED"
    assert len(doc["accountId"]) == 12 and doc["accountId"].isdigit()
    results = doc["results"]
    assert set(results) == {"transcripts", "items", "audio_segments"}
    assert "language_code" not in results
    assert len(results["transcripts"]) == 1 and set(results["transcripts"][0]) == {"transcript"}
    items = results["items"]
    assert [it["id"] for it in items] == list(range(len(items)))
    last_end = 0.0
    for item in items:
        assert len(item["alternatives"]) == 1 and set(item["alternatives"][0]) == {"confidence", "content"}
        confidence = item["alternatives"][0]["confidence"]
        assert isinstance(confidence, str) and 0.0 <= float(confidence) <= 1.0
        if item["type"] == "pronunciation":
            assert set(item) == {"id", "type", "alternatives", "start_time", "end_time"}
            start, end = float(item["start_time"]), float(item["end_time"])
            assert isinstance(item["start_time"], str) and 0 <= start <= end <= 11.1
            assert start >= last_end - 0.05
            last_end = end
            assert any(ch.isalnum() for ch in item["alternatives"][0]["content"])
        else:
            assert item["type"] == "punctuation"
            assert set(item) == {"id", "type", "alternatives"}
            assert confidence == "0.0" and item["alternatives"][0]["content"] in ".,?!;:"
    words = [it["alternatives"][0]["content"] for it in items if it["type"] == "pronunciation"]
    assert normalise(" ".join(words)) == normalise(JFK_TEXT)
    assert any(it["type"] == "punctuation" for it in items)  # "Americans," etc.
    # audio segments cover every item exactly once, in order, with the segment's text
    covered = [i for seg in results["audio_segments"] for i in seg["items"]]
    assert covered == list(range(len(items)))
    for n, seg in enumerate(results["audio_segments"]):
        assert seg["id"] == n
        assert set(seg) == {"id", "transcript", "start_time", "end_time", "items"}
        assert float(seg["start_time"]) <= float(seg["end_time"])
    joined = " ".join(seg["transcript"] for seg in results["audio_segments"])
    assert joined == results["transcripts"][0]["transcript"]


def test_output_key_rules():
    assert output_key("my-first-transcription", "my-transcript.json") == "my-transcript.json"
    assert output_key("my-first-transcription", "my-transcript") == "my-transcript/my-first-transcription.json"
    assert output_key("j", "test-files/my-transcript.json") == "test-files/my-transcript.json"
    assert output_key("my-first-transcription", "test-files/my-transcript") == \
        "test-files/my-transcript/my-first-transcription.json"
    assert output_key("j", "test-files/") == "test-files/j.json"
    assert output_key("j", None) == "medical/j.json"


@pytest.mark.parametrize("key, expected", [
    ("test-files/my-transcript.json", "test-files/my-transcript.json"),
    ("test-files/my-transcript", "test-files/my-transcript/out-key-folder.json"),
])
def test_output_key_decides_where_the_file_goes(engine, key, expected):
    name = "out-key-file" if key.endswith(".json") else "out-key-folder"
    job = run(engine, name, AUDIO / "jfk.flac", OutputKey=key)
    assert job["Transcript"]["TranscriptFileUri"].endswith(f"/test-transcripts/{expected}")
    assert (engine.objects.root / "test-transcripts" / expected).is_file()


def test_starting_rejects_duplicates_unknown_media_and_vocabularies(engine):
    errors = engine.exceptions
    uri = engine.put_media(AUDIO / "jfk.flac", key="dup/jfk.flac")
    engine.start_medical_transcription_job(**job_request("dup-job", uri))
    with pytest.raises(errors.ConflictException, match="The requested job name already exists"):
        engine.start_medical_transcription_job(**job_request("dup-job", uri))
    with pytest.raises(errors.BadRequestException, match="can't be accessed"):
        engine.start_medical_transcription_job(**job_request("no-media", "s3://nowhere/missing.wav"))
    with pytest.raises(errors.BadRequestException, match="The requested vocabulary couldn't be found"):
        engine.start_medical_transcription_job(**job_request("no-vocab", uri, Settings={"VocabularyName": "nope"}))
    assert engine.store.get("no-media") is None and engine.store.get("no-vocab") is None
    engine.wait("dup-job", poll=0.2, timeout=120)


def test_queue_runs_in_order_and_delete_refuses_unfinished_jobs(engine):
    uri = engine.put_media(AUDIO / "jfk.flac", key="queue/jfk.flac")
    first = engine.start_medical_transcription_job(**job_request("queue-a", uri))["MedicalTranscriptionJob"]
    second = engine.start_medical_transcription_job(**job_request("queue-b", uri))["MedicalTranscriptionJob"]
    assert first["TranscriptionJobStatus"] in ("IN_PROGRESS", "QUEUED")
    assert second["TranscriptionJobStatus"] == "QUEUED"
    assert "StartTime" not in second
    with pytest.raises(engine.exceptions.BadRequestException, match="can't be deleted"):
        engine.delete_medical_transcription_job(MedicalTranscriptionJobName="queue-b")
    a = engine.wait("queue-a", poll=0.2, timeout=120)
    b = engine.wait("queue-b", poll=0.2, timeout=120)
    assert a["CompletionTime"] <= b["StartTime"]
    transcript = engine.transcript_path("queue-b")
    engine.delete_medical_transcription_job(MedicalTranscriptionJobName="queue-b")
    with pytest.raises(engine.exceptions.NotFoundException, match="The requested job couldn't be found"):
        engine.get_medical_transcription_job(MedicalTranscriptionJobName="queue-b")
    with pytest.raises(engine.exceptions.BadRequestException, match="couldn't be found"):
        engine.delete_medical_transcription_job(MedicalTranscriptionJobName="queue-b")
    assert transcript.is_file()  # deleting a job never deletes its transcript


def test_list_is_newest_first_filtered_and_paged(home):
    engine = LocalEngine(base=home, spawn_worker=False)  # no worker: jobs stay where they are
    uri = engine.put_media(AUDIO / "jfk.flac")
    names = ["Ward-A-1", "ward-a-2", "clinic-3", "WARD-a-4", "clinic-5", "ward-A-6", "other-7"]
    for name in names:
        engine.start_medical_transcription_job(**job_request(name, uri))
    listed = engine.list_medical_transcription_jobs(MaxResults=100)["MedicalTranscriptionJobSummaries"]
    assert [s["MedicalTranscriptionJobName"] for s in listed] == names[::-1]
    summary = listed[-1]
    assert set(summary) == {"MedicalTranscriptionJobName", "CreationTime", "StartTime", "LanguageCode",
                            "TranscriptionJobStatus", "OutputLocationType", "Specialty", "Type"}
    assert summary["OutputLocationType"] == "CUSTOMER_BUCKET" and isinstance(summary["CreationTime"], dt.datetime)

    ward = engine.list_medical_transcription_jobs(JobNameContains="wArD-a")["MedicalTranscriptionJobSummaries"]
    assert [s["MedicalTranscriptionJobName"] for s in ward] == ["ward-A-6", "WARD-a-4", "ward-a-2", "Ward-A-1"]

    pages, token = [], None
    while True:
        kwargs = {"MaxResults": 3, **({"NextToken": token} if token else {})}
        page = engine.list_medical_transcription_jobs(**kwargs)
        pages.append([s["MedicalTranscriptionJobName"] for s in page["MedicalTranscriptionJobSummaries"]])
        token = page.get("NextToken")
        if not token:
            break
    assert pages == [names[6:3:-1], names[3:0:-1], names[0:1]]
    assert len(engine.list_medical_transcription_jobs()["MedicalTranscriptionJobSummaries"]) == 5  # AWS default

    queued = engine.list_medical_transcription_jobs(Status="QUEUED", MaxResults=100)
    assert queued["Status"] == "QUEUED" and len(queued["MedicalTranscriptionJobSummaries"]) == 6
    with pytest.raises(engine.exceptions.BadRequestException, match="NextToken"):
        engine.list_medical_transcription_jobs(NextToken="not-a-token")


def test_jobs_survive_a_restart(engine, shared_home):
    if engine.store.get("jfk-dictation") is None:
        run(engine, "jfk-dictation", AUDIO / "jfk.flac")
    reopened = LocalEngine(base=shared_home)
    job = reopened.get_medical_transcription_job(MedicalTranscriptionJobName="jfk-dictation")["MedicalTranscriptionJob"]
    assert job["TranscriptionJobStatus"] == "COMPLETED"
    assert wer(JFK_TEXT, reopened.get_transcript("jfk-dictation")["results"]["transcripts"][0]["transcript"]) == 0


def test_model_setting_is_checked_up_front(home):
    from app.local.asr import ModelError

    with pytest.raises(ModelError, match="neither tiny.en, base nor a folder"):
        LocalEngine(base=home, model="large-v9")
    with pytest.raises(ModelError, match="not a CTranslate2 Whisper model folder"):
        LocalEngine(base=home, model=str(home))


def test_cancel_a_queued_and_a_running_job(home, tmp_path):
    import time

    import soundfile

    data, rate = soundfile.read(AUDIO.parent / "consultations" / "day1_consultation01.flac")
    long_wav = tmp_path / "long.wav"
    soundfile.write(long_wav, data, rate)
    engine = LocalEngine(base=home)
    uri = engine.put_media(long_wav)
    engine.start_medical_transcription_job(**job_request("long-running", uri))
    engine.start_medical_transcription_job(**job_request("waiting", uri))
    engine.start_medical_transcription_job(**job_request("after", engine.put_media(AUDIO / "jfk.flac")))
    engine.cancel_medical_transcription_job(MedicalTranscriptionJobName="waiting")
    waiting = engine.get_medical_transcription_job(MedicalTranscriptionJobName="waiting")["MedicalTranscriptionJob"]
    assert waiting["TranscriptionJobStatus"] == "FAILED" and waiting["FailureReason"] == "Cancelled by the user."
    deadline = time.monotonic() + 60
    while engine.store.get("long-running").attempts == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # decoding or transcribing by now
    started = time.monotonic()
    engine.cancel_medical_transcription_job(MedicalTranscriptionJobName="long-running")
    job = engine.get_medical_transcription_job(MedicalTranscriptionJobName="long-running")["MedicalTranscriptionJob"]
    assert job["TranscriptionJobStatus"] == "FAILED" and job["FailureReason"] == "Cancelled by the user."
    assert time.monotonic() - started < 5
    assert engine.wait("after", poll=0.2, timeout=120)["TranscriptionJobStatus"] == "COMPLETED"
    assert engine.media_path("long-running") == engine.objects.resolve(uri)
    assert engine.media_path("nobody") is None


def test_the_base_model_is_assembled_from_its_packages_and_used(home):
    engine = LocalEngine(base=home, model="base")
    folder = home / "models" / "base"
    assert engine.model_path == str(folder)
    assert (folder / "model.bin").stat().st_size > 140_000_000 and (folder / ".assembled").is_file()
    uri = engine.put_media(AUDIO / "jfk.flac")
    engine.start_medical_transcription_job(**job_request("base-model", uri))
    assert engine.wait("base-model", poll=0.2, timeout=300)["TranscriptionJobStatus"] == "COMPLETED"
    assert engine.store.get("base-model").options["model"] == "base"
    assert wer(JFK_TEXT, engine.get_transcript("base-model")["results"]["transcripts"][0]["transcript"]) == 0
    mtime = (folder / "model.bin").stat().st_mtime_ns
    LocalEngine(base=home, model="base")  # assembled once, not again
    assert (folder / "model.bin").stat().st_mtime_ns == mtime


def test_the_base_model_tokenizer_encodes_text_as_the_model_writes_it(home):
    """Hot words and the vocabulary term check encode text: it must give the decoder's own tokens."""
    from faster_whisper import decode_audio

    from app.local import asr

    model = asr.load_model(str(asr.resolve_model("base", base_home=home)))
    tokenizer = asr.english_tokenizer(model)
    segments, _ = model.transcribe(decode_audio(str(AUDIO / "jfk.flac")), language="en", beam_size=5)
    for segment in segments:  # "...what your country can do for you, ask what you..."
        written = [t for t in segment.tokens if t < tokenizer.eot]
        assert tokenizer.encode(tokenizer.decode(written)) == written
    assert [tokenizer.decode([t]) for t in tokenizer.encode(" the patient takes tablets")] == \
        [" the", " patient", " takes", " tablets"]
