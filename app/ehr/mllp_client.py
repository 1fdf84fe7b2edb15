"""Send an HL7 v2 message to an interface engine over MLLP (optionally inside TLS) and wait for its ACK.

Uses python ``hl7``'s asyncio MLLP streams (``hl7.mllp.open_hl7_connection``), which frame the
message (``<VT> … <FS><CR>``) and parse the answer; each send runs in its own short event loop so
callers stay synchronous. AA/CA is success; AE/AR (CE/CR) is a refusal whose text (MSA-3, ERR-8,
ERR-3) is shown and not retried; a refused, dropped or silent connection is retried with backoff
(the message keeps its MSH-10 control id, so an engine that saw it can recognise the repeat).
"""

from __future__ import annotations

import asyncio
import ssl
import time

import hl7
from hl7.mllp import open_hl7_connection

from .base import SendError, SendResult, with_retries

ENCODING = "utf-8"  # the messages declare UNICODE UTF-8 in MSH-18


def _field(segment, index: int) -> str:
    try:
        return str(segment[index]).strip()
    except (IndexError, KeyError):
        return ""


def ack_words(ack: hl7.Message) -> str:
    """The refusal's reason: MSA-3 text, then each ERR's user message (ERR-8) or error code (ERR-3)."""
    parts = []
    try:
        msa = ack.segment("MSA")
        parts.append(ack.unescape(_field(msa, 3)))
    except KeyError:
        pass
    try:
        errs = ack.segments("ERR")
    except KeyError:
        errs = []
    for err in errs:
        text = _field(err, 8) or _field(err, 3) or _field(err, 1)
        if text:
            parts.append(ack.unescape(text.replace("^", " ").strip()))
    return "; ".join(p for p in parts if p) or "no reason given"


class MllpClient:
    def __init__(self, host: str, port: int, *, tls: bool = False, ssl_context: ssl.SSLContext | None = None,
                 timeout: float = 30.0, retries: int = 4, sleep=time.sleep):
        if not host:
            raise ValueError("No MLLP host is set: clinscribe settings --mllp-host HOST --mllp-port PORT")
        self.host, self.port = host, int(port)
        self.ssl = (ssl_context or ssl.create_default_context()) if tls else None
        self.timeout, self.retries, self.sleep = timeout, retries, sleep

    async def _exchange(self, message: str) -> hl7.Message:
        kwargs = {"ssl": self.ssl, "server_hostname": self.host} if self.ssl else {}
        reader, writer = await asyncio.wait_for(
            open_hl7_connection(self.host, self.port, encoding=ENCODING, **kwargs), self.timeout)
        try:
            writer.writemessage(message)
            await writer.drain()
            return await asyncio.wait_for(reader.readmessage(), self.timeout)
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (OSError, ssl.SSLError):
                pass

    def _once(self, message: str, control_id: str) -> SendResult:
        where = f"{self.host}:{self.port}"
        try:
            ack = asyncio.run(self._exchange(message))
        except asyncio.TimeoutError:
            raise SendError(f"The interface engine at {where} did not answer in {self.timeout:.0f} s.",
                            retryable=True) from None
        except asyncio.IncompleteReadError:
            raise SendError(f"The interface engine at {where} closed the connection without an ACK.",
                            retryable=True) from None
        except ssl.SSLCertVerificationError as exc:
            raise SendError(f"The interface engine at {where} failed the TLS check: {exc.verify_message}.",
                            retryable=False) from None
        except OSError as exc:  # refused, reset, unreachable
            raise SendError(f"The interface engine at {where} could not be reached "
                            f"({exc.strerror or type(exc).__name__}).", retryable=True) from None
        except Exception as exc:  # a garbled answer (not MLLP, not HL7)
            raise SendError(f"The interface engine at {where} gave an answer that is not an HL7 ACK "
                            f"({type(exc).__name__}).", retryable=True) from None
        try:
            msa = ack.segment("MSA")
        except KeyError:
            raise SendError(f"The interface engine at {where} answered without an MSA segment.",
                            retryable=True) from None
        code = _field(msa, 1)
        if code in ("AA", "CA"):
            answered = _field(msa, 2)
            if control_id and answered and answered != control_id:
                raise SendError(f"The ACK from {where} is for another message ({answered}).", retryable=True)
            return SendResult("", answered)
        kind = "rejected" if code in ("AR", "CR") else "refused"
        raise SendError(f"The interface engine {kind} the message ({code}): {ack_words(ack)}",
                        retryable=False)

    def send(self, message: str) -> SendResult:
        control_id = _field(hl7.parse(message).segment("MSH"), 10)
        return with_retries(lambda: self._once(message, control_id), retries=self.retries, sleep=self.sleep)
