"""SigV4 at the clinic server: unsigned, unknown key, wrong secret, expired and replayed requests are
refused with AWS's errors; users added and removed with the CLI."""

from __future__ import annotations

import datetime as dt
import json
from unittest import mock

import pytest
import urllib3
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

import boto3

HTTP = urllib3.PoolManager()


def _post(server, target: str, body: bytes, headers: dict | None = None):
    return HTTP.request("POST", server.url + "/", body=body, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target, **(headers or {})})


def _signed(server, user: str, target: str, body: dict) -> AWSRequest:
    """A request signed with botocore's signer, as a client on the wire would send it."""
    keys = server.user(user)
    request = AWSRequest("POST", server.url + "/", data=json.dumps(body).encode(),
                         headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target})
    SigV4Auth(Credentials(keys["aws_access_key_id"], keys["aws_secret_access_key"]), "transcribe",
              "us-east-1").add_auth(request)
    return request


def _send(request: AWSRequest):
    return HTTP.request(request.method, request.url, body=request.body, headers=dict(request.headers.items()))


def test_unsigned_request_is_refused(server):
    response = _post(server, "Transcribe.ListMedicalTranscriptionJobs", b"{}")
    assert response.status == 403
    assert json.loads(response.data) == {"__type": "MissingAuthenticationTokenException",
                                         "message": "Missing Authentication Token"}
    assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    unsigned = boto3.client("transcribe", endpoint_url=server.url, region_name="us-east-1",
                            config=Config(signature_version=UNSIGNED))
    with pytest.raises(unsigned.exceptions.ClientError) as exc:
        unsigned.list_medical_transcription_jobs()
    assert exc.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"


def test_unknown_access_key_is_refused(server):
    stranger = server.client(aws_access_key_id="UNKNOWN-KEY-OF-THIS-SERVER", aws_secret_access_key="x" * 40)
    with pytest.raises(stranger.exceptions.ClientError) as exc:
        stranger.list_medical_transcription_jobs()
    assert exc.value.response["Error"] == {"Code": "UnrecognizedClientException",
                                           "Message": "The security token included in the request is invalid."}


def test_wrong_secret_is_refused(server):
    keys = dict(server.user("alice"), aws_secret_access_key="not-alices-secret")
    with pytest.raises(boto3.client("transcribe", region_name="us-east-1").exceptions.ClientError) as exc:
        server.client(**keys).list_medical_transcription_jobs()
    assert exc.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert exc.value.response["Error"]["Message"].startswith("The request signature we calculated does not match")


def test_tampered_body_is_refused(server):
    request = _signed(server, "alice", "Transcribe.ListMedicalTranscriptionJobs", {"MaxResults": 1})
    response = HTTP.request("POST", request.url, body=b'{"MaxResults": 100}', headers=dict(request.headers.items()))
    assert response.status == 400 and json.loads(response.data)["__type"] == "InvalidSignatureException"


def test_expired_and_future_dates_are_refused(server):
    for offset, wording in ((-6, "Signature expired: "), (+6, "Signature not yet current: ")):
        when = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(minutes=offset)
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            with pytest.raises(boto3.client("transcribe", region_name="us-east-1").exceptions.ClientError) as exc:
                server.client("alice").list_medical_transcription_jobs()
        error = exc.value.response["Error"]
        assert error["Code"] == "InvalidSignatureException" and error["Message"].startswith(wording)
        assert when.strftime("%Y%m%dT%H%M%SZ") in error["Message"] and "5 min." in error["Message"]
    within = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(minutes=4)
    with mock.patch("botocore.auth.get_current_datetime", return_value=within):
        assert "MedicalTranscriptionJobSummaries" in server.client("alice").list_medical_transcription_jobs()


def test_a_replayed_change_is_refused_a_repeated_read_is_not(server, tmp_path):
    words = tmp_path / "replay.txt"
    words.write_text("Phrase\tIPA\tSoundsLike\tDisplayAs\nlisinopril\t\t\t\n")
    uri = server.state.engine.put_media(words, "clinscribe-media", "vocabularies/replay.txt")
    create = _signed(server, "alice", "Transcribe.CreateMedicalVocabulary",
                     {"VocabularyName": "replayed", "LanguageCode": "en-US", "VocabularyFileUri": uri})
    first = _send(create)
    assert first.status == 200, first.data
    delete = server.client("alice").delete_medical_vocabulary
    delete(VocabularyName="replayed")
    again = _send(create)  # captured on the wire, sent again: would re-create what was deleted
    assert again.status == 400
    body = json.loads(again.data)
    assert body["__type"] == "InvalidSignatureException" and "already been used" in body["message"]
    with pytest.raises(server.client("alice").exceptions.NotFoundException):
        server.client("alice").get_medical_vocabulary(VocabularyName="replayed")
    read = _signed(server, "alice", "Transcribe.ListMedicalVocabularies", {})
    assert _send(read).status == 200 and _send(read).status == 200  # a fast poll repeats a read


def test_add_list_remove_user_with_the_cli(server):
    added = json.loads(server.cli("server", "add-user", "dana").stdout)
    assert added["UserName"] == "dana" and added["AccessKeyId"].startswith("AKIA") and len(added["AccessKeyId"]) == 20
    assert len(added["SecretAccessKey"]) >= 40
    dana = server.client(aws_access_key_id=added["AccessKeyId"], aws_secret_access_key=added["SecretAccessKey"])
    assert dana.list_medical_transcription_jobs()["MedicalTranscriptionJobSummaries"] == []
    listed = server.cli("server", "list-users").stdout
    assert added["AccessKeyId"] in listed and added["SecretAccessKey"] not in listed
    assert "dana" in [u["UserName"] for u in json.loads(listed)["Users"]]
    taken = server.cli("server", "add-user", "dana", check=False)
    assert taken.returncode != 0 and "already exists" in taken.stderr and "Traceback" not in taken.stderr
    server.cli("server", "remove-user", "dana")
    with pytest.raises(dana.exceptions.ClientError) as exc:
        dana.list_medical_transcription_jobs()
    assert exc.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert (server.home / "jobs.db").stat().st_mode & 0o077 == 0  # the secrets' file is owner-only


def test_admin_flag_from_the_cli_sees_all_jobs(server, completed_job):
    admin = json.loads(server.cli("server", "add-user", "clinic-admin", "--admin").stdout)
    assert admin["Admin"] is True
    client = server.client(aws_access_key_id=admin["AccessKeyId"], aws_secret_access_key=admin["SecretAccessKey"])
    assert client.get_medical_transcription_job(MedicalTranscriptionJobName="alice-jfk")
