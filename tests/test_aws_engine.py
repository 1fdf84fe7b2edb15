"""The AWS engine against moto's server over HTTP (S3 + Transcribe), with faults injected.

Layout: boto3 (the engine, or the CLI in a subprocess) → a small fault-injecting
proxy (``FaultProxy``) → moto's ThreadedMotoServer, all on 127.0.0.1.
moto writes no transcript, so a test worker thread plays AWS's part: when moto
announces COMPLETED (through the proxy), the worker writes the transcript that
the REAL local pipeline (tiny.en) produced from the same audio at the key moto
announced, before the answer reaches the client — as AWS has the file in place
when it reports COMPLETED.
"""

from __future__ import annotations

import copy
import http.client
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

pytest.importorskip("moto.server")
from moto.server import ThreadedMotoServer  # noqa: E402

from app.core import service  # noqa: E402
from app.core.config import Settings  # noqa: E402
from app.engine import create_engine  # noqa: E402
from app.engine.aws import AwsEngine, ConnectionProblem, UploadCancelled, VocabularyFailed  # noqa: E402
from app.store.objectstore import parse_s3_uri  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
AUDIO = __import__("helpers").AUDIO / "jfk.flac"
JFK_WORDS = "ask not what your country can do for you"
IN_BUCKET, OUT_BUCKET = "clinscribe-in-test", "clinscribe-out-test"
JOB_DEFAULTS = {"LanguageCode": "en-US", "OutputBucketName": OUT_BUCKET, "Specialty": "PRIMARYCARE",
                "Type": "DICTATION"}
DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
}
FAST = Config(retries={"mode": "standard", "total_max_attempts": 4}, connect_timeout=2, read_timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the test "AWS backend" worker ----------------------------------------------------
class TranscriptWorker:
    """Writes, for each job moto reports COMPLETED, the local pipeline's transcript of jfk.flac."""

    def __init__(self, moto_url: str):
        self.s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1",
                               aws_access_key_id="testing", aws_secret_access_key="testing")
        self.jobs: queue.Queue = queue.Queue()
        self.written: dict[str, tuple[str, str]] = {}
        self.place = "announced"  # or "output-key": where AWS (not moto) would put it
        self.starts: dict[str, dict] = {}
        self._doc = None
        threading.Thread(target=self._run, daemon=True, name="transcript-worker").start()

    def transcript_doc(self) -> dict:
        if self._doc is None:  # the REAL local pipeline, once: ~10 s of model load + decode on 2 cores
            from app.local import asr, media, pipeline
            info = media.check(AUDIO)
            channels = media.decode(AUDIO, info.channels)
            model = asr.load_model(str(asr.resolve_model("tiny.en")), "cpu", "int8")
            self._doc = pipeline.transcribe_job({"MedicalTranscriptionJobName": "template"}, channels, model)
        return self._doc

    def _run(self) -> None:
        while True:
            job, done = self.jobs.get()
            try:
                name = job["MedicalTranscriptionJobName"]
                if name not in self.written:
                    bucket, key = parse_s3_uri(job["Transcript"]["TranscriptFileUri"])
                    if self.place == "output-key" and name in self.starts:
                        from app.core.outputs import output_key
                        key = output_key(name, self.starts[name].get("OutputKey"))
                    doc = copy.deepcopy(self.transcript_doc())
                    doc["jobName"] = name
                    self.s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(doc).encode())
                    self.written[name] = (bucket, key)
            finally:
                done.set()

    def completed(self, job: dict) -> None:
        done = threading.Event()
        self.jobs.put((job, done))
        done.wait(120)


