"""Real jobs for the exporter tests, made once per session with the real local engine."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import soundfile

from helpers import AUDIO, DATA, ROOT, job_request

CONSULTATIONS = DATA / "consultations"


@dataclass
class Job:
    name: str
    home: Path
    transcript: dict


def _excerpt(folder: Path, name: str, seconds: float) -> Path:
    data, rate = soundfile.read(CONSULTATIONS / f"{name}.flac")
    path = folder / f"{name}-{int(seconds)}s.wav"
    soundfile.write(path, data[: int(seconds * rate)], rate)
    return path


@pytest.fixture(scope="session")
def export_home(tmp_path_factory):
    return tmp_path_factory.mktemp("export-home")


@pytest.fixture(scope="session")
def jobs(export_home, tmp_path_factory):
    """name -> Job: a two-channel consultation with PHI and alternatives, a speaker-labelled
    meeting, a dictation. The engine's worker runs them one after another."""
    from app.engine.local import LocalEngine

    if not (CONSULTATIONS / "day3_consultation04.flac").exists():
        pytest.skip("../shared/data/consultations is not available")
    engine = LocalEngine(base=export_home)
    media = tmp_path_factory.mktemp("export-media")
    wanted = {
        "consult-phi": (_excerpt(media, "day3_consultation04", 45),
                        dict(Type="CONVERSATION", ContentIdentificationType="PHI",
                             Settings={"ChannelIdentification": True, "ShowAlternatives": True,
                                       "MaxAlternatives": 2})),
        "meeting-speakers": (AUDIO / "ami_debug" / "dev00.wav",
                             dict(Type="CONVERSATION", Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 4})),
        "dictation": (AUDIO / "jfk.flac", dict(Settings={"ShowAlternatives": True, "MaxAlternatives": 3})),
    }
    for name, (path, extra) in wanted.items():
        uri = engine.put_media(path, key=f"export/{name}/{path.name}")
        engine.start_medical_transcription_job(**job_request(name, uri, **extra))
    out = {}
    for name in wanted:
        job = engine.wait(name, poll=0.3, timeout=900)
        assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
        out[name] = Job(name, export_home, engine.get_transcript(name))
    return out


@pytest.fixture(scope="session")
def clinscribe(export_home):
    """The real command line, in the jobs' home."""

    def run(*args, check_rc=None, home=None):
        env = dict(os.environ, CLINSCRIBE_HOME=str(home or export_home))
        proc = subprocess.run([sys.executable, "-m", "app", *map(str, args)], capture_output=True, env=env,
                              cwd=ROOT, timeout=300, stdin=subprocess.DEVNULL)
        stderr = proc.stderr.decode("utf-8", "replace")
        assert "Traceback" not in stderr, stderr
        if check_rc is not None:
            assert proc.returncode == check_rc, stderr
        proc.stderr = stderr
        return proc

    return run
