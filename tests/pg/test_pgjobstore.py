"""The PostgreSQL job store on a real server: the JobStore methods, claims, leases, zombies."""

from __future__ import annotations

import threading
import time

import pytest

from app.engine.local import WORKER_DIED
from app.local.worker import CANCELLED
from app.store.jobstore import COMPLETED, FAILED, IN_PROGRESS, QUEUED
from app.store.pgjobstore import JobStoreConfigError, JobStoreUnavailable, PgJobStore
from helpers import job_request


@pytest.fixture()
def store(pg_url):
    s = PgJobStore(pg_url)
    yield s
    s.close()


def add(store, name, owner=None):
    return store.insert(name, job_request(name, f"s3://media/{name}.wav"), {"model": "tiny.en"}, owner=owner)


def test_insert_get_and_the_schema_is_made_once(store, pg_url):
    rec = add(store, "visit-1", owner="alice")
    assert rec.status == QUEUED and rec.start_time is None and rec.attempts == 0  # QUEUED until claimed
    assert rec.owner == "alice" and rec.request["Media"]["MediaFileUri"] == "s3://media/visit-1.wav"
    assert rec.creation_time == pytest.approx(time.time(), abs=60)
    assert add(store, "visit-1") is None  # the name is taken
    assert store.get("nope") is None
    again = PgJobStore(pg_url)  # a second front end on the same database
    assert again.get("visit-1") == store.get("visit-1")
    again.close()


def test_list_is_newest_first_paged_and_filtered_by_owner_status_and_name(store):
    for i in range(7):
        add(store, f"Clinic-{i}", owner="alice" if i % 2 else "bob")
    names = [r.name for r in store.list(limit=3)]
    assert names == ["Clinic-6", "Clinic-5", "Clinic-4"]
    cursor = store.list(limit=3)[-1].seq
    assert [r.name for r in store.list(limit=3, before_seq=cursor)] == ["Clinic-3", "Clinic-2", "Clinic-1"]
    assert [r.name for r in store.list(limit=10, owner="alice")] == ["Clinic-5", "Clinic-3", "Clinic-1"]
    assert len(store.list(limit=10, owner="bob")) == 4 and store.list(owner="carol") == []
    assert [r.name for r in store.list(limit=10, name_contains="nic-6")] == ["Clinic-6"]
    assert [r.name for r in store.list(limit=10, name_contains="CLINIC-%")] == []  # no wildcards
    store.claim_next("w1")
    assert [r.name for r in store.list(status=IN_PROGRESS)] == ["Clinic-0"]
    assert [r.name for r in store.active()][:2] == ["Clinic-0", "Clinic-1"]


def test_claims_are_oldest_first_and_never_shared_between_racing_workers(store):
    for i in range(20):
        add(store, f"job-{i}")
    got: dict[str, list[int]] = {}

    def worker(wid):
        s = PgJobStore(store.url, max_connections=1)
        mine = got.setdefault(wid, [])
        while (job := s.claim_next(wid)) is not None:
            mine.append(job.seq)
        s.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [seq for seqs in got.values() for seq in seqs]
    assert sorted(claimed) == sorted(r.seq for r in store.list(limit=50)) and len(set(claimed)) == 20
    assert all(r.attempts == 1 and r.status == IN_PROGRESS for r in store.list(limit=50))
    assert all(r.worker_id == wid for wid, seqs in got.items() for r in store.list(limit=50) if r.seq in seqs)


def test_finish_applies_only_for_the_worker_that_holds_the_job(store):
    add(store, "a")
    job = store.claim_next("w1", lease_seconds=0.5)
    assert store.heartbeat(job.seq, "w1") and not store.heartbeat(job.seq, "w2")
    assert not store.update(job.seq, worker_id="w2", progress=0.5)
    assert store.update(job.seq, worker_id="w1", progress=0.5, media_duration=3.0)
    time.sleep(1.2)
    assert store.requeue_dead(max_attempts=2) == [(job.seq, QUEUED)]  # w1's lease ran out
    assert store.get("a").status == QUEUED and store.get("a").worker_id is None
    again = store.claim_next("w2")
    assert again.seq == job.seq and again.attempts == 2
    # w1, a zombie, comes back and finishes late: nothing changes
    assert not store.finish(job.seq, failure_reason="late", worker_id="w1")
    assert not store.heartbeat(job.seq, "w1")
    assert store.finish(job.seq, transcript_uri="file:///t.json", worker_id="w2")
    rec = store.get("a")
    assert (rec.status, rec.transcript_uri, rec.worker_id, rec.attempts) == (COMPLETED, "file:///t.json", "w2", 2)
    assert not store.finish(job.seq, failure_reason="again", worker_id="w2")  # finished once