# -- the fault-injecting proxy ----------------------------------------------------------
class FaultProxy:
    """HTTP proxy to moto that can fail requests on purpose and counts what it forwards.

    A fault: ``(operation, action, count)``; operation ``"Transcribe.GetMedicalTranscriptionJob"``,
    ``"S3:HEAD"`` …; action ``(status, error code)`` answers that error without forwarding,
    ``"drop"`` closes the connection unanswered, ``"lose-answer"`` forwards then answers 500.
    """

    def __init__(self, upstream_port: int, worker: TranscriptWorker):
        self.upstream_port = upstream_port
        self.worker = worker
        self.faults: list[list] = []
        self.seen: list[str] = []
        self.rewrite = None  # callable(op, dict) -> dict for JSON answers
        self.lock = threading.Lock()
        self.server = None
        self.port = 0

    def start(self, port: int = 0) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _answer(self, status: int, headers: list, body: bytes) -> None:
                self.send_response(status)
                for k, v in headers:
                    if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _error(self, status: int, code: str) -> None:
                body = b"" if self.command == "HEAD" else json.dumps({"__type": code, "message": f"injected {code}"}).encode()
                self._answer(status, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)], body)

            def _forward(self, body: bytes):
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("transfer-encoding", "connection")}
                headers["Content-Length"] = str(len(body))
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                return resp.status, resp.getheaders(), data

            def handle_one(self) -> None:
                body = self._body()
                target = self.headers.get("X-Amz-Target")
                op = target if target else f"S3:{self.command}"
                with proxy.lock:
                    proxy.seen.append(op)
                    action = None
                    for fault in proxy.faults:
                        if fault[0] in (op, "*") and fault[2] > 0:
                            fault[2] -= 1
                            action = fault[1]
                            break
                if action == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if isinstance(action, tuple):
                    self._error(*action)
                    return
                if target == "Transcribe.StartMedicalTranscriptionJob":
                    request = json.loads(body)
                    proxy.worker.starts[request["MedicalTranscriptionJobName"]] = request
                status, headers, data = self._forward(body)
                if action == "lose-answer":
                    self._error(500, "InternalFailureException")
                    return
                if target and status == 200 and data:
                    doc = json.loads(data)
                    if proxy.rewrite:
                        doc = proxy.rewrite(target, doc)
                    job = doc.get("MedicalTranscriptionJob", {})
                    if job.get("TranscriptionJobStatus") == "COMPLETED" and job.get("Transcript"):
                        proxy.worker.completed(job)
                    data = json.dumps(doc).encode()
                self._answer(status, headers, data)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = handle_one

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True, name="fault-proxy").start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def inject(self, op: str, action, count: int = 1) -> None:
        with self.lock:
            self.faults.append([op, action, count])

    def count(self, op: str) -> int:
        with self.lock:
            return sum(1 for s in self.seen if s == op)

    def reset(self) -> None:
        with self.lock:
            self.faults.clear()
            self.seen.clear()
        self.rewrite = None
        self.worker.place = "announced"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


# -- fixtures -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def aws_world():
    saved = {k: os.environ.get(k) for k in (*DUMMY_ENV, "AWS_PROFILE")}
    os.environ.update(DUMMY_ENV)
    os.environ.pop("AWS_PROFILE", None)
    moto_port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    moto_url = f"http://127.0.0.1:{moto_port}"
    worker = TranscriptWorker(moto_url)
    proxy = FaultProxy(moto_port, worker)
    proxy.start()
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    for bucket in (IN_BUCKET, OUT_BUCKET):
        s3.create_bucket(Bucket=bucket)
    world = {"moto": moto, "moto_port": moto_port, "proxy": proxy, "worker": worker, "s3": s3}
    yield world
    proxy.stop()
    world["moto"].stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(autouse=True)
def no_keyring(monkeypatch):
    """The engine tests never read the developer's real keyring (see test_credentials.py for that)."""
    import keyring
    from keyring.backends import null
    previous = keyring.get_keyring()
    keyring.set_keyring(null.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def quick_botocore_backoff(monkeypatch):
    """botocore waits up to 1-2-4 s between throttled attempts: the retries are what is tested, not the waits."""
    from botocore.retries.standard import ExponentialBackoff
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.01)


@pytest.fixture
def world(aws_world):
    aws_world["proxy"].reset()
    yield aws_world
    aws_world["proxy"].reset()


