"""Notes of the EHR tests, from the real AWS transcripts in ../shared/data/aws-samples."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from app.core.config import Settings
from app.core.document import TranscriptDocument
from app.export.note import NoteHeader, build_note
from helpers import DATA

SAMPLES = DATA / "aws-samples"
SAMPLE_FILES = ["01-plain.json", "02-channel-identification.json", "03-speaker-identification.json",
                "04-alternative-results.json"]
HEADER = dict(patient_id="MRN-004211", patient_id_system="urn:oid:2.16.840.1.113883.3.7418.2.1",
              patient_name="Garcia-O'Neil, María José", patient_birth_date="1961-07-14", encounter_id="ENC-88120",
              author_name="Okafor, Chidi", author_id="1234567893", organization="Riverside Family Practice",
              note_type="11506-3", service_date="2026-12-01")


def sample_doc(name: str) -> TranscriptDocument:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return TranscriptDocument(json.loads(path.read_text(encoding="utf-8")), job_name=f"aws-{path.stem}",
                              engine="aws")


def sample_note(name: str = "03-speaker-identification.json", **header):
    return build_note(sample_doc(name), NoteHeader(**{**HEADER, **header}),
                      created=dt.datetime(2026, 12, 2, 14, 2, tzinfo=dt.timezone.utc))


def settings_for(home, **values) -> Settings:
    settings = Settings(**values)
    settings.save(home)
    return settings
