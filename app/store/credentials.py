"""AWS access keys in the OS keyring, and nowhere else.

ClinScribe never writes credentials to ``settings.json``, to its databases or to
logs. Keys the user types in are kept by the operating system's keyring
(Windows Credential Manager, macOS Keychain, the Secret Service — GNOME Keyring
or KWallet — on Linux) through the ``keyring`` library, under the service name
``ClinScribe``. Without a usable keyring every function here raises
:class:`CredentialStoreError` with a message the user can act on; the AWS engine
then falls back to a named profile or the standard AWS credential chain.

Windows Credential Manager caps one secret at 2,560 bytes (1,280 UTF-16
characters) and STS session tokens can be longer, so long values are stored in
numbered pieces (``aws_session_token#1``, ``#2`` …) that :func:`load_aws_keys`
joins again.
"""

from __future__ import annotations

SERVICE_NAME = "ClinScribe"

ACCESS_KEY_ID = "aws_access_key_id"
SECRET_ACCESS_KEY = "aws_secret_access_key"
SESSION_TOKEN = "aws_session_token"
_FIELDS = (ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN)

CHUNK_CHARS = 1000          # safely below Windows' 1,280 UTF-16 characters per secret
_CHUNKED = "\x00chunks:"    # marker value of a field stored in pieces
_MAX_CHUNKS = 64

NO_KEYRING = ("No usable OS keyring: ClinScribe keeps AWS keys only in the system keyring "
              "(Windows Credential Manager, macOS Keychain, or a Secret Service such as GNOME Keyring "
              "or KWallet on Linux). Start or unlock one, or use an AWS profile or the "
              "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY environment variables instead.")


class CredentialStoreError(RuntimeError):
    """The OS keyring cannot be used (none installed, locked, or access refused)."""


def _keyring():
    try:
        import keyring
        import keyring.errors  # noqa: F401
    except ImportError as exc:  # pragma: no cover - keyring is a runtime dependency
        raise CredentialStoreError(f"{NO_KEYRING} (the 'keyring' package is missing: {exc})") from None
    return keyring


def _call(func, *args):
    """Run a keyring call, turning its failures into CredentialStoreError (never showing secrets)."""
    keyring = _keyring()
    errors = keyring.errors
    try:
        return func(*args)
    except errors.NoKeyringError:
        raise CredentialStoreError(NO_KEYRING) from None
    except errors.KeyringLocked:
        raise CredentialStoreError("The OS keyring is locked: unlock it and try again.") from None
    except errors.InitError as exc:
        raise CredentialStoreError(f"The OS keyring could not be opened: {type(exc).__name__}. "
                                   "Check that it is running and unlocked.") from None
    except errors.KeyringError as exc:
        # The message of a backend error never contains the secret itself (we never pass it in
        # an exception), but keep it short and typed.
        raise CredentialStoreError(f"The OS keyring refused the request ({type(exc).__name__}). "
                                   "Check that it is running and unlocked.") from None


def backend_name() -> str:
    """The keyring backend in use, for diagnostics (e.g. ``SecretService Keyring``)."""
    keyring = _keyring()
    backend = keyring.get_keyring()
    return getattr(backend, "name", type(backend).__name__)


def _get(name: str) -> str | None:
    keyring = _keyring()
    return _call(keyring.get_password, SERVICE_NAME, name)


def _set(name: str, value: str) -> None:
    keyring = _keyring()
    _call(keyring.set_password, SERVICE_NAME, name, value)


def _delete(name: str) -> None:
    keyring = _keyring()
    try:
        _call(keyring.delete_password, SERVICE_NAME, name)
    except CredentialStoreError:
        # PasswordDeleteError (nothing stored) is a KeyringError: absent is what we want.
        if _call(keyring.get_password, SERVICE_NAME, name) is not None:
            raise


def _read_field(name: str) -> str | None:
    value = _get(name)
    if value is None or not value.startswith(_CHUNKED):
        return value
    try:
        count = int(value[len(_CHUNKED):])
    except ValueError:
        return None
    parts = []
    for i in range(1, min(count, _MAX_CHUNKS) + 1):
        part = _get(f"{name}#{i}")
        if part is None:
            return None  # a half-written value: treat as absent rather than use a broken token
        parts.append(part)
    return "".join(parts)