def make_engine(world, home: Path, *, client_config=FAST, **settings) -> AwsEngine:
    values = dict(engine="aws", aws_region="us-east-1", aws_endpoint_url=world["proxy"].url,
                  aws_input_bucket=IN_BUCKET, aws_input_prefix="clinscribe/", default_output_bucket=OUT_BUCKET)
    values.update(settings)
    engine = create_engine("aws", settings=Settings(**values), base=home, client_config=client_config)
    engine.limit_backoff = (0.05, 0.2)
    return engine


def start(engine: AwsEngine, name: str, uri: str, **extra) -> dict:
    return engine.start_medical_transcription_job(MedicalTranscriptionJobName=name, Media={"MediaFileUri": uri},
                                                  **JOB_DEFAULTS, **extra)


def text_of(doc: dict) -> str:
    return doc["results"]["transcripts"][0]["transcript"]


# -- round trip ---------------------------------------------------------------------------
def test_round_trip_from_local_file(world, tmp_path):
    engine = make_engine(world, tmp_path)
    assert isinstance(engine, AwsEngine) and engine.settings.default_output_bucket == OUT_BUCKET

    uri = engine.put_media(AUDIO)
    bucket, key = parse_s3_uri(uri)
    assert bucket == IN_BUCKET and key.startswith("clinscribe/") and key.endswith("/jfk.flac")
    stored = world["s3"].get_object(Bucket=bucket, Key=key)["Body"].read()
    assert stored == AUDIO.read_bytes()

    response = start(engine, "round-trip-1", uri)
    assert response["MedicalTranscriptionJob"]["MedicalTranscriptionJobName"] == "round-trip-1"
    seen, pauses = [], []
    real_sleep = time.sleep
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("app.engine.aws.time.sleep", lambda s: (pauses.append(s), real_sleep(min(s, 0.05))))
        job = engine.wait("round-trip-1", poll=0.2, on_update=lambda j, p: seen.append(j["TranscriptionJobStatus"]))
    assert job["TranscriptionJobStatus"] == "COMPLETED"
    assert seen[-1] == "COMPLETED" and "IN_PROGRESS" in seen
    assert pauses == sorted(pauses) and pauses[-1] > pauses[0]  # polling backs off
    assert job["Transcript"]["TranscriptFileUri"].endswith(f"/{OUT_BUCKET}/medical/round-trip-1.json")

    doc = engine.get_transcript("round-trip-1")
    assert doc["jobName"] == "round-trip-1"
    assert JFK_WORDS in text_of(doc).lower()
    kept = engine.transcript_path("round-trip-1")
    assert kept is not None and kept.parent == tmp_path / "aws-transcripts"
    assert json.loads(kept.read_text()) == doc

    listed = engine.list_medical_transcription_jobs(JobNameContains="round-trip-1")["MedicalTranscriptionJobSummaries"]
    assert [s["MedicalTranscriptionJobName"] for s in listed] == ["round-trip-1"]
    assert listed[0]["TranscriptionJobStatus"] == "COMPLETED"

    # offline later: a new engine (app restart), AWS unreachable, the transcript still reads
    world["proxy"].inject("*", "drop", 1000)
    gets_before = world["proxy"].count("Transcribe.GetMedicalTranscriptionJob")
    assert text_of(make_engine(world, tmp_path).get_transcript("round-trip-1")) == text_of(doc)
    assert world["proxy"].count("Transcribe.GetMedicalTranscriptionJob") == gets_before
    world["proxy"].reset()

    engine.delete_medical_transcription_job(MedicalTranscriptionJobName="round-trip-1")
    with pytest.raises((engine.exceptions.BadRequestException, engine.exceptions.NotFoundException)) as err:
        engine.get_medical_transcription_job(MedicalTranscriptionJobName="round-trip-1")
    assert "couldn't be found" in str(err.value)
    assert engine.transcript_path("round-trip-1") is None


