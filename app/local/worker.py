"""The worker process: runs queued jobs one at a time, in order.

One worker per home folder (a file lock says which). It is a separate process
so a native crash in CTranslate2 takes down only the job it was running: the
engine sees the lock released, resumes that job once, then fails it cleanly.
The model is loaded once per worker. Logs carry job sequence numbers and error
types, never names, paths or text (they may hold PHI).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time
from pathlib import Path

import botocore.exceptions
from filelock import FileLock, Timeout

from . import asr, media, pipeline
from ..store import recovery
from ..store.jobstore import JobRecord, JobStore
from ..store.objectstore import ObjectNotFound
from ..store.s3store import StoreError, open_store
from ..store.workerstore import WorkerStore
from ..core.outputs import output_key
from ..store.kms import LocalKms

log = logging.getLogger("clinscribe.worker")



MEDIA_NOT_FOUND = "The media file couldn't be found. Check MediaFileUri and try your request again."
CANCELLED = "Cancelled by the user."
KMS_FAILURE = ("The KMS key you specified can't be used to encrypt the transcript. "
               "Check OutputEncryptionKMSKeyId and try your request again.")
AUDIO_KEY_FAILURE = ("The media file is encrypted at rest and its key (clinscribe-audio) is not in this "
                     "computer's keyring. Import the key (clinscribe kms import-key) and try your request again.")
INTERNAL_FAILURE = "Internal failure: the transcription could not be completed. Try your request again."


def lock_path(base: Path) -> Path:
    return Path(base) / "worker.lock"


def _watch_for_cancel(store: JobStore, job: JobRecord, done: threading.Event) -> None:
    """Cancel at once: native decoding cannot be interrupted, so record it and end this process.

    The lock goes with the process; the engine starts a new worker for the rest of the queue.
    """
    while not done.wait(0.3):
        if store.cancel_requested(job.seq):
            store.finish(job.seq, failure_reason=CANCELLED)
            log.info("job #%d cancelled", job.seq)
            logging.shutdown()
            os._exit(0)


class Beat:
    """Progress beats from the main thread (a thread of its own would beat through a deadlock)."""

    def __init__(self, workers: WorkerStore | None = None):
        self.workers, self.pid, self.last = workers, os.getpid(), 0.0

    def __call__(self, idle: bool = False, **values) -> None:
        now = time.monotonic()
        if self.workers is not None and (not idle or now - self.last >= 1.0):
            self.last = now
            self.workers.beat(self.pid, **values)


def run_job(store: JobStore, job: JobRecord, beat: Beat | None = None) -> None:
    beat = beat or Beat()
    beat(job_seq=job.seq, job_duration=0.0)
    done = threading.Event()
    threading.Thread(target=_watch_for_cancel, args=(store, job, done), daemon=True).start()
    try:
        _run_job(store, job, beat)
    finally:
        done.set()
        beat(job_seq=None, job_duration=0.0)


def _run_job(store: JobStore, job: JobRecord, beat: Beat) -> None:
    request, options = job.request, job.options
    objects = open_store(options)  # the local buckets, or the S3 store the engine was set to
    try:
        try:  # audio encrypted at rest (or read from S3) opens in memory; its key from the OS keyring
            source = objects.open_media(request["Media"]["MediaFileUri"],
                                        Path(options.get("kms_home") or store.path.parent))
        except botocore.exceptions.ClientError:
            store.finish(job.seq, failure_reason=AUDIO_KEY_FAILURE)
            log.info("job #%d failed: encrypted audio could not be opened", job.seq)
            return
        info = media.check(source, media_format=request.get("MediaFormat"),
                           sample_rate=request.get("MediaSampleRateHertz"),
                           max_bytes=options.get("max_media_bytes", media.MAX_FILE_BYTES))
        store.update(job.seq, media_format=info.media_format, media_sample_rate=info.sample_rate,
                     media_duration=info.duration)  # seconds of audio: the server's real-time factor
        beat(job_duration=info.duration)
        channels = media.decode(source, info.channels)
        beat()
        model = asr.load_model(options["model_path"], options["device"], options["compute_type"])
        beat()
        last = [0.0]

        def progress(fraction: float) -> None:  # each decoded batch: proof of progress
            now = time.monotonic()
            if now - last[0] > 0.5:
                last[0] = now
                store.update(job.seq, progress=round(fraction * 0.95, 3))
                beat()

        decode = asr.DecodeOptions(**options.get("decode", {}))
        doc = pipeline.transcribe_job(request, channels, model, decode=decode, progress=progress,
                                      account_id=options.get("account_id", pipeline.LOCAL_ACCOUNT_ID),
                                      vocabulary_text=options.get("vocabulary"),
                                      voice_commands=options.get("voice_commands", True),
                                      template=options.get("template"))
        key = output_key(request["MedicalTranscriptionJobName"], request.get("OutputKey"))
        body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        if request.get("OutputEncryptionKMSKeyId"):
            # envelope encryption for the local key the request names (its public half only)
            kms = LocalKms(Path(options.get("kms_home") or store.path.parent))
            try:
                body = kms.encrypt(body, request["OutputEncryptionKMSKeyId"], request.get("KMSEncryptionContext"),
                                   job_name=request["MedicalTranscriptionJobName"])
            except botocore.exceptions.ClientError:
                store.finish(job.seq, failure_reason=KMS_FAILURE)
                log.info("job #%d failed: KMS key unusable", job.seq)
                return
        if not getattr(store, "holds", lambda seq: True)(job.seq):  # a pool worker that lost its lease
            log.info("job #%d: no longer held by this worker; its transcript is not written", job.seq)
            return
        uri = objects.write_transcript(body, request["OutputBucketName"], key)  # file:// or the S3 URL
        store.finish(job.seq, transcript_uri=uri)
        log.info("job #%d completed", job.seq)
    except StoreError as exc:  # the S3 store: no bucket, denied, unreachable, transcript already there
        store.finish(job.seq, failure_reason=exc.reason)
        log.info("job #%d failed: object store %s", job.seq, exc.code)
    except ObjectNotFound as exc:
        store.finish(job.seq, failure_reason=getattr(exc, "reason", MEDIA_NOT_FOUND))
        log.info("job #%d failed: media not found", job.seq)
    except media.MediaError as exc:
        store.finish(job.seq, failure_reason=str(exc))
        log.info("job #%d failed: %s", job.seq, exc)
    except asr.ModelError:
        store.finish(job.seq, failure_reason="Internal failure: the speech model could not be loaded. "
                                             "Check the model setting and try your request again.")
        log.error("job #%d failed: model could not be loaded", job.seq)
    except Exception as exc:  # anything else fails the job, never the worker
        store.finish(job.seq, failure_reason=INTERNAL_FAILURE)
        log.error("job #%d failed: %s", job.seq, type(exc).__name__)


def serve(base: Path, idle_seconds: float = 30.0) -> int:
    """Run the queue of ``base`` until it has been empty for ``idle_seconds``."""
    store = JobStore(Path(base) / "jobs.db")
    lock = FileLock(str(lock_path(base)))
    try:
        lock.acquire(timeout=2)
    except Timeout:
        return 0  # another worker owns this queue
    import psutil

    workers = WorkerStore(Path(base) / "jobs.db")
    keeper = workers.keep_open()  # noqa: F841  (closed with the process)
    workers.register(os.getpid(), psutil.Process().create_time())  # who the watchdog may end
    beat = Beat(workers)
    try:
        idle_since = time.monotonic()
        while True:
            job = store.claim_next()
            if job is not None:
                run_job(store, job, beat)
                recovery.backup(base)  # rolling copy of jobs.db, for when the main file is damaged
                idle_since = time.monotonic()
                continue
            if time.monotonic() - idle_since < idle_seconds:
                beat(idle=True)
                time.sleep(0.2)
                continue
            lock.release()
            # A job submitted while we decided to stop saw the lock held and spawned nobody.
            if not store.active():
                return 0
            try:
                lock.acquire(timeout=2)
            except Timeout:
                return 0
            idle_since = time.monotonic()
    finally:
        workers.unregister(os.getpid())
        if lock.is_locked:
            lock.release()


def main(argv: list[str] | None = None) -> int:
    from ..core.privacy import restrict_new_files

    restrict_new_files()  # transcripts and logs: owner-only
    parser = argparse.ArgumentParser(prog="clinscribe _worker")
    parser.add_argument("--home", required=True)
    parser.add_argument("--idle-seconds", type=float,
                        default=float(os.environ.get("CLINSCRIBE_WORKER_IDLE", "30")))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        stream=sys.stderr)
    return serve(Path(args.home), args.idle_seconds)


if __name__ == "__main__":
    sys.exit(main())
