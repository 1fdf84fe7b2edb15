"""The admin commands of ``clinscribe`` (registered by app.cli's parser): ``settings``, ``templates``,
``aws-login`` / ``aws-logout`` / ``aws-test-connection``, ``kms`` and ``models``."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def cmd_templates(args) -> int:
    """The shipped and the user's note templates; a file that cannot be used is one line on stderr."""
    from .core.config import home
    from .live.templates import TEMPLATE_TAG, available_templates

    found, problems = available_templates(home())
    for template_id, template in sorted(found.items()):
        print(f"{template_id}: {template.name} ({', '.join(s.title for s in template.sections)})")
    for problem in problems:
        print(f"skipped {problem}", file=sys.stderr)
    print(f"Choose one for a job with the tag Key={TEMPLATE_TAG},Value=<id>; add your own as "
          f"{home() / 'templates'}/<id>.json", file=sys.stderr)
    return 1 if problems else 0


def cmd_settings(args) -> int:
    from dataclasses import asdict

    from .core.config import Settings, home

    settings = Settings.load()
    changed = False
    for key in ("engine", "model", "device", "compute_type", "storage_root", "default_input_bucket",
                "default_output_bucket", "aws_region", "aws_profile", "aws_endpoint_url", "aws_input_bucket",
                "aws_input_prefix", "encrypt_audio", "voice_commands", "aws_s3_endpoint_url", "s3_endpoint_url",
                "s3_region", "job_store_url"):
        value = getattr(args, f"set_{key}", None)
        if value is not None:
            setattr(settings, key, value == "true" if key in ("encrypt_audio", "voice_commands") else value)
            changed = True
    if changed:
        if settings.job_store_url:
            from .store.pgjobstore import check_url
            check_url(settings.job_store_url)  # no password in settings
        if settings.engine == "local":
            from .local.asr import resolve_model
            resolve_model(settings.model)  # refuse a model that cannot be used
        settings.save()
    print(json.dumps({"Home": str(home()), **asdict(settings)}, indent=4))
    return 0


def cmd_aws_login(args) -> int:
    from .cli import UsageError
    from .store.credentials import ask_keys, mask, save_aws_keys

    if not sys.stdin.isatty():
        raise UsageError("aws-login asks for the keys at a terminal")
    key_id, secret, token = ask_keys("AWS", session_token=args.with_session_token)
    save_aws_keys(key_id, secret, token)
    print(f"Saved {mask(key_id)} in the OS keyring.")
    return 0


def cmd_aws_logout(args) -> int:
    from .store.credentials import delete_aws_keys

    delete_aws_keys()
    print("AWS keys removed from the OS keyring.")
    return 0


def cmd_kms(args) -> int:
    """Local KMS keys (the keys OutputEncryptionKMSKeyId names for the local engine)."""
    from .core.config import home
    from .store.kms import LocalKms

    kms = LocalKms(home())
    if args.kms_command == "list-keys":
        print(json.dumps({"Keys": kms.list_keys()}, indent=4))
    elif args.kms_command == "create-key":
        print(json.dumps({"KeyId": kms.ensure_key(args.key_id, "CreateKey")}, indent=4))
    elif args.kms_command == "export-key":
        print(kms.export_key(args.key_id))
    else:  # import-key
        source = args.key_material
        material = sys.stdin.buffer.read() if source == "-" else Path(source.removeprefix("fileb://")).read_bytes()
        print(json.dumps({"KeyId": kms.import_key(args.key_id, material)}, indent=4))
    return 0


def cmd_aws_test(args) -> int:
    from .cli import _engine

    print(_engine(args).test_connection())
    return 0


def cmd_models(args) -> int:
    from .local.asr import BUILTIN_MODELS, ModelError, pick_device, resolve_model

    device, compute = pick_device()
    rows = []
    for name in BUILTIN_MODELS:
        try:
            rows.append({"Model": name, "Available": True, "Path": str(resolve_model(name))})
        except ModelError as exc:
            rows.append({"Model": name, "Available": False, "Reason": str(exc)})
    print(json.dumps({"Models": rows, "Device": device, "ComputeType": compute}, indent=4))
    return 0