def test_errors_are_the_local_engines_classes(world, tmp_path):
    engine = make_engine(world, tmp_path)
    with pytest.raises(service.exceptions().BadRequestException):
        engine.get_medical_transcription_job(MedicalTranscriptionJobName="no-such-job")
    start(engine, "dup-1", f"s3://{IN_BUCKET}/x.flac")
    with pytest.raises(service.exceptions().ConflictException, match="already exists"):
        start(engine, "dup-1", f"s3://{IN_BUCKET}/y.flac")


def test_output_key_rules_when_the_file_is_where_aws_puts_it(world, tmp_path):
    """moto announces medical/<job>.json whatever OutputKey says; AWS writes where OutputKey says."""
    engine = make_engine(world, tmp_path)
    world["worker"].place = "output-key"
    start(engine, "outkey-1", f"s3://{IN_BUCKET}/a.flac", OutputKey="visits/2024/")
    assert engine.wait("outkey-1", poll=0.05)["TranscriptionJobStatus"] == "COMPLETED"
    assert world["worker"].written["outkey-1"] == (OUT_BUCKET, "visits/2024/outkey-1.json")
    assert JFK_WORDS in text_of(engine.get_transcript("outkey-1")).lower()


def test_transcript_of_unfinished_job_is_refused(world, tmp_path):
    engine = make_engine(world, tmp_path)
    start(engine, "early-1", f"s3://{IN_BUCKET}/a.flac")
    with pytest.raises(engine.exceptions.BadRequestException, match="has no transcript"):
        engine.get_transcript("early-1")


# -- validation happens before any AWS call ---------------------------------------------------
@pytest.mark.parametrize("params, error, text", [
    ({"MedicalTranscriptionJobName": "bad name!"}, "BadRequestException", "regular expression pattern"),
    ({"LanguageCode": "fr-FR"}, "BadRequestException", "isn't supported"),
    ({"Settings": {"ShowSpeakerLabels": True}}, "BadRequestException", "MaxSpeakerLabels"),
    ({"Media": {"MediaFileUri": "file:///tmp/a.flac"}}, "BadRequestException", "mediaFileUri"),
    ({"Specialty": None}, "ParamValidationError", "Specialty"),
])
def test_invalid_requests_never_reach_aws(world, tmp_path, params, error, text):
    engine = make_engine(world, tmp_path)
    request = {"MedicalTranscriptionJobName": "valid-1", "Media": {"MediaFileUri": f"s3://{IN_BUCKET}/a.flac"},
               **JOB_DEFAULTS, **params}
    request = {k: v for k, v in request.items() if v is not None}
    with pytest.raises((botocore.exceptions.ClientError, botocore.exceptions.ParamValidationError)) as err:
        engine.start_medical_transcription_job(**request)
    assert type(err.value).__name__ == error and text in str(err.value)
    assert world["proxy"].seen == []  # moto would have accepted every one of these
    with pytest.raises(engine.exceptions.BadRequestException):
        engine.create_medical_vocabulary(VocabularyName="v", LanguageCode="de-DE", VocabularyFileUri="ftp://x")
    assert world["proxy"].seen == []


# -- vocabularies -----------------------------------------------------------------------------
VOCAB = "Phrase\tIPA\tSoundsLike\tDisplayAs\nLisinopril\t\tli-sin-o-pril\t\nblood-pressure\t\t\tblood pressure\n"


