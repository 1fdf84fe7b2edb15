"""What every destination shares: the error a failed send raises, the result of a good one, and
exponential backoff. Messages name the server's answer, never the note's content (no PHI)."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass


class SendError(Exception):
    """A send that did not reach the EHR. ``retryable``: a later attempt may succeed (network,
    429, 5xx); otherwise the destination refused the note and retrying the same payload is futile."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.status = status


@dataclass
class SendResult:
    server_id: str          # e.g. "DocumentReference/123", or the HL7 document number (TXA-12)
    location: str = ""      # the server's Location header, or the ACK's control id
    attempts: int = 1


def backoff(attempt: int, *, base: float = 0.5, cap: float = 30.0) -> float:
    """Seconds to wait before attempt ``attempt + 1``: exponential with jitter, at most ``cap``."""
    return min(cap, base * 2 ** (attempt - 1)) * random.uniform(0.8, 1.2)


def with_retries(call, *, retries: int, sleep=time.sleep, wait_hint=None):
    """``call()`` again after a retryable SendError, up to ``retries`` more times. ``wait_hint(exc)``
    may return the server's own wait (Retry-After) in seconds, or mark the error ``later`` to stop
    trying now (it stays retryable for the outbox)."""
    attempt = 0
    while True:
        attempt += 1
        try:
            result = call()
            if isinstance(result, SendResult):
                result.attempts = attempt
            return result
        except SendError as exc:
            exc.attempts = attempt
            if not exc.retryable or attempt > retries:
                raise
            hint = wait_hint(exc) if wait_hint else None
            if getattr(exc, "later", False):  # e.g. the server asks for a long wait: the outbox retries it
                raise
            sleep(hint if hint is not None else backoff(attempt))