def register(sub) -> None:
    p = sub.add_parser("settings", help="show or change settings")
    p.add_argument("--engine", dest="set_engine", choices=("local", "aws"))
    p.add_argument("--model", dest="set_model")
    p.add_argument("--device", dest="set_device", choices=("auto", "cpu", "cuda"))
    p.add_argument("--compute-type", dest="set_compute_type")
    p.add_argument("--storage-root", dest="set_storage_root", help="folder for the local buckets")
    p.add_argument("--default-input-bucket", dest="set_default_input_bucket")
    p.add_argument("--default-output-bucket", dest="set_default_output_bucket")
    p.add_argument("--aws-region", dest="set_aws_region")
    p.add_argument("--aws-profile", dest="set_aws_profile", help="named profile from ~/.aws (empty: none)")
    p.add_argument("--aws-endpoint-url", dest="set_aws_endpoint_url", help="e.g. a VPC endpoint (empty: AWS's)")
    p.add_argument("--aws-input-bucket", dest="set_aws_input_bucket", help="S3 bucket recordings are uploaded to")
    p.add_argument("--aws-s3-endpoint-url", dest="set_aws_s3_endpoint_url",
                   help="the AWS engine's S3 endpoint when not --aws-endpoint-url's (e.g. a clinic's MinIO)")
    p.add_argument("--s3-endpoint-url", dest="set_s3_endpoint_url",
                   help='local engine media/transcripts: "" local buckets, "aws" AWS S3, or https://minio.clinic:9000')
    p.add_argument("--s3-region", dest="set_s3_region", help="region of --s3-endpoint-url's store")
    p.add_argument("--aws-input-prefix", dest="set_aws_input_prefix")
    p.add_argument("--encrypt-audio", dest="set_encrypt_audio", choices=("true", "false"),
                   help="seal recordings and bucket audio at rest with the local key clinscribe-audio")
    p.add_argument("--voice-commands", dest="set_voice_commands", choices=("true", "false"),
                   help='DICTATION jobs on the local engine: apply "period", "new paragraph", "next field"...')
    p.add_argument("--job-store-url", dest="set_job_store_url",
                   help="postgresql://user@host/db: a shared queue for 'clinscribe worker' pools (empty: SQLite)")
    p.set_defaults(func=cmd_settings)

    p = sub.add_parser("templates", help="list the note templates a job can choose (tag clinscribe:template)")
    p.set_defaults(func=cmd_templates)

    p = sub.add_parser("aws-login", help="store AWS access keys in the OS keyring (asks for them; never on the command line)")
    p.add_argument("--with-session-token", action="store_true", help="also ask for a session token")
    p.set_defaults(func=cmd_aws_login)
    p = sub.add_parser("aws-logout", help="remove the AWS keys from the OS keyring")
    p.set_defaults(func=cmd_aws_logout)
    p = sub.add_parser("aws-test-connection", help="check the AWS settings and credentials, saying what is wrong")
    p.set_defaults(func=cmd_aws_test, engine="aws")

    p = sub.add_parser("kms", help="local encryption keys for OutputEncryptionKMSKeyId (kept in the OS keyring)")
    kms = p.add_subparsers(dest="kms_command", required=True, metavar="KMS_COMMAND")
    kms.add_parser("list-keys", help="the local keys this computer has")
    for name, help_text in (("create-key", "create a key now (jobs also create the key they name)"),
                            ("export-key", "print a key's private half (base64) to keep a backup or move it"),
                            ("import-key", "keep a key exported on another computer")):
        k = kms.add_parser(name, help=help_text)
        k.add_argument("--key-id", required=True, help="key id, key ARN, alias/name or alias ARN")
        if name == "import-key":
            k.add_argument("--key-material", required=True, help="file (or fileb://file) as export-key wrote it; - for stdin")
    p.set_defaults(func=cmd_kms)

    p = sub.add_parser("models", help="list the speech models and the device that would be used")
    p.set_defaults(func=cmd_models)