def test_vocabulary_round_trip(world, tmp_path):
    engine = make_engine(world, tmp_path, client_config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
    path = tmp_path / "cardio.txt"
    path.write_bytes(VOCAB.encode())
    uri = engine.upload_vocabulary_file(path)
    bucket, key = parse_s3_uri(uri)
    assert (bucket, key) == (IN_BUCKET, "clinscribe/vocabularies/cardio.txt")
    assert world["s3"].get_object(Bucket=bucket, Key=key)["Body"].read() == VOCAB.encode()

    created = engine.create_medical_vocabulary(VocabularyName="cardio-1", LanguageCode="en-US", VocabularyFileUri=uri)
    assert created["VocabularyName"] == "cardio-1"
    assert created.get("VocabularyState") in (None, "PENDING")  # moto leaves it out until the first Get
    ready = engine.wait_vocabulary("cardio-1", poll=0.05, timeout=10)
    assert ready["VocabularyState"] == "READY" and ready["DownloadUri"]
    names = [v["VocabularyName"] for v in engine.list_medical_vocabularies(NameContains="cardio")["Vocabularies"]]
    assert "cardio-1" in names

    with pytest.raises(engine.exceptions.InternalFailureException) as err:
        engine.update_medical_vocabulary(VocabularyName="cardio-1", LanguageCode="en-US", VocabularyFileUri=uri)
    assert "UpdateMedicalVocabulary" in str(err.value) and "not implement" in str(err.value)
    assert "\n" not in str(err.value)

    start(engine, "vocab-job-1", f"s3://{IN_BUCKET}/a.flac", Settings={"VocabularyName": "cardio-1"})
    engine.delete_medical_vocabulary(VocabularyName="cardio-1")
    with pytest.raises(engine.exceptions.BadRequestException, match="couldn't be found"):
        engine.get_medical_vocabulary(VocabularyName="cardio-1")
    with pytest.raises(engine.exceptions.BadRequestException, match="vocabulary couldn't be found"):
        start(engine, "vocab-job-2", f"s3://{IN_BUCKET}/a.flac", Settings={"VocabularyName": "cardio-1"})


def test_vocabulary_file_checked_before_upload_and_failed_state_surfaced(world, tmp_path):
    engine = make_engine(world, tmp_path)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(VOCAB.replace("\n", "\r\n").encode())
    with pytest.raises(ValueError):
        engine.upload_vocabulary_file(bad)
    assert world["proxy"].count("S3:PUT") == 0

    def failed(op, doc):
        if op.endswith("GetMedicalVocabulary"):
            doc.update(VocabularyState="FAILED", FailureReason="The vocabulary file has an invalid header.")
        return doc
    world["proxy"].rewrite = failed
    engine.create_medical_vocabulary(VocabularyName="broken-1", LanguageCode="en-US",
                                     VocabularyFileUri=f"s3://{IN_BUCKET}/bad.txt")
    with pytest.raises(VocabularyFailed, match="broken-1 FAILED: The vocabulary file has an invalid header"):
        engine.wait_vocabulary("broken-1", poll=0.05, timeout=10)


# -- faults ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("action", [(500, "InternalFailureException"), (503, "ServiceUnavailable"),
                                    (400, "ThrottlingException"), "drop"])
def test_transient_faults_are_retried(world, tmp_path, action):
    engine = make_engine(world, tmp_path)
    name = f"fault-{action if isinstance(action, str) else action[0]}-{action if isinstance(action, str) else action[1]}"
    world["proxy"].inject("Transcribe.StartMedicalTranscriptionJob", action, 2)
    start(engine, name, f"s3://{IN_BUCKET}/a.flac")
    assert world["proxy"].count("Transcribe.StartMedicalTranscriptionJob") == 3
    world["proxy"].inject("Transcribe.GetMedicalTranscriptionJob", action, 2)
    assert engine.wait(name, poll=0.05)["TranscriptionJobStatus"] == "COMPLETED"
    assert JFK_WORDS in text_of(engine.get_transcript(name)).lower()


def test_limit_exceeded_beyond_botocore_retries_is_waited_out(world, tmp_path):
    engine = make_engine(world, tmp_path)
    world["proxy"].inject("Transcribe.StartMedicalTranscriptionJob", (400, "LimitExceededException"), 9)
    start(engine, "limit-1", f"s3://{IN_BUCKET}/a.flac")
    assert world["proxy"].count("Transcribe.StartMedicalTranscriptionJob") == 10  # > FAST's 4 attempts
    jobs = engine.list_medical_transcription_jobs(JobNameContains="limit-1")["MedicalTranscriptionJobSummaries"]
    assert len(jobs) == 1

    engine.limit_retry_seconds = 0.3  # when the budget is spent, the user sees AWS's error
    world["proxy"].inject("Transcribe.StartMedicalTranscriptionJob", (400, "LimitExceededException"), 1000)
    with pytest.raises(engine.exceptions.LimitExceededException):
        start(engine, "limit-2", f"s3://{IN_BUCKET}/a.flac")


