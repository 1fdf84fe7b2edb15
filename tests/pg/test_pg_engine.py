"""Two front ends (LocalEngine in two homes) on one PostgreSQL: one job history, one set of vocabularies."""

from __future__ import annotations

from pathlib import Path

import botocore.exceptions
import pytest

from app.core.config import Settings
from app.engine.local import LocalEngine
from helpers import AUDIO, job_request

GOOD = b"Phrase\tIPA\tSoundsLike\tDisplayAs\nLisinopril\t\t\t\nblood-pressure\t\t\tblood pressure\n"


@pytest.fixture()
def front_ends(pg_url, tmp_path):
    shared = tmp_path / "buckets"
    engines = []
    for name in ("desk", "ward"):
        home = tmp_path / name
        home.mkdir()
        Settings(job_store_url=pg_url, storage_root=str(shared)).save(home)
        engines.append(LocalEngine(base=home))
    yield engines
    for e in engines:
        e.store.close()


def test_jobs_started_on_one_front_end_are_seen_paged_and_deleted_on_another(front_ends, tmp_path):
    desk, ward = front_ends
    uri = desk.put_media(AUDIO / "jfk.flac")
    for i in range(3):
        desk.start_medical_transcription_job(**job_request(f"shared-{i}", uri))
    with pytest.raises(botocore.exceptions.ClientError) as err:  # the name is taken, whoever took it
        ward.start_medical_transcription_job(**job_request("shared-1", uri))
    assert err.value.response["Error"]["Code"] == "ConflictException"
    page = ward.list_medical_transcription_jobs(MaxResults=2)
    assert [s["MedicalTranscriptionJobName"] for s in page["MedicalTranscriptionJobSummaries"]] == ["shared-2", "shared-1"]
    rest = ward.list_medical_transcription_jobs(MaxResults=2, NextToken=page["NextToken"])
    assert [s["MedicalTranscriptionJobName"] for s in rest["MedicalTranscriptionJobSummaries"]] == ["shared-0"]
    assert "NextToken" not in rest
    assert {s["TranscriptionJobStatus"] for s in rest["MedicalTranscriptionJobSummaries"]} == {"QUEUED"}
    ward.cancel_medical_transcription_job(MedicalTranscriptionJobName="shared-0")  # QUEUED: FAILED at once
    job = desk.get_medical_transcription_job(MedicalTranscriptionJobName="shared-0")["MedicalTranscriptionJob"]
    assert job["TranscriptionJobStatus"] == "FAILED" and job["FailureReason"] == "Cancelled by the user."
    desk.delete_medical_transcription_job(MedicalTranscriptionJobName="shared-0")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        ward.get_medical_transcription_job(MedicalTranscriptionJobName="shared-0")
    assert err.value.response["Error"]["Code"] == "NotFoundException"
    assert desk._children == [] and ward._children == []  # no per-home worker: the pool runs jobs


def test_vocabularies_are_shared_between_front_ends(front_ends, tmp_path):
    desk, ward = front_ends
    source = tmp_path / "cardiology.txt"
    source.write_bytes(GOOD)
    uri = desk.upload_vocabulary_file(source)
    desk.create_medical_vocabulary(VocabularyName="cardio", LanguageCode="en-US", VocabularyFileUri=uri)
    got = ward.get_medical_vocabulary(VocabularyName="cardio")
    assert got["VocabularyState"] == "READY"
    assert Path(got["DownloadUri"].removeprefix("file://")).read_bytes() == GOOD
    listed = ward.list_medical_vocabularies(StateEquals="READY")["Vocabularies"]
    assert [v["VocabularyName"] for v in listed] == ["cardio"]
    media = ward.put_media(AUDIO / "jfk.flac")
    out = ward.start_medical_transcription_job(**job_request("with-vocab", media,
                                                              Settings={"VocabularyName": "cardio"}))
    assert out["MedicalTranscriptionJob"]["Settings"]["VocabularyName"] == "cardio"
    assert "Lisinopril" in desk.store.get("with-vocab").options["vocabulary"]  # snapshotted for any worker
    ward.delete_medical_vocabulary(VocabularyName="cardio")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        desk.get_medical_vocabulary(VocabularyName="cardio")
    assert err.value.response["Error"]["Code"] == "NotFoundException"
