"""The Transcribe API of the clinic server with boto3 and the AWS CLI: jobs, paging, vocabularies,
every error class, per-user visibility, health and metrics."""

from __future__ import annotations

import json
import math
import re
import time
import urllib.request
from pathlib import Path

import botocore.exceptions
import pytest

from helpers import JFK_TEXT, wer
from serverkit import job_params, loads, wait_done


def test_real_job_completes_and_its_transcript_is_readable(server, completed_job):
    job = completed_job
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    assert job["Media"]["MediaFileUri"] == server.jfk_uri and server.jfk_uri.startswith("s3://clinscribe-media/")
    assert job["CompletionTime"] >= job["StartTime"] >= job["CreationTime"].replace(microsecond=0)
    uri = job["Transcript"]["TranscriptFileUri"]
    path = Path(urllib.request.url2pathname(uri.removeprefix("file://")))  # same machine as the server
    transcript = json.loads(path.read_text())
    assert wer(JFK_TEXT, transcript["results"]["transcripts"][0]["transcript"]) < 0.3


def test_list_pages_with_max_results_and_next_token(server):
    pager = server.client("pager")
    names = [f"pager-{i}" for i in range(5)]
    for name in names:
        pager.start_medical_transcription_job(**job_params(name, server.junk_uri))
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"MaxResults": 2, **({"NextToken": token} if token else {})}
        page = pager.list_medical_transcription_jobs(**kwargs)
        pages += 1
        assert len(page["MedicalTranscriptionJobSummaries"]) <= 2
        seen += [s["MedicalTranscriptionJobName"] for s in page["MedicalTranscriptionJobSummaries"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == names[::-1] and pages == 3  # newest first, only this user's jobs
    with pytest.raises(pager.exceptions.BadRequestException, match="NextToken"):
        pager.list_medical_transcription_jobs(NextToken="not-a-token")


def test_delete_a_finished_job(server):
    c = server.client("deleter")
    c.start_medical_transcription_job(**job_params("deleter-1", server.junk_uri))
    job = wait_done(c, "deleter-1")
    assert job["TranscriptionJobStatus"] == "FAILED" and job["FailureReason"]
    c.delete_medical_transcription_job(MedicalTranscriptionJobName="deleter-1")
    with pytest.raises(c.exceptions.NotFoundException):
        c.get_medical_transcription_job(MedicalTranscriptionJobName="deleter-1")
    time.sleep(1.1)  # the same Delete signed in the same second is the same signature: a replay (test_auth)
    with pytest.raises(c.exceptions.BadRequestException, match="couldn't be found"):
        c.delete_medical_transcription_job(MedicalTranscriptionJobName="deleter-1")


def test_medical_vocabulary_round_trip(server, tmp_path):
    c = server.client("vocab")
    words = tmp_path / "cardio.txt"
    words.write_text("Phrase\tIPA\tSoundsLike\tDisplayAs\nmetoprolol\t\t\t\natorvastatin\t\t\t\n")
    uri = server.state.engine.put_media(words, "clinscribe-media", "vocabularies/cardio.txt")
    created = c.create_medical_vocabulary(VocabularyName="cardio", LanguageCode="en-US", VocabularyFileUri=uri)
    assert created["VocabularyState"] == "PENDING" and created["LastModifiedTime"].year >= 2024
    got = c.get_medical_vocabulary(VocabularyName="cardio")
    assert got["VocabularyState"] == "READY" and got["DownloadUri"]
    assert "cardio" in [v["VocabularyName"] for v in c.list_medical_vocabularies(NameContains="card")["Vocabularies"]]
    time.sleep(1.1)  # not the same second: else the same signature, refused as a replay
    with pytest.raises(c.exceptions.ConflictException):
        c.create_medical_vocabulary(VocabularyName="cardio", LanguageCode="en-US", VocabularyFileUri=uri)
    bad = tmp_path / "bad.txt"
    bad.write_text("Phrase\tIPA\tSoundsLike\tDisplayAs\n")  # no entries: FAILED
    bad_uri = server.state.engine.put_media(bad, "clinscribe-media", "vocabularies/bad.txt")
    c.update_medical_vocabulary(VocabularyName="cardio", LanguageCode="en-US", VocabularyFileUri=bad_uri)
    after = c.get_medical_vocabulary(VocabularyName="cardio")
    assert after["VocabularyState"] == "FAILED" and after["FailureReason"]
    c.delete_medical_vocabulary(VocabularyName="cardio")
    with pytest.raises(c.exceptions.NotFoundException):
        c.get_medical_vocabulary(VocabularyName="cardio")


def test_every_service_error_is_botocores_exception_class(server, completed_job):
    c = server.client("alice")
    with pytest.raises(c.exceptions.BadRequestException, match="isn.t supported for medical"):
        c.start_medical_transcription_job(**{**job_params("x-bad", server.jfk_uri), "LanguageCode": "fr-FR"})
    with pytest.raises(c.exceptions.BadRequestException, match="can't be accessed"):
        c.start_medical_transcription_job(**job_params("x-missing", "s3://clinscribe-media/nothing-here.wav"))
    with pytest.raises(c.exceptions.ConflictException) as conflict:
        c.start_medical_transcription_job(**job_params("alice-jfk", server.jfk_uri))
    assert conflict.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409  # the error shape's status
    with pytest.raises(c.exceptions.NotFoundException) as missing:
        c.get_medical_transcription_job(MedicalTranscriptionJobName="no-such-job")
    headers = missing.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-errortype"] == "NotFoundException" and headers["x-amzn-requestid"]
    assert missing.value.response["ResponseMetadata"]["RequestId"] == headers["x-amzn-requestid"]


def test_internal_failure_says_nothing_of_the_cause(server, monkeypatch):
    def broken(**params):
        raise RuntimeError("disk of patient Jane Roe exploded")

    monkeypatch.setattr(server.state.engine, "list_medical_vocabularies", broken)
    c = server.client("alice")
    with pytest.raises(c.exceptions.InternalFailureException) as exc:
        c.list_medical_vocabularies()
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "Jane" not in str(exc.value) and "internal error" in str(exc.value)
    assert not any("Jane" in line for line in server.log_lines)


def _rewrite(client, *, target: str | None = None, body: bytes | None = None):
    """Change what boto3 sends, before it signs it (so the server sees a correctly signed request)."""
    def handler(request, **_):
        if target:
            request.headers.replace_header("X-Amz-Target", target)
        if body is not None:
            request.data = body
            if "Content-Length" in request.headers:
                request.headers.replace_header("Content-Length", str(len(body)))
    client.meta.events.register_first("before-sign.transcribe.*", handler)


def test_unknown_operation_and_bad_json(server):
    c = server.client("alice")
    with pytest.raises(botocore.exceptions.ClientError) as exc:  # in the model, not a medical operation
        c.list_transcription_jobs()
    assert exc.value.response["Error"]["Code"] == "UnknownOperationException"
    _rewrite(c, target="Transcribe.NoSuchThing")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        c.list_medical_vocabularies()
    assert exc.value.response["Error"]["Code"] == "UnknownOperationException"
    c2 = server.client("alice")
    _rewrite(c2, body=b'{"MaxResults": 2,')
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        c2.list_medical_vocabularies()
    assert exc.value.response["Error"]["Code"] == "SerializationException"
    c3 = server.client("alice")
    _rewrite(c3, body=b'{"MaxResults": "two"}')
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        c3.list_medical_vocabularies()
    assert exc.value.response["Error"]["Code"] == "SerializationException"


def test_users_see_only_their_own_jobs_admin_sees_all(server, completed_job):
    bob, admin = server.client("bob"), server.client("root", **server.user("root", admin=True))
    with pytest.raises(bob.exceptions.NotFoundException):
        bob.get_medical_transcription_job(MedicalTranscriptionJobName="alice-jfk")
    names = [s["MedicalTranscriptionJobName"] for s in bob.list_medical_transcription_jobs(MaxResults=100)
             ["MedicalTranscriptionJobSummaries"]]
    assert "alice-jfk" not in names
    with pytest.raises(bob.exceptions.BadRequestException, match="couldn't be found"):
        bob.delete_medical_transcription_job(MedicalTranscriptionJobName="alice-jfk")
    with pytest.raises(bob.exceptions.ConflictException):  # a job name is unique server-wide
        bob.start_medical_transcription_job(**job_params("alice-jfk", server.jfk_uri))
    assert admin.get_medical_transcription_job(MedicalTranscriptionJobName="alice-jfk")[
        "MedicalTranscriptionJob"]["TranscriptionJobStatus"] == "COMPLETED"
    everyone = [s["MedicalTranscriptionJobName"] for s in admin.list_medical_transcription_jobs(MaxResults=100)
                ["MedicalTranscriptionJobSummaries"]]
    assert "alice-jfk" in everyone
    assert server.client("alice").get_medical_transcription_job(MedicalTranscriptionJobName="alice-jfk")


def test_health_and_metrics_after_a_job(server, completed_job):
    health = json.loads(urllib.request.urlopen(f"{server.url}/health", timeout=10).read())
    assert health["ok"] is True and health["engine"] == "local" and health["version"]
    assert health["jobs"]["COMPLETED"] >= 1 and health["queue_depth"] == health["jobs"]["QUEUED"] + health["jobs"]["IN_PROGRESS"]
    text = urllib.request.urlopen(f"{server.url}/metrics", timeout=10).read().decode()
    value = lambda pattern: float(re.search("^" + pattern + r" (\S+)$", text, re.M).group(1))  # noqa: E731
    assert value(r'clinscribe_jobs\{status="COMPLETED"\}') >= 1
    rtf = value("clinscribe_real_time_factor")
    assert math.isfinite(rtf) and 0 < rtf < 20
    assert value("clinscribe_recent_audio_seconds") >= 10  # jfk.flac is 11 s
    assert value(r'clinscribe_requests_total\{code="",operation="StartMedicalTranscriptionJob"\}') >= 1
    assert value(r'clinscribe_requests_total\{code="NotFoundException",operation="GetMedicalTranscriptionJob"\}') >= 0
    assert "clinscribe_jobs_completed_per_minute" in text and "clinscribe_queue_depth" in text


def test_request_log_lines_are_json_without_phi(server, completed_job):
    records = [json.loads(line) for line in server.log_lines]
    requests = [r for r in records if r.get("event") == "request"]
    assert any(r["operation"] == "StartMedicalTranscriptionJob" and r["user"] == "alice" and r["status"] == 200
               for r in requests)
    assert all({"operation", "status", "error", "duration_ms", "user"} <= set(r) for r in requests)
    text = "\n".join(server.log_lines)
    assert "alice-jfk" not in text and "jfk.flac" not in text and "ask not" not in text


def test_aws_cli_start_get_list(server, aws_cli):
    start = loads(aws_cli("carlos", "start-medical-transcription-job", "--medical-transcription-job-name", "cli-1",
                          "--language-code", "en-US", "--media", f"MediaFileUri={server.junk_uri}",
                          "--output-bucket-name", "clinscribe-transcripts", "--specialty", "PRIMARYCARE",
                          "--type", "DICTATION"))
    assert start["MedicalTranscriptionJob"]["MedicalTranscriptionJobName"] == "cli-1"
    got = loads(aws_cli("carlos", "get-medical-transcription-job", "--medical-transcription-job-name", "cli-1"))
    assert got["MedicalTranscriptionJob"]["Media"]["MediaFileUri"] == server.junk_uri
    created = got["MedicalTranscriptionJob"]["CreationTime"]  # AWS CLI v1 prints the epoch number as sent
    assert abs(float(created) - time.time()) < 120
    listed = loads(aws_cli("carlos", "list-medical-transcription-jobs"))
    assert [s["MedicalTranscriptionJobName"] for s in listed["MedicalTranscriptionJobSummaries"]] == ["cli-1"]
    missing = aws_cli("carlos", "get-medical-transcription-job", "--medical-transcription-job-name", "nope")
    assert missing.returncode == 255 and "(NotFoundException)" in missing.stderr  # AWS CLI v1: 255