def test_lost_start_answer_is_not_a_conflict(world, tmp_path):
    """AWS created the job but the answer was lost: the retry's ConflictException is recognised."""
    engine = make_engine(world, tmp_path)
    world["proxy"].inject("Transcribe.StartMedicalTranscriptionJob", "lose-answer", 1)
    response = start(engine, "lost-answer-1", f"s3://{IN_BUCKET}/lost.flac")
    assert response["MedicalTranscriptionJob"]["MedicalTranscriptionJobName"] == "lost-answer-1"
    assert world["proxy"].count("Transcribe.StartMedicalTranscriptionJob") == 2
    assert engine.wait("lost-answer-1", poll=0.05)["TranscriptionJobStatus"] == "COMPLETED"


def test_server_stopped_mid_poll_then_restarted(world, tmp_path):
    engine = make_engine(world, tmp_path)
    uri = engine.put_media(AUDIO)
    start(engine, "outage-1", uri)
    statuses: list[str] = []
    result: dict = {}
    first_poll = threading.Event()

    def poll():
        try:
            result["job"] = engine.wait("outage-1", poll=0.2,
                                        on_update=lambda j, p: (statuses.append(j["TranscriptionJobStatus"]), first_poll.set()))
        except Exception as exc:  # pragma: no cover - reported below
            result["error"] = exc

    thread = threading.Thread(target=poll)
    thread.start()
    assert first_poll.wait(10)
    proxy, port = world["proxy"], world["proxy"].port
    proxy.stop()                     # the endpoint disappears mid-poll: connection refused
    world["moto"].stop()
    time.sleep(1.5)
    assert thread.is_alive() and "job" not in result
    world["moto"] = ThreadedMotoServer(ip_address="127.0.0.1", port=world["moto_port"], verbose=False)
    world["moto"].start()            # same port, same (in-process) state
    proxy.start(port)
    thread.join(60)
    assert "error" not in result, result.get("error")
    assert result["job"]["TranscriptionJobStatus"] == "COMPLETED"
    assert JFK_WORDS in text_of(engine.get_transcript("outage-1")).lower()
    assert len(engine.list_medical_transcription_jobs(JobNameContains="outage-1")["MedicalTranscriptionJobSummaries"]) == 1


def test_resume_polling_after_restart(world, tmp_path):
    first = make_engine(world, tmp_path)
    start(first, "resume-1", f"s3://{IN_BUCKET}/r1.flac")
    start(first, "resume-2", f"s3://{IN_BUCKET}/r2.flac")
    first.get_medical_transcription_job(MedicalTranscriptionJobName="resume-1")
    # a job whose Start never reached AWS (the app died mid-call) is forgotten, not polled forever
    first.records.put(first.scope, "resume-never-sent", {"MedicalTranscriptionJobName": "resume-never-sent"}, "SUBMITTING")
    del first  # the app quits while the jobs run

    again = make_engine(world, tmp_path)
    assert set(again.records.pending(again.scope)) == {"resume-1", "resume-2", "resume-never-sent"}
    thread = again.resume_polling(poll=0.05, background=True)
    thread.join(60)
    results = thread.results
    assert results["resume-1"]["TranscriptionJobStatus"] == "COMPLETED"
    assert results["resume-2"]["TranscriptionJobStatus"] == "COMPLETED"
    assert isinstance(results["resume-never-sent"], botocore.exceptions.ClientError)
    assert again.records.pending(again.scope) == []
    for name in ("resume-1", "resume-2"):  # transcripts kept locally
        assert JFK_WORDS in json.loads(again.transcript_path(name).read_text())["results"]["transcripts"][0]["transcript"].lower()
    assert not (tmp_path / "jobs.db").exists()  # the local engine's store is not touched


