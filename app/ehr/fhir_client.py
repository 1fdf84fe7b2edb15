"""POST a note to a FHIR R4 server: a DocumentReference, or a transaction Bundle.

urllib3 (already installed with botocore) does the HTTP; the retry policy is ours because it
depends on FHIR: 429 and 5xx and network errors are retried with exponential backoff, honouring
``Retry-After``; any other 4xx is final and its ``OperationOutcome`` is turned into words. A
DocumentReference is created conditionally (``If-None-Exist`` on its ``urn:uuid`` identifier), so a
retry after a lost response cannot store the note twice.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import time

import urllib3

from .base import SendError, SendResult, with_retries

USER_AGENT = "ClinScribe-FHIR/1"
MAX_SERVER_WAIT = 60.0  # a Retry-After longer than this is left to the outbox's later retry


def outcome_words(body: bytes, status: int) -> str:
    """An OperationOutcome (or any error body) as one line a user can act on."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if isinstance(data, dict) and data.get("resourceType") == "OperationOutcome":
        parts = []
        for issue in data.get("issue") or []:
            text = (issue.get("details") or {}).get("text") or issue.get("diagnostics") or issue.get("code") or ""
            where = ", ".join(issue.get("expression") or issue.get("location") or [])
            parts.append(f"{text} ({where})" if where else text)
        if parts:
            return "; ".join(p for p in parts if p)
    text = body.decode("utf-8", "replace").strip() if body else ""
    return " ".join(text.split())[:200] or f"HTTP {status}"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


def _server_id(resource: dict | None, location: str) -> str:
    """``Type/id`` from a Location (``…/DocumentReference/1/_history/2``) or the returned resource."""
    if location:
        parts = location.split("/_history/")[0].rstrip("/").split("/")
        if len(parts) >= 2:
            return f"{parts[-2]}/{parts[-1]}"
    if isinstance(resource, dict) and resource.get("id"):
        return f"{resource.get('resourceType')}/{resource['id']}"
    return ""


class FhirClient:
    def __init__(self, base_url: str, *, token: str | None = None, auth=None, timeout: float = 30.0,
                 retries: int = 4, sleep=time.sleep, pool: urllib3.PoolManager | None = None):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("The FHIR base URL must start with https:// (or http:// on a test machine).")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.auth = auth  # a token provider (app.ehr.smart.SmartAuth): token(), invalidate()
        self._renewed = False
        self.timeout = timeout
        self.retries = retries
        self.sleep = sleep
        self.pool = pool or urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=10, read=timeout))

    def _headers(self, extra: dict | None = None) -> dict:
        headers = {"Accept": "application/fhir+json", "Content-Type": "application/fhir+json; charset=utf-8",
                   "User-Agent": USER_AGENT}
        token = self.auth.token() if self.auth is not None else self.token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        headers.update(extra or {})
        return headers

    def _once(self, method: str, url: str, body: bytes | None, headers: dict):
        try:
            response = self.pool.request(method, url, body=body, headers=headers, redirect=False,
                                         preload_content=True)
        except urllib3.exceptions.HTTPError as exc:  # refused, reset, dropped, timed out, TLS
            reason = getattr(exc, "reason", None) or exc
            raise SendError(f"The FHIR server could not be reached ({type(reason).__name__}).",
                            retryable=True) from None
        status = response.status
        if status < 300:
            return response
        words = outcome_words(response.data, status)
        if status == 401 and self.auth is not None and not self._renewed:
            self._renewed = True  # an access token revoked or expired early: one more try with a new one
            self.auth.invalidate()
            error = SendError(f"The FHIR server refused the access token (401): {words}", retryable=True, status=401)
            error.retry_after = 0.0
            raise error
        if status in (401, 403):
            raise SendError(f"The FHIR server refused the credentials ({status}): {words}. "
                            "Check fhir_auth and run 'clinscribe ehr-login'.", retryable=False, status=status)
        retryable = status == 429 or status >= 500
        error = SendError(f"The FHIR server answered {status}: {words}", retryable=retryable, status=status)
        error.retry_after = _retry_after(response.headers.get("Retry-After"))
        raise error

    def _wait_hint(self, exc: SendError) -> float | None:
        wait = getattr(exc, "retry_after", None)
        if wait is not None and wait > MAX_SERVER_WAIT:
            exc.later = True  # not now: the outbox retries it later
            exc.args = (f"{exc.args[0]} (the server asks to wait {wait:.0f} s)",)
            return None
        return wait

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        url = f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url
        self.attempts = 0
        self._renewed = False

        def attempt():
            self.attempts += 1
            return self._once(method, url, body, self._headers(headers))

        return with_retries(attempt, retries=self.retries, sleep=self.sleep, wait_hint=self._wait_hint)

    def post_document(self, payload: str, *, identifier: str | None = None) -> SendResult:
        """POST a DocumentReference (JSON text); ``identifier``: its urn:uuid, for a conditional create."""
        extra = {"If-None-Exist": f"identifier=urn:ietf:rfc:3986|{identifier}"} if identifier else None
        response = self.request("POST", "DocumentReference", payload.encode("utf-8"), extra)
        resource = _json(response.data)
        location = response.headers.get("Location") or response.headers.get("Content-Location") or ""
        return SendResult(_server_id(resource, location), location, self.attempts)

    def post_bundle(self, payload: str) -> SendResult:
        """POST a transaction Bundle to the base URL; the result names the DocumentReference created."""
        response = self.request("POST", "", payload.encode("utf-8"))
        bundle = _json(response.data) or {}
        for entry in bundle.get("entry") or []:
            reply = entry.get("response") or {}
            location = reply.get("location") or ""
            if location.startswith("DocumentReference/") or "/DocumentReference/" in location:
                return SendResult(_server_id(entry.get("resource"), location), location, self.attempts)
            if (entry.get("resource") or {}).get("resourceType") == "DocumentReference":
                return SendResult(_server_id(entry["resource"], ""), "", self.attempts)
        return SendResult("", "", self.attempts)

    def read(self, path: str) -> dict:
        return _json(self.request("GET", path).data) or {}


def _json(body: bytes) -> dict | None:
    try:
        data = json.loads(body.decode("utf-8")) if body else None
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None
