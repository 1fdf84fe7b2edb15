"""The whole clinic, as an admin runs it: a real PostgreSQL (initdb), moto's S3 server over HTTP as the
clinic's object store, ``clinscribe serve --workers 2`` as a subprocess, a second box running
``clinscribe worker``, users from ``clinscribe server add-user``; clients are boto3 and ClinScribe's
own AWS engine (keys in the OS keyring). Real model (tiny.en), short clips of jfk.flac.

The tests share one clinic and run in order; the last one stops the server."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("moto.server")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: servers.*

from helpers import AUDIO, JFK_TEXT, job_request, normalise, wer  # noqa: E402
from servers.clinic import MEDIA, OUT, REGION, Clinic, job_params, start_moto, transcript_text, wait_done  # noqa: E402
from servers.postgres import PostgresServer, Unavailable  # noqa: E402

VOCABULARY = set(normalise(JFK_TEXT).split())
LEASE = 5.0


def clip(folder: Path, name: str, start: float, seconds: float, repeat: int = 1) -> Path:
    audio, rate = sf.read(AUDIO / "jfk.flac", dtype="float32")
    piece = audio[int(start * rate):int((start + seconds) * rate)]
    path = folder / f"{name}.flac"
    sf.write(path, np.concatenate([piece] * repeat), rate)
    return path


def said(doc: dict) -> list[str]:
    return normalise(doc["results"]["transcripts"][0]["transcript"]).split()


def assert_jfk_words(words: list[str]) -> None:
    assert words and sum(w in VOCABULARY for w in words) >= 0.7 * len(words), words


def worker_pid(worker_id: str) -> int:
    return int(worker_id.split("-")[-2])  # <host>-<pid>-<hex>


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    try:
        pg = PostgresServer()
    except Unavailable as exc:
        pytest.skip(str(exc))
    pg.start()
    old = os.environ.get("PGPASSWORD")  # tests/pg's server may have set its own for the session
    os.environ.update(pg.environ())  # this process reads the job store too
    moto, s3_url = start_moto()
    c = Clinic(tmp_path_factory.mktemp("clinic"), pg, s3_url, lease=LEASE)
    try:
        c.start_serve(workers=2)
        c.user = c.add_user("ward-3")
        c.clips = tmp_path_factory.mktemp("clips")
        yield c
    finally:
        c.close()
        moto.stop()
        pg.stop()
        if old is None:
            os.environ.pop("PGPASSWORD", None)
        else:
            os.environ["PGPASSWORD"] = old


def test_boto3_jobs_on_the_clinics_s3_complete_once_each(clinic):
    client = clinic.transcribe_client(clinic.user)
    cuts = [(0.0, 3.5), (3.5, 3.5), (7.0, 4.0)]
    names = []
    for i, (start, seconds) in enumerate(cuts):
        uri = clinic.upload(clip(clinic.clips, f"c{i}", start, seconds), f"ward-3/c{i}.flac")
        names.append(f"fs-clip-{i}")
        out = client.start_medical_transcription_job(**job_params(names[-1], uri))
        assert out["MedicalTranscriptionJob"]["TranscriptionJobStatus"] in ("QUEUED", "IN_PROGRESS")
    jobs = [wait_done(client, n) for n in names]
    assert [j["TranscriptionJobStatus"] for j in jobs] == ["COMPLETED"] * 3, [j.get("FailureReason") for j in jobs]
    words = []
    for job in jobs:
        uri = job["Transcript"]["TranscriptFileUri"]
        assert uri.startswith(f"{clinic.s3_url}/{OUT}/")  # on the clinic's store, path style
        doc = transcript_text(clinic.s3, uri)  # a plain S3 client, no ClinScribe code
        assert doc["jobName"] == job["MedicalTranscriptionJobName"]
        assert_jfk_words(said(doc))
        words += said(doc)
    assert wer(JFK_TEXT, " ".join(words)) < 0.35, words  # the three pieces say the sentence
    store = clinic.jobs()
    recs = [store.get(n) for n in names]
    store.close()
    assert [r.attempts for r in recs] == [1, 1, 1]
    claims = [e["job"] for e in clinic.serve.events("job_claimed")]
    assert sorted(claims) == sorted(r.seq for r in recs)  # each claimed once
    ready = {e["worker"] for e in clinic.serve.events("worker_ready")}
    assert len(ready) == 2 and {r.worker_id for r in recs} <= ready
    assert client.list_medical_transcription_jobs(Status="COMPLETED")["MedicalTranscriptionJobSummaries"]
    text = clinic.serve.log.read_text()
    assert "fs-clip" not in text and "ward-3/c" not in text  # no job names or media keys in the logs


def test_a_killed_box_has_its_job_finished_by_another_worker(clinic):
    client = clinic.transcribe_client(clinic.user)
    box = clinic.start_box(1)
    box_worker = box.events("worker_ready")[0]["worker"]
    uri = clinic.upload(clip(clinic.clips, "whole", 0, 11), "ward-3/whole.flac")
    names = [f"fs-box-{i}" for i in range(3)]
    for name in names:  # three jobs, three workers: the box gets one
        client.start_medical_transcription_job(**job_params(name, uri))
    claim = box.wait_for("job_claimed")[0]
    box.kill_box()  # SIGKILL to the box's supervisor and worker, mid-job
    jobs = {n: wait_done(client, n) for n in names}
    assert {j["TranscriptionJobStatus"] for j in jobs.values()} == {"COMPLETED"}
    store = clinic.jobs()
    recs = {n: store.get(n) for n in names}
    store.close()
    killed = next(r for r in recs.values() if r.seq == claim["job"])
    serve_workers = {e["worker"] for e in clinic.serve.events("worker_ready")}
    assert killed.attempts == 2 and killed.worker_id in serve_workers and killed.worker_id != box_worker
    assert [r.attempts for r in recs.values() if r is not killed] == [1, 1]
    # re-queued after the lease (by a worker's reaper or the front end's), then claimed again by the server's pool
    again = [e for e in clinic.serve.events("job_claimed") if e["job"] == killed.seq]
    assert [e["attempt"] for e in again] == [2] and again[0]["worker"] == killed.worker_id
    for job in jobs.values():
        words = said(transcript_text(clinic.s3, job["Transcript"]["TranscriptFileUri"]))
        assert wer(JFK_TEXT, " ".join(words)) < 0.2, words


def test_clinscribes_own_aws_engine_uses_the_clinic_server(clinic, tmp_path):
    from app.core.config import Settings
    from app.engine.aws import AwsEngine
    from app.store import credentials

    user = clinic.add_user("ward-4")
    try:
        credentials.save_aws_keys(user["AccessKeyId"], user["SecretAccessKey"])
    except credentials.CredentialStoreError as exc:
        pytest.skip(f"no usable OS keyring (run under scripts/test.sh): {exc}")
    try:
        ws = tmp_path / "workstation"
        ws.mkdir()
        Settings(engine="aws", aws_region=REGION, aws_endpoint_url=clinic.url, aws_s3_endpoint_url=clinic.s3_url,
                 aws_input_bucket=MEDIA, default_output_bucket=OUT).save(ws)
        engine = AwsEngine(base=ws)
        uri = engine.put_media(clip(tmp_path, "dictation", 0, 11), key="dictation.flac")
        assert uri.startswith(f"s3://{MEDIA}/")
        clinic.s3.head_object(Bucket=MEDIA, Key=uri.split("/", 3)[3])  # on the clinic's store
        engine.start_medical_transcription_job(**job_request("fs-aws-engine", uri, OutputBucketName=OUT))
        job = engine.wait("fs-aws-engine", timeout=180)
        assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
        doc = engine.get_transcript("fs-aws-engine")
        assert wer(JFK_TEXT, " ".join(said(doc))) < 0.2, said(doc)
        assert "OS keyring" in engine.credential_source
        # the server saw the request as ward-4's; ward-3 cannot see that job
        other = clinic.transcribe_client(clinic.user)
        with pytest.raises(other.exceptions.NotFoundException):
            other.get_medical_transcription_job(MedicalTranscriptionJobName="fs-aws-engine")
    finally:
        credentials.delete_aws_keys()


def test_sigterm_stops_the_server_and_its_workers_and_loses_no_job(clinic):
    client = clinic.transcribe_client(clinic.user)
    uri = clinic.upload(clip(clinic.clips, "long", 0, 11, repeat=2), "ward-3/long.flac")
    client.start_medical_transcription_job(**job_params("fs-at-shutdown", uri))
    store = clinic.jobs()
    deadline = time.monotonic() + 60
    while store.get("fs-at-shutdown").status != "IN_PROGRESS":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    pids = [worker_pid(e["worker"]) for e in clinic.serve.events("worker_ready")]
    pids = [p for p in pids if _alive(p)]
    assert pids  # the pool's live workers (a replaced one is gone already)
    clinic.serve.proc.send_signal(signal.SIGTERM)
    assert clinic.serve.proc.wait(120) == 0, clinic.serve.log.read_text()[-3000:]
    assert not [p for p in pids if _alive(p)]
    rec = store.get("fs-at-shutdown")
    store.close()
    assert rec.status in ("COMPLETED", "QUEUED"), (rec.status, rec.failure_reason)
    if rec.status == "COMPLETED":
        assert wer(JFK_TEXT + " " + JFK_TEXT, " ".join(said(transcript_text(clinic.s3, rec.transcript_uri)))) < 0.2
    else:
        assert rec.worker_id is None
    assert clinic.health() is None
    events = [e.get("event") for e in clinic.serve.events()]
    assert "pool_stopped" in events and events[-1] in ("pool_stopped", "stop")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
