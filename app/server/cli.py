"""``clinscribe serve`` and ``clinscribe server add-user|remove-user|list-users``."""

from __future__ import annotations

import json
import os


def _pool(workers: int | None):
    """The worker processes ``serve`` runs beside the API: with the PostgreSQL job store, ``workers``
    of them (default 1; 0 when every worker runs elsewhere). With SQLite the engine starts its one
    worker itself when there is work."""
    from ..core.config import Settings, home

    settings = Settings.load()
    if not settings.job_store_url:
        if workers not in (None, 0, 1):
            raise ValueError("Several workers need the PostgreSQL job store: set it with clinscribe settings "
                             "--job-store-url postgresql://... (the SQLite store runs one worker).")
        return None
    if workers == 0:
        return None
    from ..local.pool import setup_logging, start_pool

    setup_logging()
    return start_pool(home(), 1 if workers is None else workers)


def cmd_serve(args) -> int:
    import signal

    import uvicorn

    from .app import create_app

    if bool(args.certfile) != bool(args.keyfile):
        raise ValueError("TLS needs both --certfile and --keyfile.")
    if args.workers is not None and args.workers < 0:
        raise ValueError("--workers cannot be negative.")
    app = create_app(regions=tuple(args.region) if args.region else None)
    # uvicorn's own access log would print paths and client addresses only; ours is one JSON line.
    config = uvicorn.Config(app, host=args.host, port=args.port, ssl_certfile=args.certfile,
                            ssl_keyfile=args.keyfile, access_log=False, log_level="warning",
                            timeout_graceful_shutdown=10)
    pool = _pool(args.workers)
    # uvicorn stops gracefully at SIGTERM/SIGINT, then raises the signal again for the handler it found:
    # a quiet one here, so the workers below are stopped too (each finishes or gives back its job).
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    try:
        uvicorn.Server(config).run()
    finally:
        if pool is not None:
            pool.stop()
    return 0


def _users():
    from ..core.config import home
    from ..core.privacy import restrict_new_files
    from .users import UserStore

    restrict_new_files()
    return UserStore(home() / "jobs.db")


def cmd_add_user(args) -> int:
    user = _users().add(args.name, admin=args.admin)
    print(json.dumps({"UserName": user.name, "AccessKeyId": user.access_key_id,
                      "SecretAccessKey": user.secret_access_key, "Admin": user.admin}, indent=4))
    return 0


def cmd_remove_user(args) -> int:
    _users().remove(args.name)
    return 0


def cmd_list_users(args) -> int:
    print(json.dumps({"Users": [u.public() for u in _users().all()]}, indent=4))
    return 0


def register(sub) -> None:
    """Add ``serve`` and ``server`` to the ``clinscribe`` command's subparsers."""
    p = sub.add_parser("serve", help="run the clinic server: the local engine behind the Transcribe API "
                                     "(boto3/aws --endpoint-url)")
    p.add_argument("--host", default=os.environ.get("CLINSCRIBE_SERVER_HOST", "127.0.0.1"),
                   help="address to listen on (default 127.0.0.1; 0.0.0.0 for the clinic's network)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    p.add_argument("--certfile", help="TLS certificate (PEM); with --keyfile the server speaks HTTPS")
    p.add_argument("--keyfile", help="TLS private key (PEM)")
    p.add_argument("--workers", type=int,
                   help="with the PostgreSQL job store: worker processes on this machine (default 1; 0: API only, "
                        "the workers run elsewhere with clinscribe worker)")
    p.add_argument("--region", action="append",
                   help="accept only this region in the SigV4 credential scope (repeatable; default any)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("server", help="the clinic server's users and access keys")
    users = p.add_subparsers(dest="server_command", required=True, metavar="SERVER_COMMAND")
    u = users.add_parser("add-user", help="issue an access key; prints AccessKeyId and SecretAccessKey as JSON")
    u.add_argument("name")
    u.add_argument("--admin", action="store_true", help="the key sees every user's jobs")
    u.set_defaults(func=cmd_add_user)
    u = users.add_parser("remove-user", help="remove a user; its key is refused from then on")
    u.add_argument("name")
    u.set_defaults(func=cmd_remove_user)
    u = users.add_parser("list-users", help="the users and their access key ids (never the secrets)")
    u.set_defaults(func=cmd_list_users)
