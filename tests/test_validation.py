"""Every validation rule, with AWS's exception classes and messages.

Client-side errors are compared with what a real boto3 client raises for the same
request (botocore validates before sending, so no network is involved).
"""

from __future__ import annotations

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from app.core import service
from app.core.validation import validate

START = "StartMedicalTranscriptionJob"


def request(**changes):
    base = {
        "MedicalTranscriptionJobName": "visit-001",
        "LanguageCode": "en-US",
        "Media": {"MediaFileUri": "s3://clinic-media/visit-001.wav"},
        "OutputBucketName": "clinic-transcripts",
        "Specialty": "PRIMARYCARE",
        "Type": "DICTATION",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def bad_request_message(params, operation=START, **kwargs) -> str:
    with pytest.raises(service.exceptions().BadRequestException) as info:
        validate(operation, params, **kwargs)
    err = info.value
    assert isinstance(err, botocore.exceptions.ClientError)
    assert err.response["Error"]["Code"] == "BadRequestException"
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err.operation_name == operation
    return err.response["Error"]["Message"]


@pytest.fixture(scope="module")
def boto3_client():
    session = boto3.Session(botocore_session=service.botocore_session())
    return session.client("transcribe", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="y", endpoint_url="http://127.0.0.1:9",
                          config=Config(retries={"max_attempts": 1}, connect_timeout=1))


def test_a_good_request_passes():
    validate(START, request(Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 4},
                            Tags=[{"Key": "clinic", "Value": "north"}],
                            OutputEncryptionKMSKeyId="arn:aws:kms:us-east-1:111122223333:key/abcd",
                            KMSEncryptionContext={"department": "cardiology"},
                            ContentIdentificationType="PHI", MediaFormat="wav",
                            MediaSampleRateHertz=16000, OutputKey="notes/visit.json"))


@pytest.mark.parametrize("params", [
    request(Type=None),                                              # missing required
    request(Media={}, Specialty=None),                               # two missing
    request(Bogus=1),                                                # unknown member
    request(MediaSampleRateHertz="16000"),                           # wrong type
    request(MediaSampleRateHertz=8000),                              # below minimum
    request(Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 1}),
    request(Settings={"ShowAlternatives": True, "MaxAlternatives": 1}),
    request(MedicalTranscriptionJobName=""),                         # minimum length
    request(Tags=[]),                                                # list minimum
    request(Tags=[{"Key": "a"}]),                                    # Value required
])
def test_client_side_errors_are_botocores_own(params, boto3_client):
    with pytest.raises(botocore.exceptions.ParamValidationError) as ours:
        validate(START, params)
    with pytest.raises(botocore.exceptions.ParamValidationError) as theirs:
        boto3_client.start_medical_transcription_job(**params)
    assert str(ours.value) == str(theirs.value)
    assert str(ours.value).startswith("Parameter validation failed:")


def constraint(value, path, tail):
    return f"1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: Member must {tail}"


@pytest.mark.parametrize("changes, expected", [
    ({"MedicalTranscriptionJobName": "visit 001"},
     constraint("visit 001", "medicalTranscriptionJobName", "satisfy regular expression pattern: ^[0-9a-zA-Z._-]+")),
    ({"MedicalTranscriptionJobName": "a" * 201},
     constraint("a" * 201, "medicalTranscriptionJobName", "have length less than or equal to 200")),
    ({"LanguageCode": "en-XX"}, None),
    ({"MediaSampleRateHertz": 96000},
     constraint(96000, "mediaSampleRateHertz", "have value less than or equal to 48000")),
    ({"MediaFormat": "aiff"},
     constraint("aiff", "mediaFormat", "satisfy enum value set: [mp3, mp4, wav, flac, ogg, amr, webm, m4a]")),
    ({"Media": {"MediaFileUri": "ftp://host/a.wav"}},
     constraint("ftp://host/a.wav", "media.mediaFileUri", "satisfy regular expression pattern: (s3://|http(s*)://).+")),
    ({"OutputBucketName": "Clinic_Bucket"},
     constraint("Clinic_Bucket", "outputBucketName", "satisfy regular expression pattern: [a-z0-9][\\.\\-a-z0-9]{1,61}[a-z0-9]")),
    ({"OutputKey": "notes/visit#1.json"},
     constraint("notes/visit#1.json", "outputKey", "satisfy regular expression pattern: [a-zA-Z0-9-_.!*'()/]{1,1024}$")),
    ({"OutputEncryptionKMSKeyId": "-bad key"},
     constraint("-bad key", "outputEncryptionKMSKeyId",
                "satisfy regular expression pattern: ^[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,2048}$")),
    ({"Settings": {"ShowSpeakerLabels": True, "MaxSpeakerLabels": 31}},
     constraint(31, "settings.maxSpeakerLabels", "have value less than or equal to 30")),
    ({"Settings": {"ShowAlternatives": True, "MaxAlternatives": 11}},
     constraint(11, "settings.maxAlternatives", "have value less than or equal to 10")),
    ({"Settings": {"VocabularyName": "my vocab"}},
     constraint("my vocab", "settings.vocabularyName", "satisfy regular expression pattern: ^[0-9a-zA-Z._-]+")),
    ({"ContentIdentificationType": "PII"},
     constraint("PII", "contentIdentificationType", "satisfy enum value set: [PHI]")),
    ({"Specialty": "CARDIOLOGY"},
     constraint("CARDIOLOGY", "specialty", "satisfy enum value set: [PRIMARYCARE]")),
    ({"Type": "NOTE"}, constraint("NOTE", "type", "satisfy enum value set: [CONVERSATION, DICTATION]")),
    ({"Tags": [{"Key": "k" * 129, "Value": "v"}]},
     constraint("k" * 129, "tags.1.member.key", "have length less than or equal to 128")),
    ({"Tags": [{"Key": "k", "Value": "v" * 257}]},
     constraint("v" * 257, "tags.1.member.value", "have length less than or equal to 256")),
])
def test_server_side_constraints_use_aws_messages(changes, expected):
    message = bad_request_message(request(**changes))
    if expected is None:  # the enum message lists all ~120 language codes
        assert message.startswith("1 validation error detected: Value 'en-XX' at 'languageCode' failed to "
                                  "satisfy constraint: Member must satisfy enum value set: [af-ZA, ")
        assert "en-US" in message
    else:
        assert message == expected


