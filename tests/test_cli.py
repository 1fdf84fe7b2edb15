"""The command line as a user runs it: a real process, real jobs, AWS CLI-shaped output."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from helpers import AUDIO, JFK_TEXT, ROOT, wer


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    home = tmp_path_factory.mktemp("cli-home")

    def run(*args, check_rc=None):
        env = dict(os.environ, CLINSCRIBE_HOME=str(home))
        proc = subprocess.run([sys.executable, "-m", "app", *map(str, args)], capture_output=True,
                              text=True, env=env, cwd=ROOT, timeout=300, stdin=subprocess.DEVNULL)
        assert "Traceback" not in proc.stderr
        if check_rc is not None:
            assert proc.returncode == check_rc, proc.stderr
        return proc

    run.home = home
    return run


def test_transcribe_one_step(cli):
    proc = cli("transcribe", AUDIO / "jfk.flac", "--text", check_rc=0)
    lines = proc.stdout.strip().splitlines()
    assert wer(JFK_TEXT, lines[0]) == 0
    # a neutral job name: a file name may carry a patient's name into the job list
    assert lines[-1].startswith("Job clinscribe-") and " COMPLETED. Transcript: file://" in lines[-1]
    assert "jfk" not in lines[-1].split(" COMPLETED")[0]
    path = lines[-1].split("Transcript: file://", 1)[1]
    assert json.loads(open(path).read())["status"] == "COMPLETED"


def test_aws_cli_twin_round_trip(cli, tmp_path):
    uri = cli("put-object", AUDIO / "jfk.flac", "--bucket", "clinic-media", "--key", "in/jfk.flac",
              check_rc=0).stdout.strip()
    assert uri == "s3://clinic-media/in/jfk.flac"
    proc = cli("start-medical-transcription-job",
               "--medical-transcription-job-name", "cli-job-1", "--language-code", "en-US",
               "--media", f"MediaFileUri={uri}", "--output-bucket-name", "clinic-notes",
               "--output-key", "notes/", "--specialty", "PRIMARYCARE", "--type", "DICTATION",
               "--settings", "ChannelIdentification=false,ShowAlternatives=false",
               "--tags", "Key=clinic,Value=north", "Key=room,Value=4",
               "--output-encryption-kms-key-id", "alias/clinic-key",
               "--kms-encryption-context", "department=primary,site=north",
               "--media-format", "flac", "--wait", check_rc=0)
    job = json.loads(proc.stdout)["MedicalTranscriptionJob"]
    assert job["TranscriptionJobStatus"] == "COMPLETED"
    assert job["Tags"] == [{"Key": "clinic", "Value": "north"}, {"Key": "room", "Value": "4"}]
    assert job["Transcript"]["TranscriptFileUri"].endswith("/clinic-notes/notes/cli-job-1.json")
    assert job["CompletionTime"].endswith("+00:00") or "T" in job["CompletionTime"]
    assert "COMPLETED" in proc.stderr and "100%" in proc.stderr  # the progress bar

    got = json.loads(cli("get-medical-transcription-job", "--medical-transcription-job-name", "cli-job-1",
                         check_rc=0).stdout)["MedicalTranscriptionJob"]
    assert got["MediaFormat"] == "flac" and got["MediaSampleRateHertz"] == 44100

    text = cli("get-transcript", "--medical-transcription-job-name", "cli-job-1", "--text", check_rc=0).stdout
    assert wer(JFK_TEXT, text) == 0

    request = {"MedicalTranscriptionJobName": "cli-job-2", "LanguageCode": "en-US", "Media": {"MediaFileUri": uri},
               "OutputBucketName": "clinic-notes", "Specialty": "PRIMARYCARE", "Type": "CONVERSATION"}
    (tmp_path / "req.json").write_text(json.dumps(request))
    started = json.loads(cli("start-medical-transcription-job", "--cli-input-json", f"file://{tmp_path / 'req.json'}",
                             check_rc=0).stdout)["MedicalTranscriptionJob"]
    assert started["TranscriptionJobStatus"] in ("IN_PROGRESS", "QUEUED") and started["Type"] == "CONVERSATION"

    listed = json.loads(cli("list-medical-transcription-jobs", "--job-name-contains", "CLI-JOB",
                            check_rc=0).stdout)["MedicalTranscriptionJobSummaries"]
    assert [s["MedicalTranscriptionJobName"] for s in listed] == ["cli-job-2", "cli-job-1"]

    deleted = cli("delete-medical-transcription-job", "--medical-transcription-job-name", "cli-job-1", check_rc=0)
    assert deleted.stdout == ""

    cli("cancel-medical-transcription-job", "--medical-transcription-job-name", "cli-job-2", check_rc=0)
    job2 = json.loads(cli("get-medical-transcription-job", "--medical-transcription-job-name", "cli-job-2",
                          check_rc=0).stdout)["MedicalTranscriptionJob"]
    # it had either finished already or ends cancelled
    assert job2["TranscriptionJobStatus"] == "COMPLETED" or job2["FailureReason"] == "Cancelled by the user."


@pytest.mark.parametrize("args, rc, message", [
    (["start-medical-transcription-job", "--medical-transcription-job-name", "bad name", "--language-code", "en-US",
      "--media", "MediaFileUri=s3://a/b.wav", "--output-bucket-name", "out-b", "--specialty", "PRIMARYCARE",
      "--type", "DICTATION"], 254,
     "An error occurred (BadRequestException) when calling the StartMedicalTranscriptionJob operation: "
     "1 validation error detected: Value 'bad name' at 'medicalTranscriptionJobName' failed to satisfy "
     "constraint: Member must satisfy regular expression pattern: ^[0-9a-zA-Z._-]+"),
    (["start-medical-transcription-job", "--medical-transcription-job-name", "x"], 252,
     "Parameter validation failed: Missing required parameter in input: \"LanguageCode\""),
    (["get-medical-transcription-job", "--medical-transcription-job-name", "nobody"], 254,
     "An error occurred (NotFoundException) when calling the GetMedicalTranscriptionJob operation: "
     "The requested job couldn't be found. Check the job name and try your request again."),
    (["start-medical-transcription-job", "--settings", "ShowSpeakerLabels=maybe"], 252, "Invalid boolean value"),
    (["transcribe", "/no/such/file.wav"], 252, "No such file"),
    (["transcribe", AUDIO / "jfk.flac", "--model", "/nonexistent"], 255, "neither tiny.en, base nor a folder"),
])
def test_errors_are_one_line_with_aws_cli_exit_codes(cli, args, rc, message):
    proc = cli(*args)
    assert proc.returncode == rc
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_bad_recording_fails_with_the_aws_reason(cli, tmp_path):
    fake = tmp_path / "dictation.mp3"
    fake.write_bytes(b"\x00" * 4096)
    proc = cli("transcribe", fake)
    assert proc.returncode == 1
    assert "FAILED: Unsupported media format" in proc.stderr


def test_models_and_settings(cli):
    models = json.loads(cli("models", check_rc=0).stdout)
    assert models["Device"] == "cpu" and models["ComputeType"] == "int8"
    assert {m["Model"]: m["Available"] for m in models["Models"]}["tiny.en"] is True
    settings = json.loads(cli("settings", "--device", "cpu", check_rc=0).stdout)
    assert settings["device"] == "cpu" and settings["Home"] == str(cli.home)
    assert json.loads((cli.home / "settings.json").read_text())["device"] == "cpu"
    bad = cli("settings", "--model", "/nonexistent")
    assert bad.returncode == 255 and json.loads((cli.home / "settings.json").read_text())["model"] == "tiny.en"


def test_untranscribed_speech_is_reported_in_one_line(capsys):
    from app.cli import _warn_untranscribed

    _warn_untranscribed({"untranscribed_speech": [{"start_time": "4.25", "end_time": "5.5", "channel_label": "ch_1"}]})
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["Note: 1 stretch(es) of speech could not be transcribed: 4.2-5.5 s (ch_1). Listen to them in the app."]
    _warn_untranscribed({"transcripts": [{"transcript": "x"}]})
    assert capsys.readouterr().err == ""


def test_job_names_are_neutral_unless_the_file_name_is_asked_for():
    from app.core.outputs import job_name
    from app.core.validation import START, validate

    names = {job_name() for _ in range(20)}
    assert len(names) == 20 and all(n.startswith("clinscribe-") for n in names)
    named = job_name("Smith, John 12.03")
    assert named.startswith("Smith-John-12.03-")
    for n in (*names, named, job_name("x" * 300)):  # valid AWS job names
        validate(START, {"MedicalTranscriptionJobName": n, "LanguageCode": "en-US",
                         "Media": {"MediaFileUri": "s3://clinic-media/k.wav"}, "OutputBucketName": "clinic-notes",
                         "Specialty": "PRIMARYCARE", "Type": "DICTATION"})