# -- uploads ----------------------------------------------------------------------------------------
def test_multipart_upload_with_progress_and_cancel(world, tmp_path):
    engine = make_engine(world, tmp_path)
    engine.transfer_config = boto3.s3.transfer.TransferConfig(
        multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024, max_concurrency=2)
    big = tmp_path / "long-visit.wav"
    big.write_bytes(os.urandom(11 * 1024 * 1024))
    updates: list[tuple[int, int]] = []
    uri = engine.put_media(big, progress=lambda sent, total: updates.append((sent, total)))
    assert world["proxy"].count("S3:POST") >= 2  # CreateMultipartUpload + CompleteMultipartUpload
    assert world["proxy"].count("S3:PUT") == 3   # three parts
    assert updates[-1] == (big.stat().st_size, big.stat().st_size)
    assert [u[0] for u in updates] == sorted(u[0] for u in updates)
    bucket, key = parse_s3_uri(uri)
    assert world["s3"].head_object(Bucket=bucket, Key=key)["ContentLength"] == big.stat().st_size

    cancel = threading.Event()
    with pytest.raises(UploadCancelled):
        engine.put_media(big, key="cancelled/long-visit.wav", progress=lambda s, t: cancel.set(), cancel=cancel)
    assert "Contents" not in world["s3"].list_objects_v2(Bucket=IN_BUCKET, Prefix="clinscribe/cancelled/")
    assert not world["s3"].list_multipart_uploads(Bucket=IN_BUCKET).get("Uploads")  # aborted, nothing billed

    with pytest.raises(FileNotFoundError):
        engine.put_media(tmp_path / "missing.flac")
    with pytest.raises(ValueError, match="aws_input_bucket"):
        make_engine(world, tmp_path, aws_input_bucket="").put_media(big)


# -- test_connection and one-line problems ---------------------------------------------------
def test_connection_reports_exactly_what_is_wrong(world, tmp_path, monkeypatch):
    engine = make_engine(world, tmp_path)
    ok = engine.test_connection()
    assert ok.startswith("OK") and IN_BUCKET in ok and "env" in ok

    world["proxy"].inject("Transcribe.ListMedicalTranscriptionJobs", (400, "ExpiredTokenException"), 5)
    with pytest.raises(ConnectionProblem, match="session token has expired"):
        make_engine(world, tmp_path).test_connection()
    world["proxy"].reset()

    world["proxy"].inject("Transcribe.ListMedicalTranscriptionJobs", (400, "AccessDeniedException"), 5)
    with pytest.raises(ConnectionProblem, match="Access denied to Transcribe Medical"):
        make_engine(world, tmp_path).test_connection()
    world["proxy"].reset()

    world["proxy"].inject("S3:HEAD", (403, "AccessDenied"), 5)
    with pytest.raises(ConnectionProblem, match=f"Access denied on the input bucket '{IN_BUCKET}'"):
        make_engine(world, tmp_path).test_connection()
    world["proxy"].reset()

    with pytest.raises(ConnectionProblem, match="output bucket 'no-such-bucket-1' does not exist"):
        make_engine(world, tmp_path, default_output_bucket="no-such-bucket-1").test_connection()

    world["s3"].create_bucket(Bucket="clinscribe-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    with pytest.raises(ConnectionProblem, match="'clinscribe-eu' is in region eu-west-1"):
        make_engine(world, tmp_path, aws_input_bucket="clinscribe-eu").test_connection()

    dead = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ConnectionProblem, match=f"Cannot reach {dead}") as err:
        make_engine(world, tmp_path, aws_endpoint_url=dead).test_connection()
    assert err.value.transient and isinstance(err.value, OSError)

    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var)
    no_creds = make_engine(world, tmp_path)
    with pytest.raises(ConnectionProblem, match="No AWS credentials found") as err:
        no_creds.test_connection()
    with pytest.raises(ConnectionProblem, match="No AWS credentials found"):
        no_creds.get_medical_transcription_job(MedicalTranscriptionJobName="x")
    assert "\n" not in str(err.value)

    with pytest.raises(ConnectionProblem, match="profile 'nobody' was not found"):
        make_engine(world, tmp_path, aws_profile="nobody").test_connection()


