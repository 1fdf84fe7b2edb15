"""SigV4 verification of incoming requests, with botocore's own signer.

The server rebuilds the request the client signed (method, path, query, the headers named
in ``SignedHeaders``, the body) as a botocore ``AWSRequest`` and lets
``botocore.auth.SigV4Auth`` compute the canonical request, string to sign and signature
with the user's secret, at the request's own ``X-Amz-Date``. Nothing of SigV4's
canonicalisation is retyped here. Errors are AWS's codes and messages.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import hmac
import re
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

from .users import User, UserStore

SERVICE = "transcribe"
MAX_SKEW = 300  # seconds a request's date may be off the server's clock (AWS: 5 min.)

MISSING = "Missing Authentication Token"
UNRECOGNIZED = "The security token included in the request is invalid."
MISMATCH = ("The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
REPLAYED = ("The request signature has already been used: this server accepts each signed request once. "
            "Sign each request anew (the AWS SDKs and CLI do) and try again.")

_AUTH = re.compile(r"^AWS4-HMAC-SHA256\s+(.*)$", re.S)


class AuthError(Exception):
    """A request the server refuses; ``code``/``message``/``status`` as AWS answers it."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass
class Incoming:
    """The parts of an HTTP request SigV4 covers."""

    method: str
    path: str            # the raw path, as sent
    query: str           # the raw query string
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


class _Verifier(SigV4Auth):
    """botocore's signer, signing exactly the headers the client says it signed."""

    def __init__(self, credentials, region, signed: list[str]):
        super().__init__(credentials, SERVICE, region)
        self._signed = signed

    def headers_to_sign(self, request):
        out = HTTPHeaders()
        for name in self._signed:
            for value in request.headers.get_all(name) or []:
                out[name] = value
        return out


def _parse_authorization(value: str) -> tuple[list[str], list[str], str]:
    match = _AUTH.match(value.strip())
    if not match:
        raise AuthError("IncompleteSignatureException",
                        f"Authorization header requires 'AWS4-HMAC-SHA256' as its algorithm.")
    parts = {}
    for piece in match.group(1).split(","):
        key, _, val = piece.strip().partition("=")
        parts[key.strip()] = val.strip()
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if not parts.get(k)]
    if missing:
        raise AuthError("IncompleteSignatureException", " ".join(
            f"Authorization header requires '{k}' parameter." for k in missing)
            + f" Authorization={value.split()[0]}")
    scope = parts["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise AuthError("IncompleteSignatureException",
                        "Credential must have exactly 5 slash-delimited elements, e.g. "
                        "keyid/date/region/service/term, got '" + parts["Credential"] + "'")
    return scope, parts["SignedHeaders"].lower().split(";"), parts["Signature"]


def _timestamp(incoming: Incoming) -> str:
    amz = incoming.header("x-amz-date")
    if amz:
        try:
            dt.datetime.strptime(amz, SIGV4_TIMESTAMP)
            return amz
        except ValueError:
            pass
    elif incoming.header("date"):
        try:
            return parsedate_to_datetime(incoming.header("date")).astimezone(dt.timezone.utc).strftime(SIGV4_TIMESTAMP)
        except (TypeError, ValueError):
            pass
    raise AuthError("IncompleteSignatureException",
                    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")


def _check_clock(stamp: str, now: float) -> float:
    when = calendar.timegm(time.strptime(stamp, SIGV4_TIMESTAMP))
    fmt = lambda t: time.strftime(SIGV4_TIMESTAMP, time.gmtime(t))  # noqa: E731
    if when < now - MAX_SKEW:
        raise AuthError("InvalidSignatureException", f"Signature expired: {stamp} is now earlier than "
                        f"{fmt(now - MAX_SKEW)} ({fmt(now)} - 5 min.)")
    if when > now + MAX_SKEW:
        raise AuthError("InvalidSignatureException", f"Signature not yet current: {stamp} is still later than "
                        f"{fmt(now + MAX_SKEW)} ({fmt(now)} + 5 min.)")
    return when


class Authenticator:
    """Verifies requests against the users' keys; remembers signatures to refuse replays."""

    def __init__(self, users: UserStore, regions: tuple[str, ...] | None = None):
        self.users = users
        self.regions = regions  # None: any region in the credential scope
        self._seen: dict[str, float] = {}  # signature -> when it may be forgotten
        self._lock = threading.Lock()

    def verify(self, incoming: Incoming, now: float | None = None, *, replay: bool = True) -> User:
        """The user who signed ``incoming``; AuthError otherwise. ``replay``: refuse a signature seen
        before. SigV4 dates have one-second resolution and boto3 does not sign its invocation id, so
        two identical reads in one second (a fast poll) carry the same signature: the server refuses
        replays only of requests that change something (see protocol.CHANGES)."""
        now = time.time() if now is None else now
        header = incoming.header("authorization")
        if not header:
            raise AuthError("MissingAuthenticationTokenException", MISSING, 403)
        (key_id, _date, region, service, _term), signed, signature = _parse_authorization(header)
        user = self.users.by_access_key(key_id)
        if user is None:
            raise AuthError("UnrecognizedClientException", UNRECOGNIZED)
        if service != SERVICE:
            raise AuthError("InvalidSignatureException",
                            f"Credential should be scoped to correct service: '{SERVICE}'. ")
        if self.regions is not None and region not in self.regions:
            raise AuthError("InvalidSignatureException", "Credential should be scoped to a valid region. ")
        stamp = _timestamp(incoming)
        content_sha = incoming.header("x-amz-content-sha256")
        if content_sha is not None and content_sha != hashlib.sha256(incoming.body).hexdigest():
            raise AuthError("InvalidSignatureException",
                            "The provided 'x-amz-content-sha256' header does not match what was computed.")
        host = incoming.header("host") or "localhost"
        url = f"http://{host}{incoming.path}" + (f"?{incoming.query}" if incoming.query else "")
        request = AWSRequest(method=incoming.method, url=url, data=incoming.body)
        for name, value in incoming.headers:
            if name.lower() in signed:
                request.headers[name.lower()] = value
        request.context["timestamp"] = stamp
        verifier = _Verifier(Credentials(key_id, user.secret_access_key), region, signed)
        expected = verifier.signature(verifier.string_to_sign(request, verifier.canonical_request(request)),
                                      request)
        if not hmac.compare_digest(expected, signature):
            raise AuthError("InvalidSignatureException", MISMATCH)
        when = _check_clock(stamp, now)
        if replay:
            self._remember(signature, when + MAX_SKEW + 1, now)
        return user

    def _remember(self, signature: str, until: float, now: float) -> None:
        with self._lock:
            if len(self._seen) > 1000:
                self._seen = {s: t for s, t in self._seen.items() if t > now}
            if self._seen.get(signature, 0) > now:
                raise AuthError("InvalidSignatureException", REPLAYED)
            self._seen[signature] = until
