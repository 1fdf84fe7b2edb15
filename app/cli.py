"""``clinscribe``: the command line, a twin of ``aws transcribe`` for medical jobs.

With no arguments it opens the desktop app. Output is JSON printed as the AWS
CLI prints it; errors are one line on stderr with the AWS CLI's exit codes
(252 bad parameters, 254 service error, 255 anything else), never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import botocore.exceptions

from . import __version__
from .cli_admin import register as register_admin
from .cli_syntax import ArgumentParser, UsageError, _member_shape, load_cli_input_json, parse_shorthand, parse_tags
from .ehr.cli import register as register_ehr
from .store.s3cli import register as register_s3
from .server.cli import register as register_server

EXIT_PARAM, EXIT_SERVICE, EXIT_OTHER = 252, 254, 255


# -- printing -------------------------------------------------------------------
def _json_default(value: Any):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def print_response(response: dict) -> None:
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    if body:
        print(json.dumps(body, indent=4, default=_json_default, ensure_ascii=False))


class ProgressBar:
    """A one-line progress bar on stderr for --wait."""

    def __init__(self, name: str):
        self.name, self.shown = name, False
        self.tty = sys.stderr.isatty()

    def __call__(self, job: dict, fraction: float | None) -> None:
        status = job["TranscriptionJobStatus"]
        pct = int(round((fraction or 0.0) * 100)) if status != "COMPLETED" else 100
        bar = "#" * (pct // 4) + "-" * (25 - pct // 4)
        line = f"{status:<12} [{bar}] {pct:3d}%"
        if self.tty:
            sys.stderr.write("\r" + line)
        elif status in ("COMPLETED", "FAILED") or not self.shown:
            sys.stderr.write(line + "\n")
        self.shown = True
        sys.stderr.flush()

    def done(self) -> None:
        if self.tty and self.shown:
            sys.stderr.write("\n")

    def note(self, text: str) -> None:
        """A one-line notice (e.g. the job stalled), on its own line."""
        sys.stderr.write(("\n" if self.tty and self.shown else "") + f"clinscribe: {text}\n")
        sys.stderr.flush()


# -- the commands ---------------------------------------------------------------
def _engine(args):
    from .engine import create_engine

    kwargs = {}
    if getattr(args, "engine", None) in (None, "local"):
        for key in ("model", "device", "compute_type"):
            if getattr(args, key, None):
                kwargs[key] = getattr(args, key)
    engine = create_engine(getattr(args, "engine", None), **kwargs)
    if getattr(engine, "notice", None):  # jobs.db was damaged, set aside and rebuilt
        print(engine.notice, file=sys.stderr)
    return engine


def _start_params(args) -> dict:
    params: dict = load_cli_input_json(args.cli_input_json) if args.cli_input_json else {}
    simple = {
        "MedicalTranscriptionJobName": args.medical_transcription_job_name,
        "LanguageCode": args.language_code,
        "MediaSampleRateHertz": args.media_sample_rate_hertz,
        "MediaFormat": args.media_format,
        "OutputBucketName": args.output_bucket_name,
        "OutputKey": args.output_key,
        "OutputEncryptionKMSKeyId": args.output_encryption_kms_key_id,
        "ContentIdentificationType": args.content_identification_type,
        "Specialty": args.specialty,
        "Type": args.type,
    }
    params.update({k: v for k, v in simple.items() if v is not None})
    if args.media:
        params["Media"] = parse_shorthand(args.media, _member_shape("Media"))
    if args.settings:
        params["Settings"] = parse_shorthand(args.settings, _member_shape("Settings"))
    if args.kms_encryption_context:
        params["KMSEncryptionContext"] = parse_shorthand(args.kms_encryption_context, None)
    if args.tags:
        params["Tags"] = parse_tags(args.tags)
    return params


def _wait(engine, name: str) -> dict:
    bar = ProgressBar(name)
    try:
        return engine.wait(name, poll=0.3, on_update=bar, on_notice=bar.note)
    finally:
        bar.done()


def cmd_start(args) -> int:
    engine = _engine(args)
    response = engine.start_medical_transcription_job(**_start_params(args))
    if args.wait:
        job = _wait(engine, response["MedicalTranscriptionJob"]["MedicalTranscriptionJobName"])
        response = {"MedicalTranscriptionJob": job}
    print_response(response)
    if args.wait and response["MedicalTranscriptionJob"]["TranscriptionJobStatus"] == "FAILED":
        return 1
    return 0


def cmd_get(args) -> int:
    print_response(_engine(args).get_medical_transcription_job(
        MedicalTranscriptionJobName=args.medical_transcription_job_name))
    return 0


def cmd_list(args) -> int:
    params = {k: v for k, v in {"Status": args.status, "JobNameContains": args.job_name_contains,
                                "MaxResults": args.max_results, "NextToken": args.next_token}.items()
              if v is not None}
    print_response(_engine(args).list_medical_transcription_jobs(**params))
    return 0


def cmd_delete(args) -> int:
    _engine(args).delete_medical_transcription_job(MedicalTranscriptionJobName=args.medical_transcription_job_name)
    return 0


def cmd_cancel(args) -> int:
    engine = _engine(args)
    if not engine.can_cancel:
        raise UsageError(f"The {engine.name} engine cannot cancel jobs (AWS Transcribe has no cancel).")
    engine.cancel_medical_transcription_job(MedicalTranscriptionJobName=args.medical_transcription_job_name)
    return 0


def cmd_get_transcript(args) -> int:
    doc = _engine(args).get_transcript(args.medical_transcription_job_name)
    if args.text:
        print(doc["results"]["transcripts"][0]["transcript"])
        _warn_untranscribed(doc["results"])
    else:
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    return 0




def cmd_transcribe(args) -> int:
    engine = _engine(args)
    source = Path(args.file).expanduser()
    if not source.is_file():
        raise UsageError(f"No such file: {source}")
    from .core.outputs import job_name

    # a neutral name unless asked: a file name often carries the patient's name into the job list
    name = args.job_name or job_name(source.stem if args.name_from_file else None)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    if engine.name == "aws":
        def uploaded(sent: int, total: int) -> None:
            sys.stderr.write(f"\rUploading {sent * 100 // max(total, 1):3d}%")
            if sent >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()

        media_uri = engine.put_media(source, key=f"{stamp}/{source.name}", progress=uploaded)
    else:
        media_uri = engine.put_media(source, key=f"{stamp}/{source.name}")
    params: dict = {
        "MedicalTranscriptionJobName": name,
        "LanguageCode": "en-US",
        "Media": {"MediaFileUri": media_uri},
        "OutputBucketName": args.output_bucket_name or engine.settings.default_output_bucket,
        "Specialty": "PRIMARYCARE",
        "Type": args.type,
    }
    if args.output_key:
        params["OutputKey"] = args.output_key
    if args.settings:
        params["Settings"] = parse_shorthand(args.settings, _member_shape("Settings"))
    if args.content_identification_type:
        params["ContentIdentificationType"] = args.content_identification_type
    try:
        engine.start_medical_transcription_job(**params)
    except BaseException:  # rejected: the copy made above must not stay behind in the bucket
        remove = getattr(engine, "remove_media", None)
        if remove is not None:
            remove(media_uri)
        raise
    job = _wait(engine, name)
    if job["TranscriptionJobStatus"] == "FAILED":
        print(f"Job {name} FAILED: {job.get('FailureReason')}", file=sys.stderr)
        return 1
    uri = job["Transcript"]["TranscriptFileUri"]
    results = engine.get_transcript(name)["results"]
    if args.text:
        print(results["transcripts"][0]["transcript"])
    print(f"Job {name} COMPLETED. Transcript: {uri}")
    _warn_untranscribed(results)
    return 0


def _warn_untranscribed(results: dict) -> None:
    """Say which stretches of speech have no words (the local engine lists them)."""
    stretches = results.get("untranscribed_speech") or []
    if stretches:
        where = ", ".join(f"{float(s['start_time']):.1f}-{float(s['end_time']):.1f} s"
                          + (f" ({s['channel_label']})" if "channel_label" in s else "") for s in stretches[:5])
        more = f" and {len(stretches) - 5} more" if len(stretches) > 5 else ""
        print(f"Note: {len(stretches)} stretch(es) of speech could not be transcribed: {where}{more}. "
              "Listen to them in the app.", file=sys.stderr)


def cmd_put_object(args) -> int:
    engine = _engine(args)
    source = Path(args.file).expanduser()
    from .store.objectstore import InvalidKey

    try:
        print(engine.put_media(source, args.bucket, args.key))
    except InvalidKey as exc:
        raise UsageError(f"put-object: {exc}") from None
    return 0


def cmd_worker(args) -> int:
    from .local.worker import main as worker_main

    return worker_main(["--home", args.home, *(["--idle-seconds", str(args.idle_seconds)] if args.idle_seconds else [])])


def cmd_gui(args) -> int:
    try:
        from .gui.main import main as gui_main
    except ImportError as exc:
        raise UsageError(f"The desktop app is not available ({exc.name or exc} is missing). "
                         "Use the commands listed by 'clinscribe --help'.") from None
    return gui_main([])


# -- parser ---------------------------------------------------------------------
def _engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=("local", "aws"), help="engine to use (default: the settings' engine)")
    p.add_argument("--model", help="local engine model: tiny.en, base, or a CTranslate2 Whisper folder")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), help="local engine device (default auto)")
    p.add_argument("--compute-type", help="CTranslate2 compute type (default: float16 on CUDA, int8 on CPU)")


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="clinscribe",
        description="ClinScribe: medical transcription jobs with AWS Transcribe Medical's contract, "
                    "run offline (local engine) or on AWS. With no command, opens the desktop app.")
    parser.add_argument("--version", action="version", version=f"clinscribe {__version__}")
    parser.add_argument("--self-test", action="store_true", help="check this installation on a bundled recording (app/selftest.py)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("start-medical-transcription-job", help="start a job (aws transcribe start-medical-transcription-job)")
    _engine_options(p)
    p.add_argument("--medical-transcription-job-name")
    p.add_argument("--language-code")
    p.add_argument("--media-sample-rate-hertz", type=int)
    p.add_argument("--media-format")
    p.add_argument("--media", help="MediaFileUri=s3://bucket/key (or JSON)")
    p.add_argument("--output-bucket-name")
    p.add_argument("--output-key")
    p.add_argument("--output-encryption-kms-key-id")
    p.add_argument("--kms-encryption-context", help="key=value,key=value (or JSON)")
    p.add_argument("--settings", help="ShowSpeakerLabels=true,MaxSpeakerLabels=2,... (or JSON)")
    p.add_argument("--content-identification-type")
    p.add_argument("--specialty")
    p.add_argument("--type")
    p.add_argument("--tags", nargs="+", help="Key=k,Value=v [Key=k2,Value=v2 ...] (or a JSON list)")
    p.add_argument("--cli-input-json", help="the whole request as JSON, or file://request.json")
    p.add_argument("--wait", action="store_true", help="wait for the job to finish, showing progress")
    p.set_defaults(func=cmd_start)

    for name, func, help_text in (
        ("get-medical-transcription-job", cmd_get, "describe a job"),
        ("delete-medical-transcription-job", cmd_delete, "delete a finished job (its transcript file stays)"),
        ("get-transcript", cmd_get_transcript, "print a completed job's transcript JSON (or --text)"),
        ("cancel-medical-transcription-job", cmd_cancel,
         "stop a QUEUED or IN_PROGRESS local job (it ends FAILED, 'Cancelled by the user.')"),
    ):
        p = sub.add_parser(name, help=help_text)
        _engine_options(p)
        p.add_argument("--medical-transcription-job-name", required=True)
        if func is cmd_get_transcript:
            p.add_argument("--text", action="store_true", help="print only the transcript text")
        p.set_defaults(func=func)

    p = sub.add_parser("list-medical-transcription-jobs", help="list jobs, newest first")
    _engine_options(p)
    p.add_argument("--status", choices=("QUEUED", "IN_PROGRESS", "FAILED", "COMPLETED"))
    p.add_argument("--job-name-contains")
    p.add_argument("--max-results", type=int)
    p.add_argument("--next-token")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("transcribe", help="store a local recording and transcribe it in one step")
    _engine_options(p)
    p.add_argument("file", help="recording: mp3 mp4 wav flac ogg amr webm m4a")
    p.add_argument("--type", choices=("DICTATION", "CONVERSATION"), default="DICTATION")
    p.add_argument("--job-name", help="job name (default: clinscribe-<date>-<time>-<id>)")
    p.add_argument("--name-from-file", action="store_true",
                   help="name the job after the file (it may carry a patient's name)")
    p.add_argument("--output-bucket-name", help="default: the settings' output bucket")
    p.add_argument("--output-key")
    p.add_argument("--settings", help="as for start-medical-transcription-job")
    p.add_argument("--content-identification-type", choices=("PHI",))
    p.add_argument("--text", action="store_true", help="also print the transcript text")
    p.set_defaults(func=cmd_transcribe)

    p = sub.add_parser("put-object", help="copy a local file into a local bucket; prints its s3:// URI")
    p.add_argument("file")
    p.add_argument("--bucket", required=True)
    p.add_argument("--key", help="default: the file name")
    p.set_defaults(func=cmd_put_object, engine="local")

    register_admin(sub)  # settings, templates, aws-login/-logout/-test-connection, kms, models (app/cli_admin.py)

    from .export.cli import register  # export, note-header
    register(sub)
    register_ehr(sub)  # send, outbox, ehr-login/-logout, the EHR settings (app/ehr/cli.py)
    register_s3(sub)  # s3-login/-logout: the S3 store's keys (app/store/s3cli.py)
    register_server(sub)  # serve, server add-user/remove-user/list-users (app/server/cli.py)
    from .local.pool import register as register_pool
    register_pool(sub)  # worker: pool workers for the PostgreSQL job store (app/local/pool.py)
    p = sub.add_parser("_worker")  # hidden: the job worker process
    p.add_argument("--home", required=True)
    p.add_argument("--idle-seconds", type=float)
    p.set_defaults(func=cmd_worker)
    return parser


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> int:
    from .core.privacy import restrict_new_files

    restrict_new_files()  # everything ClinScribe writes may hold PHI: owner-only
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    bad = next((i for i, a in enumerate(argv, start=1) if not _utf8(a)), None)
    if bad is not None:  # the value itself is not shown: it may be a patient's file name
        print(f"clinscribe: error: argument {bad} is not valid UTF-8", file=sys.stderr)
        return EXIT_PARAM
    if not argv:
        args = argparse.Namespace(command="gui")
        func = cmd_gui
    else:
        try:
            args = parser.parse_args(argv)
        except UsageError as exc:
            print(f"clinscribe: {_one_line(exc)}", file=sys.stderr)
            return EXIT_PARAM
        except SystemExit as exc:  # --help, --version
            return exc.code or 0
        if args.self_test:
            from .selftest import main as self_test
            return self_test()
        func = getattr(args, "func", None)
        if func is None:
            parser.print_help()
            return 0
    try:
        return func(args)
    except botocore.exceptions.ParamValidationError as exc:
        print(_one_line(exc), file=sys.stderr)
        return EXIT_PARAM
    except botocore.exceptions.ClientError as exc:
        print(_one_line(exc), file=sys.stderr)
        return EXIT_SERVICE
    except UsageError as exc:
        print(f"clinscribe: {_one_line(exc)}", file=sys.stderr)
        return EXIT_PARAM
    except KeyboardInterrupt:
        print("clinscribe: interrupted (queued jobs keep running in the background)", file=sys.stderr)
        return 130
    except Exception as exc:  # the user sees one line, never a traceback
        from .local.asr import ModelError
        from .store.credentials import CredentialStoreError

        if type(exc).__name__ == "UploadCancelled":
            print("clinscribe: upload cancelled", file=sys.stderr)
            return 130
        clear = (ModelError, OSError, ValueError, CredentialStoreError)
        prefix = "" if isinstance(exc, clear) else f"{type(exc).__name__}: "
        print(f"clinscribe: {prefix}{_one_line(exc)}", file=sys.stderr)
        return EXIT_OTHER
