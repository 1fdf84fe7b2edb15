"""The local engine's replies in AWS's shapes: client errors, timestamps, and List pages with an
opaque NextToken (shared by its jobs and its medical vocabularies)."""

from __future__ import annotations

import base64
import json

import botocore.utils

from ..core import service

MEDIA_UNREADABLE = ("The S3 URI that you provided can't be accessed. Make sure that you have "
                    "read permission and try your request again.")


def _time(value: float | None):
    return None if value is None else botocore.utils.parse_timestamp(value)


VOCAB_NOT_FOUND = ("The requested vocabulary couldn't be found. "
                   "Check the vocabulary name and try your request again.")


def _error(code: str, message: str, operation: str):
    return service.client_error(code, message, operation)


def _encode_token(seq: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": seq}).encode()).decode()


def _decode_token(token: str | None, operation: str) -> int | None:
    if not token:
        return None
    try:
        before = int(json.loads(base64.urlsafe_b64decode(token))["before"])
        if not 0 < before < 2 ** 63:
            raise ValueError(before)
        return before
    except (ValueError, KeyError, TypeError, OverflowError, RecursionError):
        raise _error("BadRequestException", "The NextToken is not valid. "
                     "Use the NextToken from the previous response.", operation) from None


def _page(params: dict, operation: str, status: str | None, key: str, summary, fetch) -> dict:
    """A List response: newest first, MaxResults (default 5) a page, an opaque NextToken."""
    limit = params.get("MaxResults", 5)
    recs = fetch(_decode_token(params.get("NextToken"), operation), limit + 1)
    out: dict = {"Status": status} if status else {}
    if len(recs) > limit:
        recs = recs[:limit]
        out["NextToken"] = _encode_token(recs[-1].seq)
    out[key] = [summary(r) for r in recs]
    out["ResponseMetadata"] = service.response_metadata()
    return out
