"""``clinscribe send``, ``outbox``, ``ehr-login``/``ehr-logout``, and the EHR settings.

``register(subparsers)`` adds them to the main parser (app/cli.py calls it once).
"""

from __future__ import annotations

import datetime as dt
import json
import sys

EXIT_FAILED = 1  # the note was kept in the outbox; 'clinscribe outbox retry' sends it later

SETTINGS = (("--fhir-base-url", "fhir_base_url", str, "FHIR R4 server base URL (empty: none)"),
            ("--fhir-auth", "fhir_auth", str, "none, bearer (token from 'clinscribe ehr-login') or smart "
                                              "(SMART Backend Services, key from 'clinscribe ehr-smart-key')"),
            ("--fhir-client-id", "fhir_client_id", str, "SMART Backend Services client id"),
            ("--fhir-token-url", "fhir_token_url", str, "SMART token endpoint (empty: discovered)"),
            ("--mllp-host", "mllp_host", str, "interface engine host for HL7 v2 over MLLP"),
            ("--mllp-port", "mllp_port", int, "interface engine port (default 2575)"),
            ("--mllp-tls", "mllp_tls", None, "true or false: MLLP inside TLS"))


def _usage(message: str):
    from ..cli import UsageError
    return UsageError(message)


def _row_json(row) -> dict:
    def when(t):
        return dt.datetime.fromtimestamp(t).isoformat(timespec="seconds") if t else None

    return {"Id": row.id, "JobName": row.job_name, "Engine": row.engine, "To": row.kind,
            "Destination": row.destination, "Status": row.status, "Attempts": row.attempts,
            "LastError": row.last_error, "Created": when(row.created), "SentTime": when(row.sent_time),
            "ServerId": row.server_id, "Replaces": row.replaces, "Summary": row.describe()}


def cmd_send(args) -> int:
    from .send import job_protection, load_note, send_note

    if args.bundle and args.to != "fhir":
        raise _usage("--bundle is for --to fhir")
    note = load_note(args.medical_transcription_job_name, args.engine, redact=args.redact)
    protection = job_protection(args.medical_transcription_job_name, args.engine)
    row = send_note(note, args.to, bundle=args.bundle, protection=protection)
    print(json.dumps(_row_json(row), indent=4, ensure_ascii=False))
    if row.status != "sent":
        print(f"clinscribe: not sent: {row.last_error} (kept in the outbox; 'clinscribe outbox retry' "
              "sends it again)", file=sys.stderr)
        return EXIT_FAILED
    return 0


def cmd_outbox(args) -> int:
    from ..core.config import home
    from .outbox import Outbox
    from .send import retry

    if args.outbox_command == "retry":
        rows = retry(due_only=not args.all)
        print(json.dumps({"Sends": [_row_json(r) for r in rows]}, indent=4, ensure_ascii=False))
        return EXIT_FAILED if any(r.status != "sent" for r in rows) else 0
    rows = Outbox.open(home()).list(args.medical_transcription_job_name, limit=args.max_results)
    print(json.dumps({"Sends": [_row_json(r) for r in rows]}, indent=4, ensure_ascii=False))
    return 0


def cmd_ehr_login(args) -> int:
    import getpass

    from ..store.credentials import set_secret
    from .send import TOKEN_SECRET

    if not sys.stdin.isatty():
        raise _usage("ehr-login asks for the token at a terminal")
    token = getpass.getpass("FHIR bearer token: ").strip()
    if not token or any(ch.isspace() for ch in token):
        raise _usage("The token is empty or contains spaces: paste it again.")
    set_secret(TOKEN_SECRET, token)
    print("Saved the FHIR token in the OS keyring. Use it with: clinscribe settings --fhir-auth bearer")
    return 0


def cmd_ehr_logout(args) -> int:
    from ..store.credentials import delete_secret
    from .send import TOKEN_SECRET

    delete_secret(TOKEN_SECRET)
    print("FHIR token removed from the OS keyring.")
    return 0


