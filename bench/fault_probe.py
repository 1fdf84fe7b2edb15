"""Throw categories of bad input at the local engine and the CLI; print a markdown table per category.

right = the documented answer (an AWS exception at the engine; one line and 252/254 at the CLI; a FAILED
job with a reason for a bad file); wrong = an AWS-style answer of the wrong kind; crash = any other
exception, a traceback, more than one line, or an exit code outside 0/252/254/255.

    python bench/fault_probe.py            # everything (the bad-files category runs real jobs, tiny.en)
    python bench/fault_probe.py --no-jobs  # requests only
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import os
import sys
import tempfile
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import botocore.exceptions  # noqa: E402

from app import cli  # noqa: E402
from app.engine.local import LocalEngine  # noqa: E402

AWS = (botocore.exceptions.ClientError, botocore.exceptions.ParamValidationError)


def request(name="probe", uri="s3://in/x.wav", **extra):
    return {"MedicalTranscriptionJobName": name, "LanguageCode": "en-US", "Media": {"MediaFileUri": uri},
            "OutputBucketName": "out", "Specialty": "PRIMARYCARE", "Type": "DICTATION", **extra}


def engine_case(call):
    try:
        call()
    except AWS:
        return "right"
    except Exception:  # noqa: BLE001 - that is what is measured
        return "crash"
    return "wrong"  # accepted


def cli_case(argv):
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = cli.main(argv)
    except BaseException:  # noqa: BLE001
        return "crash"
    text = err.getvalue()
    if rc not in (0, 252, 254, 255) or "Traceback" in text or len(text.strip().splitlines()) > 1:
        return "crash"
    return "right" if rc in (252, 254) else "wrong"


def categories(engine, tmp: Path):
    wav = tmp / "ok.wav"
    wav.write_bytes(b"RIFF" + b"\0" * 40)
    uri = engine.put_media(wav, key="probe/ok.wav")
    loop = engine.objects.root / "loop"
    loop.mkdir(parents=True, exist_ok=True)
    for a, b in (("a", "b"), ("b", "a")):
        with contextlib.suppress(FileExistsError):
            os.symlink(loop / a, loop / b)
    start = engine.start_medical_transcription_job
    bad_json = tmp / "bad.json"
    bad_json.write_bytes(b'{"LanguageCode": "\xff\xfe"}')
    tok = lambda raw: base64.urlsafe_b64encode(raw).decode()  # noqa: E731
    yield "bad requests", [
        ("engine", lambda: start(**{k: v for k, v in request().items() if k != "LanguageCode"})),
        ("engine", lambda: start(**request(LanguageCode="xx-XX"))),
        ("engine", lambda: start(**request(Settings={"ShowSpeakerLabels": True}))),
        ("engine", lambda: start(**request(Tags=[{"Key": "k", "Value": "v"}] * 2))),
        ("engine", lambda: start(**request(Bogus=1))),
        ("engine", lambda: start(**request(MediaSampleRateHertz="fast"))),
        ("engine", lambda: start(**request(name="\udcff"))),
        ("cli", ["start-medical-transcription-job", "--bogus"]),
        ("cli", ["nonsense"]),
        ("cli", ["start-medical-transcription-job", "--media-sample-rate-hertz", "x"]),
        ("cli", ["get-medical-transcription-job"]),
        ("cli", ["get-medical-transcription-job", "--medical-transcription-job-name", "a\udcff"]),
    ]
    yield "bad URIs / keys", [
        ("engine", lambda: start(**request(uri="s3://in/a\0b.wav"))),
        ("engine", lambda: start(**request(uri="s3://in/" + "x" * 1990))),
        ("engine", lambda: start(**request(uri="s3://loop/a/x.wav"))),
        ("engine", lambda: start(**request(uri="file://" + "/x" * 1100))),
        ("engine", lambda: start(**request(uri="file:///tmp/a\0.wav"))),
        ("engine", lambda: start(**request(uri="s3://in/../../etc/passwd"))),
        ("engine", lambda: start(**request(uri=uri, OutputKey="../../x.json"))),
        ("engine", lambda: start(**request(uri=uri, OutputKey="a/" + "n" * 300 + ".json"))),
        ("cli", ["put-object", str(wav), "--bucket", "b", "--key", "../../x.wav"]),
        ("cli", ["put-object", str(wav), "--bucket", "b", "--key", "/".join(["d" * 200] * 25)]),
        ("cli", ["put-object", str(wav), "--bucket", "b", "--key", "a\0b"]),
        ("cli", ["transcribe", str(wav), "--output-key", "../../x.json"]),
    ]
    listing = engine.list_medical_transcription_jobs
    yield "bad tokens", [
        ("engine", lambda: listing(NextToken="%%%")),
        ("engine", lambda: listing(NextToken="x" * 9000)),
        ("engine", lambda: listing(NextToken=tok(b'{"before": 1e400}'))),
        ("engine", lambda: listing(NextToken=tok(b'{"before": 99999999999999999999999}'))),
        ("engine", lambda: listing(NextToken=tok(b"\xff\xfe"))),
        ("engine", lambda: listing(NextToken=tok(b'{"before": [[]]}'))),
        ("engine", lambda: listing(NextToken=tok(b"[" * 100000))),
        ("engine", lambda: listing(MaxResults=10 ** 6)),
        ("cli", ["list-medical-transcription-jobs", "--next-token", tok(b'{"before": -1}')]),
        ("cli", ["list-medical-transcription-jobs", "--max-results", "many"]),
    ]
    yield "bad JSON / encodings", [
        ("cli", ["start-medical-transcription-job", "--cli-input-json", "[" * 100000]),
        ("cli", ["start-medical-transcription-job", "--cli-input-json", "{"]),
        ("cli", ["start-medical-transcription-job", "--cli-input-json", "[1]"]),
        ("cli", ["start-medical-transcription-job", "--cli-input-json", f"file://{bad_json}"]),
        ("cli", ["start-medical-transcription-job", "--cli-input-json", "file:///no/such.json"]),
        ("cli", ["start-medical-transcription-job", "--settings", "{" + '"a":{' * 50000]),
        ("cli", ["start-medical-transcription-job", "--tags", "[" * 50000]),
        ("cli", ["start-medical-transcription-job", "--settings", "ShowSpeakerLabels=maybe"]),
        ("cli", ["start-medical-transcription-job", "--medical-transcription-job-name", "\udcff\udcfe"]),
        ("engine", lambda: start(**request(Settings={"VocabularyName": "\ud800"}))),
    ]


def bad_files(engine, tmp: Path, timeout: float):
    files = {"empty.wav": b"", "garbage.mp3": os.urandom(20000), "text-as.flac": b"hello " * 1000,
             "truncated.wav": b"RIFF\xff\xff\x00\x00WAVEfmt " + b"\x10\0\0\0\1\0\1\0\x80\x3e\0\0" + b"\0" * 10,
             "header-only.ogg": b"OggS" + b"\0" * 60}
    rows = []
    for name, data in files.items():
        path = tmp / name
        path.write_bytes(data)
        job = "probe-" + name.replace(".", "-")
        try:
            engine.start_medical_transcription_job(**request(job, engine.put_media(path, key=f"files/{name}")))
            done = engine.wait(job, poll=0.3, timeout=timeout)
            ok = done["TranscriptionJobStatus"] == "FAILED" and bool(done.get("FailureReason"))
            rows.append(("engine job", "right" if ok else "wrong"))
        except AWS:
            rows.append(("engine job", "right"))  # rejected up front is also an answer
        except Exception:  # noqa: BLE001
            traceback.print_exc(limit=1)
            rows.append(("engine job", "crash"))
    return rows


def table(title: str, results: list[tuple[str, str]]) -> str:
    lines = [f"### {title}", "", "| where | tried | handled right | wrong | crash |", "|---|---|---|---|---|"]
    for where in sorted({w for w, _ in results}):
        got = [r for w, r in results if w == where]
        lines.append(f"| {where} | {len(got)} | {got.count('right')} | {got.count('wrong')} | {got.count('crash')} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-jobs", action="store_true")
    parser.add_argument("--timeout", type=float, default=120)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        os.environ["CLINSCRIBE_HOME"] = str(tmp / "home")
        engine = LocalEngine(base=tmp / "home", spawn_worker=not opts.no_jobs)
        for title, cases in categories(engine, tmp):
            results = [(w, engine_case(c) if w == "engine" else cli_case(c)) for w, c in cases]
            print(table(title, results))
        if not opts.no_jobs:
            print(table("bad files (real jobs)", bad_files(engine, tmp, opts.timeout)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