def test_several_violations_are_counted_and_joined():
    message = bad_request_message(request(Type="NOTE", MedicalTranscriptionJobName="bad name"))
    assert message.startswith("2 validation errors detected: Value 'bad name' at 'medicalTranscriptionJobName'")
    assert "; Value 'NOTE' at 'type' failed to satisfy constraint" in message


def test_kms_context_limits():
    context = {f"k{i}": "v" for i in range(11)}
    message = bad_request_message(request(OutputEncryptionKMSKeyId="alias/clinic", KMSEncryptionContext=context))
    assert "at 'kMSEncryptionContext' failed to satisfy constraint: Member must have length less than or equal to 10" in message
    message = bad_request_message(request(OutputEncryptionKMSKeyId="alias/clinic", KMSEncryptionContext={"dept": "café"}))
    assert "at 'kMSEncryptionContext.dept'" in message and "regular expression pattern" in message
    message = bad_request_message(request(OutputEncryptionKMSKeyId="alias/clinic", KMSEncryptionContext={}))
    assert "Member must have length greater than or equal to 1" in message  # not checked client side
    message = bad_request_message(request(KMSEncryptionContext={"dept": "x"}))
    assert "OutputEncryptionKMSKeyId" in message


@pytest.mark.parametrize("changes, needle", [
    ({"LanguageCode": "de-DE"}, "The language code de-DE isn't supported for medical transcription"),
    ({"Settings": {"ShowSpeakerLabels": True}}, "you must also set MaxSpeakerLabels"),
    ({"Settings": {"MaxSpeakerLabels": 3}}, "MaxSpeakerLabels can be set only when ShowSpeakerLabels is true"),
    ({"Settings": {"ShowSpeakerLabels": False, "MaxSpeakerLabels": 3}}, "only when ShowSpeakerLabels is true"),
    ({"Settings": {"ShowAlternatives": True}}, "you must also set MaxAlternatives"),
    ({"Settings": {"MaxAlternatives": 3}}, "MaxAlternatives can be set only when ShowAlternatives is true"),
    ({"Settings": {"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2, "ChannelIdentification": True}},
     "can't use speaker labels and channel identification in the same request"),
    ({"Tags": [{"Key": f"k{i}", "Value": ""} for i in range(51)]}, "at most 50 tags"),
    ({"Tags": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]}, "duplicate tag keys"),
    ({"Tags": [{"Key": "aws:owner", "Value": "me"}]}, "reserved for AWS use"),
    ({"Media": {"MediaFileUri": "s3://a/b.wav", "RedactedMediaFileUri": "s3://a/c.wav"}}, "Call Analytics"),
    ({"Media": {}}, "Value null at 'media.mediaFileUri'"),
])
def test_medical_rules(changes, needle):
    assert needle in bad_request_message(request(**changes))


def test_file_uris_are_a_local_engine_extension_only():
    params = request(Media={"MediaFileUri": "file:///recordings/visit.wav"})
    validate(START, params, allow_file_uri=True)
    assert "media.mediaFileUri" in bad_request_message(params)


def test_other_operations_are_validated_too():
    assert "medicalTranscriptionJobName" in bad_request_message(
        {"MedicalTranscriptionJobName": "no spaces"}, "GetMedicalTranscriptionJob")
    assert "at 'status'" in bad_request_message({"Status": "DONE"}, "ListMedicalTranscriptionJobs")
    assert "at 'maxResults'" in bad_request_message({"MaxResults": 101}, "ListMedicalTranscriptionJobs")
    with pytest.raises(botocore.exceptions.ParamValidationError):
        validate("ListMedicalTranscriptionJobs", {"MaxResults": 0})


def test_exception_classes_are_the_ones_a_boto3_client_exposes(boto3_client):
    assert service.exceptions().BadRequestException is boto3_client.exceptions.BadRequestException
    assert service.exceptions().ConflictException is boto3_client.exceptions.ConflictException
    assert service.exceptions().NotFoundException is boto3_client.exceptions.NotFoundException