def cmd_ehr_smart_key(args) -> int:
    from ..store.credentials import get_secret, set_secret
    from .smart import KEY_SECRET, new_private_key_pem, public_jwk

    pem = None if args.new else get_secret(KEY_SECRET)
    if not pem:
        pem = new_private_key_pem()
        set_secret(KEY_SECRET, pem)
    print(json.dumps({"keys": [public_jwk(pem)]}, indent=4))
    print("Register this public key (JWK Set) and ClinScribe's client id with the EHR; then: clinscribe settings "
          "--fhir-auth smart --fhir-client-id ID", file=sys.stderr)
    return 0


def _extend_settings(sub) -> None:
    """``clinscribe settings`` also sets the EHR destinations (its own keys stay in app/cli_admin.py)."""
    parser = sub.choices.get("settings")
    if parser is None:
        return
    for flag, key, kind, help_text in SETTINGS:
        parser.add_argument(flag, dest=f"ehr_{key}", help=help_text)
    original = parser.get_default("func")

    def cmd_settings(args) -> int:
        from ..core.config import Settings

        values = {key: getattr(args, f"ehr_{key}") for _, key, _, _ in SETTINGS
                  if getattr(args, f"ehr_{key}", None) is not None}
        if values:
            settings = Settings.load()
            for flag, key, kind, _ in SETTINGS:
                if key not in values:
                    continue
                value = values[key]
                if kind is int:
                    if not value.isdigit() or not 0 < int(value) < 65536:
                        raise _usage(f"{flag} must be a port number (1-65535)")
                    value = int(value)
                elif kind is None:
                    if value.lower() not in ("true", "false"):
                        raise _usage(f"{flag} must be true or false")
                    value = value.lower() == "true"
                elif key == "fhir_auth" and value not in ("none", "bearer", "smart"):
                    raise _usage("--fhir-auth must be none, bearer or smart")
                elif key == "fhir_base_url" and value and not value.startswith(("https://", "http://")):
                    raise _usage("--fhir-base-url must start with https://")
                setattr(settings, key, value)
            settings.save()
        return original(args)

    parser.set_defaults(func=cmd_settings)


def register(sub) -> None:
    p = sub.add_parser("send", help="send a job's reviewed note to the EHR (FHIR R4 or HL7 v2 MDM)")
    p.add_argument("--medical-transcription-job-name", required=True)
    p.add_argument("--to", choices=("fhir", "hl7"), required=True)
    p.add_argument("--engine", choices=("local", "aws"), help="the job's engine (default: the settings' engine)")
    p.add_argument("--redact", action="store_true", help="replace each PHI entity by its category")
    p.add_argument("--bundle", action="store_true", help="FHIR: a transaction Bundle (Patient, Composition, "
                                                         "DocumentReference) instead of a DocumentReference")
    p.set_defaults(func=cmd_send)

    p = sub.add_parser("outbox", help="notes sent or waiting to be sent to the EHR")
    o = p.add_subparsers(dest="outbox_command", metavar="OUTBOX_COMMAND")
    lst = o.add_parser("list", help="sends, newest first (the default)")
    lst.add_argument("--medical-transcription-job-name")
    lst.add_argument("--max-results", type=int, default=100)
    r = o.add_parser("retry", help="send again the failed sends that are due")
    r.add_argument("--all", action="store_true", help="every failed or queued send, due or not")
    p.set_defaults(func=cmd_outbox, outbox_command="list", medical_transcription_job_name=None, max_results=100)

    p = sub.add_parser("ehr-login", help="store the FHIR server's bearer token in the OS keyring (asks for it)")
    p.set_defaults(func=cmd_ehr_login)
    p = sub.add_parser("ehr-logout", help="remove the FHIR token from the OS keyring")
    p.set_defaults(func=cmd_ehr_logout)
    p = sub.add_parser("ehr-smart-key", help="SMART Backend Services: make a key pair (private half in the OS "
                                             "keyring) and print the public JWK Set to register with the EHR")
    p.add_argument("--new", action="store_true", help="replace the stored key with a new one")
    p.set_defaults(func=cmd_ehr_smart_key)
    _extend_settings(sub)
