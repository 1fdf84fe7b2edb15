"""Bad requests (issue #10): AWS exceptions at the engine, one line and AWS CLI exit codes at the CLI."""

from __future__ import annotations

import base64
import json
import os

import botocore.exceptions
import pytest

from app import cli
from app.engine.local import LocalEngine
from helpers import job_request


@pytest.fixture()
def wav(tmp_path):
    import numpy as np
    import soundfile

    path = tmp_path / "tone.wav"
    soundfile.write(path, (0.1 * np.sin(np.arange(16000) / 5)).astype("float32"), 16000)
    return path


@pytest.fixture()
def engine(home):
    return LocalEngine(base=home, spawn_worker=False)  # no worker: nothing is decoded


@pytest.fixture()
def uri(engine, wav):
    return engine.put_media(wav, key="in/tone.wav")


def code_of(call) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call()
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def run_cli(capsys, *argv) -> tuple[int, str]:
    rc = cli.main(list(argv))
    err = capsys.readouterr().err
    return rc, err


# -- 1. output keys ----------------------------------------------------------------
@pytest.mark.parametrize("key, why", [("../../x.json", "leave the bucket"), ("a/" + "n" * 300 + ".json", "bytes")])
def test_output_key_the_local_bucket_cannot_hold_is_rejected_at_start(engine, uri, key, why):
    code, message = code_of(lambda: engine.start_medical_transcription_job(**job_request("k", uri, OutputKey=key)))
    assert code == "BadRequestException" and "OutputKey" in message and why in message
    assert engine.store.get("k") is None  # rejected before any work


def test_output_key_aws_accepts_is_still_accepted(engine, uri):
    job = engine.start_medical_transcription_job(**job_request("ok", uri, OutputKey="a/../b/c..d/x.json"))
    assert job["MedicalTranscriptionJob"]["TranscriptionJobStatus"] in ("QUEUED", "IN_PROGRESS")


# -- 2. orphan upload ---------------------------------------------------------------
def test_transcribe_removes_its_copy_when_the_job_is_rejected(home, wav, capsys):
    rc, err = run_cli(capsys, "transcribe", str(wav), "--output-key", "../../escape.json")
    assert rc == 254 and len(err.strip().splitlines()) == 1 and "OutputKey" in err
    engine = LocalEngine(base=home, spawn_worker=False)
    bucket = engine.objects.root / engine.settings.default_input_bucket
    assert not [p for p in bucket.rglob("*") if p.is_file()] if bucket.exists() else True


def test_transcribe_leaves_other_objects_alone(home, wav, capsys):
    engine = LocalEngine(base=home, spawn_worker=False)
    kept = engine.put_media(wav, key="mine/tone.wav")
    run_cli(capsys, "transcribe", str(wav), "--output-key", "../../escape.json")
    assert engine.objects.resolve(kept).is_file()


# -- 3. non-AWS exceptions at the engine ----------------------------------------------
def test_bad_media_uris_are_bad_requests(engine, tmp_path):
    loop = engine.objects.root / "loop"
    loop.mkdir(parents=True)
    os.symlink(loop / "a", loop / "b")
    os.symlink(loop / "b", loop / "a")
    for media in ("s3://bucket/a\0b.wav", "s3://bucket/" + "x" * 1900, "s3://loop/a/x.wav",
                  "file://" + "/x" * 600 + ".wav", "file:///tmp/a\0.wav", "s3://b/\udcff.wav"):
        code, _ = code_of(lambda: engine.start_medical_transcription_job(**job_request("m", media)))
        assert code == "BadRequestException", media


def test_file_uris_obey_the_2000_character_limit(engine):
    code, message = code_of(lambda: engine.start_medical_transcription_job(
        **job_request("long", "file://" + "/a" * 1200)))
    assert code == "BadRequestException" and "length less than or equal to 2000" in message


@pytest.mark.parametrize("token", ["%%%", "x" * 8000, base64.urlsafe_b64encode(b'{"before": 1e400}').decode(),
                                   base64.urlsafe_b64encode(b'{"before": 99999999999999999999999}').decode(),
                                   base64.urlsafe_b64encode(b"\xff\xfe").decode(),
                                   base64.urlsafe_b64encode(json.dumps({"before": [[[]]]}).encode()).decode()])
def test_bogus_next_tokens_are_bad_requests(engine, token):
    code, _ = code_of(lambda: engine.list_medical_transcription_jobs(NextToken=token))
    assert code == "BadRequestException"


# -- 3. the CLI ---------------------------------------------------------------------
def test_argparse_errors_are_one_line_and_252(home, capsys):
    for argv in (["start-medical-transcription-job", "--bogus"], ["no-such-command"],
                 ["list-medical-transcription-jobs", "--max-results", "many"]):
        rc, err = run_cli(capsys, *argv)
        assert rc == 252 and len(err.strip().splitlines()) == 1 and err.startswith("clinscribe: error:")


def test_deep_json_and_invalid_utf8_are_one_line_252(home, tmp_path, capsys):
    bad_file = tmp_path / "req.json"
    bad_file.write_bytes(b'{"LanguageCode": "\xff"}')
    for argv in (["start-medical-transcription-job", "--cli-input-json", "[" * 100000],
                 ["start-medical-transcription-job", "--cli-input-json", f"file://{bad_file}"],
                 ["start-medical-transcription-job", "--settings", "{" + '"a":{' * 50000],
                 ["get-medical-transcription-job", "--medical-transcription-job-name", "a\udcff"]):
        rc, err = run_cli(capsys, *argv)
        assert rc == 252 and len(err.strip().splitlines()) == 1, (argv[:2], err)


def test_put_object_key_leaving_the_bucket(home, wav, capsys, tmp_path):
    rc, err = run_cli(capsys, "put-object", str(wav), "--bucket", "b", "--key", "../../x.wav")
    assert rc == 252 and "leave the bucket" in err and len(err.strip().splitlines()) == 1
    assert not (home.parent / "x.wav").exists() and not (tmp_path / "x.wav").exists()
    rc, err = run_cli(capsys, "put-object", str(wav), "--bucket", "b", "--key", "/".join(["d" * 200] * 25))
    assert rc == 252 and "path of" in err and len(err.strip().splitlines()) == 1
