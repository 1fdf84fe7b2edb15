"""Local engine jobs whose media and transcripts live on an S3-compatible store (moto's server).

Real parts: moto's ThreadedMotoServer over HTTP on 127.0.0.1, a real LocalEngine and its worker
process with tiny.en on jfk.flac (three real-model jobs in all), plain boto3 clients.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

import boto3
import botocore.exceptions
import pytest

from s3kit import MEDIA, OUT, s3_engine
from helpers import AUDIO, JFK_TEXT, job_request, wer

from app.engine.local import LocalEngine

JFK = AUDIO / "jfk.flac"
VOCAB = b"Phrase\tIPA\tSoundsLike\tDisplayAs\nAmericans\t\t\t\ncountry\t\t\t\n"


def request(name: str, media_uri: str, **extra) -> dict:
    return job_request(name, media_uri, OutputBucketName=OUT, **extra)


def upload(s3, key: str, body: bytes | None = None) -> str:
    s3.put_object(Bucket=MEDIA, Key=key, Body=JFK.read_bytes() if body is None else body)
    return f"s3://{MEDIA}/{key}"


def text_of(doc: dict) -> str:
    return doc["results"]["transcripts"][0]["transcript"]


@pytest.fixture(scope="module")
def s3_job(engine, s3):
    """One real job: media uploaded with boto3, transcribed by the worker, transcript PutObject."""
    uri = upload(s3, "dictations/jfk.flac")
    engine.start_medical_transcription_job(**request("s3-jfk", uri))
    return engine.wait("s3-jfk", timeout=300)


def test_job_on_s3_completes_and_its_transcript_downloads_with_a_plain_s3_client(s3_job, s3, moto_s3):
    assert s3_job["TranscriptionJobStatus"] == "COMPLETED", s3_job.get("FailureReason")
    uri = s3_job["Transcript"]["TranscriptFileUri"]
    # AWS's path-style form on the clinic's endpoint: https?://<endpoint host>/<bucket>/<key>
    assert uri == f"{moto_s3}/{OUT}/medical/s3-jfk.json"
    bucket, _, key = urlparse(uri).path.lstrip("/").partition("/")
    doc = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert doc["jobName"] == "s3-jfk" and wer(JFK_TEXT, text_of(doc)) < 0.2


def test_s3_transcript_matches_the_local_bucket_job_on_the_same_file(s3_job, engine, tmp_path):
    local = LocalEngine(base=tmp_path / "local-home")  # the single-box default: local buckets
    uri = local.put_media(JFK, "clinscribe-media", "jfk.flac")
    local.start_medical_transcription_job(**job_request("local-jfk", uri))
    job = local.wait("local-jfk", timeout=300)
    assert job["TranscriptionJobStatus"] == "COMPLETED" and job["Transcript"]["TranscriptFileUri"].startswith("file://")
    assert text_of(engine.get_transcript("s3-jfk")) == text_of(local.get_transcript("local-jfk"))


def test_get_transcript_command_reads_it_back_from_s3(s3_job, engine, monkeypatch, capsys):
    from app import cli

    monkeypatch.setenv("CLINSCRIBE_HOME", str(engine.home))
    assert cli.main(["get-transcript", "--medical-transcription-job-name", "s3-jfk"]) == 0
    assert json.loads(capsys.readouterr().out)["jobName"] == "s3-jfk"
    assert engine.media_path("s3-jfk") is None  # not on this computer: nothing was copied to disk


def test_no_plaintext_copy_of_the_media_on_the_server(s3_job, engine):
    sizes = {p.stat().st_size for p in Path(engine.home).rglob("*") if p.is_file()}
    assert JFK.stat().st_size not in sizes


def test_a_transcript_object_is_never_overwritten(s3_job, engine, s3):
    before = s3.get_object(Bucket=OUT, Key="medical/s3-jfk.json")["Body"].read()
    engine.delete_medical_transcription_job(MedicalTranscriptionJobName="s3-jfk")  # history gone, object stays
    with pytest.raises(engine.exceptions.ConflictException, match="already exists"):
        engine.start_medical_transcription_job(**request("s3-jfk", f"s3://{MEDIA}/dictations/jfk.flac"))
    assert s3.get_object(Bucket=OUT, Key="medical/s3-jfk.json")["Body"].read() == before


def test_vocabulary_file_and_kms_encrypted_transcript_on_s3(engine, s3):
    s3.put_object(Bucket=MEDIA, Key="vocab/clinic.txt", Body=VOCAB)
    out = engine.create_medical_vocabulary(VocabularyName="clinic-terms", LanguageCode="en-US",
                                           VocabularyFileUri=f"s3://{MEDIA}/vocab/clinic.txt")
    assert out["VocabularyState"] == "PENDING"
    got = engine.get_medical_vocabulary(VocabularyName="clinic-terms")
    assert got["VocabularyState"] == "READY"
    assert Path(urlparse(got["DownloadUri"]).path).read_bytes() == VOCAB

    uri = upload(s3, "dictations/jfk-kms.flac")
    context = {"clinic": "north"}
    engine.start_medical_transcription_job(**request("s3-kms", uri, OutputKey="secure/",
                                                     OutputEncryptionKMSKeyId="alias/s3-notes",
                                                     KMSEncryptionContext=context,
                                                     Settings={"VocabularyName": "clinic-terms"}))
    job = engine.wait("s3-kms", timeout=300)
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    body = s3.get_object(Bucket=OUT, Key="secure/s3-kms.json")["Body"].read()
    assert body.startswith(b'{"ClinScribeEncryptedObject"') and b"country" not in body  # an envelope
    assert wer(JFK_TEXT, text_of(engine.get_transcript("s3-kms"))) < 0.2  # opened with the local key


# -- errors -----------------------------------------------------------------------------------
def test_missing_media_is_refused_at_start(engine):
    with pytest.raises(engine.exceptions.BadRequestException, match="The S3 URI that you provided can't be accessed"):
        engine.start_medical_transcription_job(**request("s3-missing", f"s3://{MEDIA}/no/such.flac"))
    with pytest.raises(engine.exceptions.BadRequestException, match="can't be accessed"):
        engine.start_medical_transcription_job(**request("s3-nobucket", "s3://no-such-media-bucket/a.flac"))
    assert engine.store.get("s3-missing") is None


def test_missing_output_bucket_is_refused_at_start(engine, s3):
    uri = upload(s3, "dictations/jfk-2.flac")
    with pytest.raises(engine.exceptions.BadRequestException, match="bucket no-such-output doesn't exist"):
        engine.start_medical_transcription_job(**job_request("s3-noout", uri, OutputBucketName="no-such-output"))


def test_media_deleted_before_the_worker_fails_the_job_with_aws_reason(tmp_path, moto_s3, s3):
    from app.local import worker

    engine = s3_engine(tmp_path / "home", moto_s3, spawn_worker=False)
    uri = upload(s3, "dictations/gone.flac")
    engine.start_medical_transcription_job(**request("s3-gone", uri))
    s3.delete_object(Bucket=MEDIA, Key="dictations/gone.flac")
    job = engine.store.claim_next()
    worker.run_job(engine.store, job)  # the worker's own code, in this process
    got = engine.get_medical_transcription_job(MedicalTranscriptionJobName="s3-gone")["MedicalTranscriptionJob"]
    assert got["TranscriptionJobStatus"] == "FAILED"
    assert got["FailureReason"] == worker.MEDIA_NOT_FOUND


def test_unreachable_store_is_an_aws_error_not_a_traceback(tmp_path, s3):
    from s3kit import free_port

    engine = s3_engine(tmp_path / "home", f"http://127.0.0.1:{free_port()}", spawn_worker=False)
    with pytest.raises(engine.exceptions.InternalFailureException, match="could not be reached"):
        engine.start_medical_transcription_job(**request("s3-down", f"s3://{MEDIA}/dictations/jfk.flac"))


def test_put_object_uploads_to_s3_sealed_when_encrypt_audio(tmp_path, moto_s3, s3):
    engine = s3_engine(tmp_path / "home", moto_s3, spawn_worker=False)
    assert engine.put_media(JFK, key="up/jfk.flac") == f"s3://{MEDIA}/up/jfk.flac"
    assert s3.get_object(Bucket=MEDIA, Key="up/jfk.flac")["Body"].read() == JFK.read_bytes()
    engine.settings.encrypt_audio = True
    engine.put_media(JFK, key="up/jfk-sealed.flac")
    sealed = s3.get_object(Bucket=MEDIA, Key="up/jfk-sealed.flac")["Body"].read()
    assert sealed.startswith(b'{"ClinScribeEncryptedObject"')
    source = engine.objects.open_media(f"s3://{MEDIA}/up/jfk-sealed.flac", engine.home)
    assert source.getvalue() == JFK.read_bytes() and source.name == "jfk-sealed.flac"
    engine.remove_media(f"s3://{MEDIA}/up/jfk.flac")
    with pytest.raises(botocore.exceptions.ClientError):
        boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1").head_object(Bucket=MEDIA, Key="up/jfk.flac")
