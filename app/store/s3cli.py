"""``clinscribe s3-login`` / ``s3-logout``: the access key pair of the clinic's S3 store, kept only in
the OS keyring (the ``s3_endpoint_url`` store of the local engine; see app/store/s3store.py)."""

from __future__ import annotations

import sys


def save_keys(access_key_id: str, secret_access_key: str) -> None:
    from . import credentials
    from .s3store import KEY_ID_SECRET, SECRET_KEY_SECRET

    if not access_key_id.strip() or not secret_access_key.strip():
        raise ValueError("both the access key ID and the secret access key are needed")
    credentials.set_secret(KEY_ID_SECRET, access_key_id.strip())
    credentials.set_secret(SECRET_KEY_SECRET, secret_access_key.strip())


def delete_keys() -> None:
    from . import credentials
    from .s3store import KEY_ID_SECRET, SECRET_KEY_SECRET

    credentials.delete_secret(KEY_ID_SECRET)
    credentials.delete_secret(SECRET_KEY_SECRET)


def cmd_s3_login(args) -> int:
    from ..cli import UsageError
    from .credentials import ask_keys, mask

    if not sys.stdin.isatty():
        raise UsageError("s3-login asks for the keys at a terminal (a server without a keyring: give boto3 "
                         "the keys in its environment, ~/.aws or an instance role instead)")
    key_id, secret, _ = ask_keys("S3")
    try:
        save_keys(key_id, secret)
    except ValueError as exc:
        raise UsageError(f"s3-login: {exc}") from None
    print(f"Saved {mask(key_id)} in the OS keyring for the S3 store.")
    return 0


def cmd_s3_logout(args) -> int:
    delete_keys()
    print("S3 store keys removed from the OS keyring.")
    return 0


def register(sub) -> None:
    p = sub.add_parser("s3-login", help="save the S3 store's access keys (s3_endpoint_url) in the OS keyring")
    p.set_defaults(func=cmd_s3_login)
    p = sub.add_parser("s3-logout", help="remove the S3 store's access keys from the OS keyring")
    p.set_defaults(func=cmd_s3_logout)