# -- the CLI, end to end -------------------------------------------------------------------------
def test_cli_with_engine_aws_end_to_end(world, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    Settings(engine="local", aws_region="us-east-1", aws_endpoint_url=world["proxy"].url, aws_input_bucket=IN_BUCKET,
             aws_input_prefix="cli/", default_output_bucket=OUT_BUCKET).save(home)
    env = {**os.environ, **DUMMY_ENV, "CLINSCRIBE_HOME": str(home), "AWS_MAX_ATTEMPTS": "2",
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "app", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)

    run = cli("transcribe", str(AUDIO), "--engine", "aws", "--job-name", "cli-job-1", "--text")
    assert run.returncode == 0, run.stderr
    assert JFK_WORDS in run.stdout.lower()
    assert f"Job cli-job-1 COMPLETED. Transcript: https://s3.us-east-1.amazonaws.com/{OUT_BUCKET}/medical/cli-job-1.json" in run.stdout
    media = world["s3"].list_objects_v2(Bucket=IN_BUCKET, Prefix="cli/")["Contents"]
    assert any(o["Key"].endswith("/jfk.flac") for o in media)

    run = cli("get-medical-transcription-job", "--engine", "aws", "--medical-transcription-job-name", "cli-job-1")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["MedicalTranscriptionJob"]["TranscriptionJobStatus"] == "COMPLETED"
    run = cli("list-medical-transcription-jobs", "--engine", "aws", "--job-name-contains", "cli-job")
    assert [j["MedicalTranscriptionJobName"] for j in json.loads(run.stdout)["MedicalTranscriptionJobSummaries"]] == ["cli-job-1"]

    run = cli("start-medical-transcription-job", "--engine", "aws", "--medical-transcription-job-name", "bad name",
              "--language-code", "en-US", "--media", f"MediaFileUri=s3://{IN_BUCKET}/a.flac",
              "--output-bucket-name", OUT_BUCKET, "--specialty", "PRIMARYCARE", "--type", "DICTATION")
    assert run.returncode == 254 and "BadRequestException" in run.stderr and len(run.stderr.strip().splitlines()) == 1

    # a transcribe that AWS rejects (the name is taken) leaves no copy of the recording in S3
    keys = lambda: {o["Key"] for o in world["s3"].list_objects_v2(Bucket=IN_BUCKET, Prefix="cli/").get("Contents", [])}
    before = keys()
    run = cli("transcribe", str(AUDIO), "--engine", "aws", "--job-name", "cli-job-1")
    assert run.returncode == 254 and "ConflictException" in run.stderr, run.stderr
    assert keys() == before

    world["proxy"].inject("*", "drop", 10_000)  # AWS unreachable from here on
    run = cli("get-transcript", "--engine", "aws", "--medical-transcription-job-name", "cli-job-1", "--text")
    assert run.returncode == 0, run.stderr  # the kept copy, offline
    assert JFK_WORDS in run.stdout.lower()
    run = cli("get-medical-transcription-job", "--engine", "aws", "--medical-transcription-job-name", "cli-job-1")
    assert run.returncode == 255
    assert run.stderr.startswith(f"clinscribe: Cannot reach {world['proxy'].url}") and len(run.stderr.strip().splitlines()) == 1
    world["proxy"].reset()

    run = cli("delete-medical-transcription-job", "--engine", "aws", "--medical-transcription-job-name", "cli-job-1")
    assert run.returncode == 0, run.stderr
    run = cli("get-medical-transcription-job", "--engine", "aws", "--medical-transcription-job-name", "cli-job-1")
    assert run.returncode == 254 and "couldn't be found" in run.stderr
    assert "testing" not in (home / "settings.json").read_text()
