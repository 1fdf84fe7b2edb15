"""Plain helpers of the server tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import json
import subprocess

from servers.clinic import wait_done  # noqa: F401  (one poller for the server tests)


def job_params(name: str, uri: str) -> dict:
    return {"MedicalTranscriptionJobName": name, "LanguageCode": "en-US", "Media": {"MediaFileUri": uri},
            "OutputBucketName": "clinscribe-transcripts", "Specialty": "PRIMARYCARE", "Type": "DICTATION"}


def loads(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