def test_a_job_out_of_attempts_fails_with_the_engine_reason(store):
    add(store, "b")
    for attempt in (1, 2):
        job = store.claim_next(f"w{attempt}", lease_seconds=0.3)
        assert job.attempts == attempt
        time.sleep(0.6)
        assert store.requeue_dead(max_attempts=2) == [(job.seq, QUEUED if attempt == 1 else FAILED)]
    rec = store.get("b")
    assert rec.status == FAILED and rec.failure_reason == WORKER_DIED and rec.completion_time is not None
    assert store.claim_next("w3") is None


def test_a_longer_lease_argument_wins_and_a_live_heartbeat_keeps_the_job(store):
    add(store, "c")
    job = store.claim_next("w1", lease_seconds=0.3)
    time.sleep(0.6)
    assert store.requeue_dead(lease_seconds=30) == []  # the front end's longer lease: not dead yet
    assert store.heartbeat(job.seq, "w1")
    assert store.requeue_dead() == []
    assert store.requeue_dead(worker_id="w1") == [(job.seq, QUEUED)]  # its supervisor saw it die


def test_release_gives_the_job_back_without_counting_the_attempt(store):
    add(store, "d")
    job = store.claim_next("w1")
    assert store.release(job.seq, "w2") == []
    assert store.release(job.seq, "w1") == [(job.seq, QUEUED)]
    rec = store.get("d")
    assert rec.status == QUEUED and rec.attempts == 0 and rec.worker_id is None
    assert store.claim_next("w2").attempts == 1


def test_cancel_a_queued_job_at_once_and_a_running_one_through_its_worker(store):
    add(store, "q")
    add(store, "r")
    running = store.claim_next("w1")
    assert running.name == "q"
    queued = store.get("r")
    assert store.request_cancel(queued.seq, CANCELLED) == FAILED
    assert store.get("r").failure_reason == CANCELLED and store.claim_next("w2") is None
    assert store.request_cancel(running.seq, CANCELLED) == IN_PROGRESS
    assert store.cancel_requested(running.seq) and not store.cancel_requested(queued.seq + 100)
    assert store.finish(running.seq, failure_reason=CANCELLED, worker_id="w1")
    assert store.request_cancel(running.seq, CANCELLED) == FAILED  # already over: left as it is
    # a cancelled job whose worker died or was stopped ends cancelled, never re-queued
    add(store, "s")
    job = store.claim_next("w3")
    store.request_cancel(job.seq, CANCELLED)
    assert store.release(job.seq, "w3") == [(job.seq, FAILED)]
    assert store.get("s").failure_reason == CANCELLED


def test_delete_and_add_completed(store):
    add(store, "e")
    store.delete("e")
    assert store.get("e") is None
    assert store.add_completed("rebuilt", job_request("rebuilt", ""), "file:///x.json", 1000.0)
    assert not store.add_completed("rebuilt", job_request("rebuilt", ""), "file:///x.json", 1000.0)
    rec = store.get("rebuilt")
    assert rec.status == COMPLETED and rec.completion_time == 1000.0 and rec.progress == 1.0


def test_urls_with_a_password_or_a_wrong_password_are_refused_with_a_reason(pg_server, monkeypatch):
    with pytest.raises(JobStoreConfigError, match="must not contain a password"):
        PgJobStore(pg_server.url().replace("clinscribe@", "clinscribe:secret@"))
    with pytest.raises(JobStoreConfigError, match="postgresql://"):
        PgJobStore("mysql://x@127.0.0.1/db")
    monkeypatch.setenv("PGPASSWORD", "wrong")
    with pytest.raises(JobStoreUnavailable, match="password authentication failed"):
        PgJobStore(pg_server.url())
