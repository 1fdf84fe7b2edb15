"""Fuzzed requests (hypothesis, derandomized): only botocore exceptions out of the engine; one line and
the documented exit codes out of the CLI."""

from __future__ import annotations

import botocore.exceptions
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import cli
from app.engine.local import LocalEngine

FUZZ = settings(max_examples=150, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40) | st.sampled_from(
    ["", "..", "../../x.json", "a\0b", "\udcff", "x" * 3000, "s3://b/k.wav", "file:///etc/passwd", "en-US"])
scalar = text | st.integers(-2 ** 70, 2 ** 70) | st.booleans() | st.none() | st.floats()
value = st.recursive(scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
                     max_leaves=8)
KEYS = ["Settings", "Tags", "ContentIdentificationType", "MediaFormat", "MediaSampleRateHertz",
        "KMSEncryptionContext", "OutputEncryptionKMSKeyId", "Bogus"]
media = st.fixed_dictionaries({"MediaFileUri": text})
start_request = st.fixed_dictionaries(
    {"MedicalTranscriptionJobName": text, "LanguageCode": st.sampled_from(["en-US", "de-DE"]) | text,
     "Media": media | value, "OutputBucketName": text, "Specialty": st.just("PRIMARYCARE") | text,
     "Type": st.sampled_from(["DICTATION", "CONVERSATION"]) | text},
    optional={**{k: value for k in KEYS}, "OutputKey": text | value})
OK = (botocore.exceptions.ClientError, botocore.exceptions.ParamValidationError)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    return LocalEngine(base=tmp_path_factory.mktemp("fuzz"), spawn_worker=False)


@FUZZ
@given(request=start_request)
def test_start_raises_only_aws_exceptions(engine, request):
    try:
        engine.start_medical_transcription_job(**request)
    except OK as exc:
        if isinstance(exc, botocore.exceptions.ClientError):
            assert exc.response["Error"]["Code"] in ("BadRequestException", "ConflictException")


@FUZZ
@given(op=st.sampled_from(["get", "list", "delete", "cancel"]), name=text, token=text | st.binary().map(
    lambda b: __import__("base64").urlsafe_b64encode(b).decode()), limit=st.integers(-5, 2 ** 40))
def test_other_operations_raise_only_aws_exceptions(engine, op, name, token, limit):
    call = {"get": lambda: engine.get_medical_transcription_job(MedicalTranscriptionJobName=name),
            "delete": lambda: engine.delete_medical_transcription_job(MedicalTranscriptionJobName=name),
            "cancel": lambda: engine.cancel_medical_transcription_job(MedicalTranscriptionJobName=name),
            "list": lambda: engine.list_medical_transcription_jobs(NextToken=token, MaxResults=limit)}[op]
    try:
        call()
    except OK:
        pass


CLI_ARGS = ["--medical-transcription-job-name", "--language-code", "--media", "--output-bucket-name",
            "--output-key", "--settings", "--tags", "--cli-input-json", "--specialty", "--type",
            "--media-sample-rate-hertz", "--next-token", "--max-results", "--bogus", "--status"]
argv = st.tuples(st.sampled_from(["start-medical-transcription-job", "get-medical-transcription-job",
                                  "list-medical-transcription-jobs", "delete-medical-transcription-job",
                                  "put-object", "nonsense"]),
                 st.lists(st.tuples(st.sampled_from(CLI_ARGS), text), max_size=4))


@FUZZ
@given(args=argv)
def test_cli_gives_one_line_and_a_documented_exit_code(home, capsys, args):
    command, pairs = args
    flat = [command] + [part for pair in pairs for part in pair]
    rc = cli.main(flat)
    err = capsys.readouterr().err
    assert rc in (0, 252, 254, 255)
    assert "Traceback" not in err
    if rc:
        assert len(err.strip().splitlines()) == 1, err