def _delete_field(name: str) -> None:
    value = _get(name)
    if value is not None and value.startswith(_CHUNKED):
        try:
            count = int(value[len(_CHUNKED):])
        except ValueError:
            count = 0
        for i in range(1, min(count, _MAX_CHUNKS) + 1):
            _delete(f"{name}#{i}")
    if value is not None:
        _delete(name)


def _write_field(name: str, value: str) -> None:
    _delete_field(name)
    if len(value) <= CHUNK_CHARS:
        _set(name, value)
        return
    parts = [value[i:i + CHUNK_CHARS] for i in range(0, len(value), CHUNK_CHARS)]
    if len(parts) > _MAX_CHUNKS:
        raise ValueError(f"{name} is too long to store ({len(value)} characters).")
    for i, part in enumerate(parts, start=1):
        _set(f"{name}#{i}", part)
    _set(name, f"{_CHUNKED}{len(parts)}")  # written last: a crash leaves no half value visible


def _clean(label: str, value: str | None, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError(f"The AWS {label} is empty.")
        return None
    if not isinstance(value, str):
        raise TypeError(f"The AWS {label} must be text.")
    value = value.strip()
    if any(ch.isspace() for ch in value):
        raise ValueError(f"The AWS {label} contains spaces or line breaks: paste it again.")
    return value


def save_aws_keys(access_key_id: str, secret_access_key: str, session_token: str | None = None) -> None:
    """Keep an access key (and optional session token) in the OS keyring, replacing any stored one."""
    access_key_id = _clean("access key ID", access_key_id, True)
    secret_access_key = _clean("secret access key", secret_access_key, True)
    session_token = _clean("session token", session_token, False)
    _write_field(ACCESS_KEY_ID, access_key_id)
    _write_field(SECRET_ACCESS_KEY, secret_access_key)
    if session_token:
        _write_field(SESSION_TOKEN, session_token)
    else:
        _delete_field(SESSION_TOKEN)  # a new long-term key must not be paired with an old token


def load_aws_keys() -> dict | None:
    """``{"aws_access_key_id", "aws_secret_access_key"[, "aws_session_token"]}`` or None when none is stored.

    The keys are those of ``boto3.Session(**keys)``.
    """
    access_key_id = _read_field(ACCESS_KEY_ID)
    secret_access_key = _read_field(SECRET_ACCESS_KEY)
    if not access_key_id or not secret_access_key:
        return None
    keys = {ACCESS_KEY_ID: access_key_id, SECRET_ACCESS_KEY: secret_access_key}
    token = _read_field(SESSION_TOKEN)
    if token:
        keys[SESSION_TOKEN] = token
    return keys


def delete_aws_keys() -> None:
    """Remove the stored keys (nothing stored is fine)."""
    for name in _FIELDS:
        _delete_field(name)


def mask(access_key_id: str | None) -> str:
    """``AKIA…WXYZ``: enough to recognise a key in the UI, never the secret."""
    if not access_key_id:
        return ""
    return access_key_id[:4] + "…" + access_key_id[-4:] if len(access_key_id) > 8 else "…"


def ask_keys(label: str, session_token: bool = False) -> tuple[str, str, str | None]:
    """Prompt at the terminal for ``label``'s access key ID, secret access key and (``session_token``)
    session token; the token is None when not asked for or left empty."""
    import getpass

    key_id = input(f"{label} access key ID: ").strip()
    secret = getpass.getpass(f"{label} secret access key: ").strip()
    token = getpass.getpass(f"{label} session token: ").strip() if session_token else None
    return key_id, secret, token or None


def get_secret(name: str) -> str | None:
    """Another secret ClinScribe keeps in the keyring (e.g. a local KMS key), or None."""
    return _read_field(name)


def set_secret(name: str, value: str) -> None:
    _write_field(name, value)


def delete_secret(name: str) -> None:
    _delete_field(name)
