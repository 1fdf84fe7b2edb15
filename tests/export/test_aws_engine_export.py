"""``clinscribe export --engine aws``: a job of the AWS engine (moto's server on 127.0.0.1 plays
S3 and Transcribe; the transcript AWS writes is the real AWS sample with speaker labels)."""

from __future__ import annotations

import json
import os
import socket

import pytest

pytest.importorskip("moto.server")
from moto.server import ThreadedMotoServer  # noqa: E402

from app.core.config import Settings  # noqa: E402
from app.core.document import TranscriptDocument  # noqa: E402
from app.store.objectstore import parse_s3_uri  # noqa: E402
from checks import aws_sample  # noqa: E402
from helpers import AUDIO  # noqa: E402
from readback import aws_check, docx_parts  # noqa: E402

ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
       "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
       "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


@pytest.fixture
def aws_home(home, monkeypatch):
    import boto3
    import keyring
    from keyring.backends import null

    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(null.Keyring())  # never the developer's real AWS keys
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    url = f"http://127.0.0.1:{port}"
    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
    for bucket in ("export-in", "export-out"):
        s3.create_bucket(Bucket=bucket)
    Settings(engine="aws", aws_region="us-east-1", aws_endpoint_url=url, aws_input_bucket="export-in",
             default_output_bucket="export-out").save(home)
    yield home, s3
    moto.stop()
    keyring.set_keyring(previous)


def test_an_aws_job_exports_with_its_edits(aws_home, capsys, tmp_path):
    from app import cli
    from app.engine import create_engine

    home, s3 = aws_home
    engine = create_engine("aws", base=home)
    uri = engine.put_media(AUDIO / "jfk.flac")
    engine.start_medical_transcription_job(MedicalTranscriptionJobName="aws-visit", Media={"MediaFileUri": uri},
                                           LanguageCode="en-US", OutputBucketName="export-out",
                                           Specialty="PRIMARYCARE", Type="CONVERSATION")
    job = engine.wait("aws-visit", poll=0.2, timeout=120)
    assert job["TranscriptionJobStatus"] == "COMPLETED"
    bucket, key = parse_s3_uri(job["Transcript"]["TranscriptFileUri"])
    sample = dict(aws_sample("03-speaker-identification.json"), jobName="aws-visit")
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(sample).encode())

    doc = TranscriptDocument.open(engine.get_transcript("aws-visit"), home, "aws", "aws-visit")
    doc.rename_speaker("spk_0", "Dr. Ana Lee")
    doc.set_turn_text(0, doc.turn_text(0).replace("village on some errand", "clinic on some errand"))

    name = ["--engine", "aws", "--medical-transcription-job-name", "aws-visit"]
    assert cli.main(["note-header", *name, "--patient-name", "Smith, John", "--author", "Dr. Ana Lee"]) == 0
    assert json.loads(capsys.readouterr().out)["NoteHeader"]["patient_name"] == "Smith, John"
    assert cli.main(["export", *name, "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Dr. Ana Lee: She was gone out into the clinic on some errand")
    assert "Speaker 2:" in text
    out = tmp_path / "aws.docx"
    assert cli.main(["export", *name, "--format", "docx", "--output", str(out)]) == 0
    parts = docx_parts(out.read_bytes())
    assert parts["header"]["Patient"] == "Smith, John" and "clinic on some errand" in " ".join(parts["body"])
    assert cli.main(["export", *name, "--format", "aws-json"]) == 0
    data = aws_check(capsys.readouterr().out)
    assert "clinic on some errand" in data["results"]["transcripts"][0]["transcript"]
    assert data["results"]["speaker_labels"]["speakers"] == sample["results"]["speaker_labels"]["speakers"]
