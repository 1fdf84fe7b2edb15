"""ClinScribe's AWS engine with its S3 client on a separate endpoint (``aws_s3_endpoint_url``):
Transcribe on one moto server, S3 on another (the clinic's store), both real servers over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config

from s3kit import MEDIA, OUT, free_port
from helpers import AUDIO, job_request

from app.core.config import Settings
from app.engine.aws import AwsEngine

JFK = AUDIO / "jfk.flac"
FAST = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)


@pytest.fixture(scope="module")
def transcribe_url(aws_env):
    """moto's server in a process of its own: two ThreadedMotoServers in one process share one state."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(10)


def aws_engine(home, transcribe_url, s3_url) -> AwsEngine:
    settings = Settings(engine="aws", aws_region="us-east-1", aws_endpoint_url=transcribe_url,
                        aws_s3_endpoint_url=s3_url, aws_input_bucket=MEDIA, aws_input_prefix="ws/",
                        default_output_bucket=OUT)
    return AwsEngine(settings=settings, base=home, client_config=FAST)


def test_uploads_go_to_the_separate_s3_endpoint(tmp_path, transcribe_url, moto_s3, s3):
    engine = aws_engine(tmp_path, transcribe_url, moto_s3)
    uri = engine.put_media(JFK, key="jfk.flac")
    assert uri == f"s3://{MEDIA}/ws/jfk.flac"
    assert s3.get_object(Bucket=MEDIA, Key="ws/jfk.flac")["Body"].read() == JFK.read_bytes()
    other = boto3.client("s3", endpoint_url=transcribe_url, region_name="us-east-1")
    assert [b["Name"] for b in other.list_buckets()["Buckets"]] == []  # nothing went to the Transcribe endpoint
    engine.remove_media(uri)
    assert s3.list_objects_v2(Bucket=MEDIA, Prefix="ws/jfk.flac").get("KeyCount") == 0


def test_job_on_transcribe_endpoint_transcript_from_the_s3_endpoint(tmp_path, transcribe_url, moto_s3, s3):
    engine = aws_engine(tmp_path, transcribe_url, moto_s3)
    uri = engine.put_media(JFK, key="job/jfk.flac")
    engine.start_medical_transcription_job(**job_request("aws-split", uri, OutputBucketName=OUT))
    for _ in range(5):  # moto advances one step per Get
        job = engine.get_medical_transcription_job(MedicalTranscriptionJobName="aws-split")["MedicalTranscriptionJob"]
        if job["TranscriptionJobStatus"] == "COMPLETED":
            break
    assert job["TranscriptionJobStatus"] == "COMPLETED"
    # moto announces AWS's form; the clinic's store holds the object (written here as AWS would)
    assert job["Transcript"]["TranscriptFileUri"].startswith("https://s3.us-east-1.amazonaws.com/")
    doc = {"jobName": "aws-split", "results": {"transcripts": [{"transcript": "from the clinic store"}], "items": []}}
    s3.put_object(Bucket=OUT, Key="medical/aws-split.json", Body=json.dumps(doc).encode())
    assert engine.get_transcript("aws-split")["results"]["transcripts"][0]["transcript"] == "from the clinic store"


def test_path_style_transcript_uri_on_a_custom_endpoint_is_downloaded(tmp_path, transcribe_url, moto_s3, s3,
                                                                     monkeypatch):
    """A clinic server's answer: TranscriptFileUri http(s)://<its S3 host>/<bucket>/<key>, a job this
    workstation did not start (no local record of its OutputBucketName)."""
    key = "clinic/other-ws.json"
    s3.put_object(Bucket=OUT, Key=key, Body=json.dumps({"jobName": "other-ws", "results": {}}).encode())
    job = {"MedicalTranscriptionJobName": "other-ws", "TranscriptionJobStatus": "COMPLETED",
           "Transcript": {"TranscriptFileUri": f"{moto_s3}/{OUT}/{key}"}}
    engine = aws_engine(tmp_path, transcribe_url, moto_s3)
    monkeypatch.setattr(engine, "get_medical_transcription_job",
                        lambda **params: {"MedicalTranscriptionJob": job})  # the server's response, as given
    assert engine.get_transcript("other-ws")["jobName"] == "other-ws"


def test_the_clinic_store_gets_its_own_keys_when_saved(tmp_path, transcribe_url, moto_s3, s3):
    """A clinic whose S3 (MinIO) logins differ from its Transcribe server's keys: after
    ``clinscribe s3-login`` the AWS engine signs its S3 calls with those, its Transcribe calls not."""
    from app.store import s3cli

    s3cli.save_keys("MINIOWORKSTATION7", "minio-secret-of-workstation-7")
    try:
        engine = aws_engine(tmp_path, transcribe_url, moto_s3)
        assert engine.s3._request_signer._credentials.access_key == "MINIOWORKSTATION7"
        session_key = engine.session.get_credentials().access_key   # the keyring's AWS keys or the environment's
        assert engine.transcribe._request_signer._credentials.access_key == session_key != "MINIOWORKSTATION7"
        uri = engine.put_media(JFK, key="own-keys/jfk.flac")
        assert s3.head_object(Bucket=MEDIA, Key="ws/own-keys/jfk.flac")["ContentLength"] == JFK.stat().st_size
        engine.remove_media(uri)
    finally:
        s3cli.delete_keys()
