"""Plain helpers of the server tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import json
import subprocess
import time


def job_params(name: str, uri: str) -> dict:
    return {"MedicalTranscriptionJobName": name, "LanguageCode": "en-US", "Media": {"MediaFileUri": uri},
            "OutputBucketName": "clinscribe-transcripts", "Specialty": "PRIMARYCARE", "Type": "DICTATION"}


def wait_done(client, name: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get_medical_transcription_job(MedicalTranscriptionJobName=name)["MedicalTranscriptionJob"]
        if job["TranscriptionJobStatus"] in ("COMPLETED", "FAILED"):
            return job
        assert time.monotonic() < deadline, f"{name} still {job['TranscriptionJobStatus']}"
        time.sleep(0.3)


def loads(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
