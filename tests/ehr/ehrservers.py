"""Real servers for the EHR tests, all on 127.0.0.1: the medplum FHIR R4 server (Node), a
fault-injecting HTTP proxy in front of it, and an MLLP listener from python ``hl7``."""

from __future__ import annotations

import pytest

import asyncio
import http.client
import http.server
import json
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import hl7
from hl7.mllp import start_hl7_server

FHIR_DIR = Path(__file__).resolve().parents[1] / "servers" / "fhir"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fhir_server_unavailable() -> str | None:
    """Why the Node FHIR server cannot run here (None when it can), installing its packages if need be."""
    if not shutil.which("node"):
        return "node is not installed (the FHIR server of these tests is a Node program)"
    if not (FHIR_DIR / "node_modules" / "@medplum" / "fhir-router").is_dir():
        if not shutil.which("npm"):
            return "npm is not installed and tests/servers/fhir/node_modules is missing (run scripts/setup.sh)"
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=FHIR_DIR, capture_output=True, text=True)
        if done.returncode != 0:
            return f"npm ci failed in tests/servers/fhir: {done.stderr.strip()[-300:]}"
    return None


class FhirServer:
    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen(["node", "server.js", str(self.port)], cwd=FHIR_DIR, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()  # "listening PORT" once the definitions are indexed
        if not line.startswith("listening"):
            self.proc.kill()
            raise RuntimeError(f"the FHIR server did not start: {line}{self.proc.stdout.read()[-500:]}")
        self.url = f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> dict:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/" + path.lstrip("/"), headers={"Accept": "application/fhir+json"})
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def search(self, resource_type: str, **params) -> list[dict]:
        from urllib.parse import urlencode

        bundle = self.get(f"{resource_type}?{urlencode(params)}")
        return [e["resource"] for e in bundle.get("entry") or []]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


OUTCOME_422 = {"resourceType": "OperationOutcome", "issue": [
    {"severity": "error", "code": "structure", "details": {"text": "Missing required property"},
     "expression": ["DocumentReference.subject"]}]}


class FaultProxy:
    """An HTTP proxy to ``upstream`` that plays queued faults, one per request, then passes through.

    Faults: 401, 422 (an OperationOutcome), 429 / 503 (with Retry-After 0), "drop" (the connection is
    closed before the request is forwarded), "drop-after" (forwarded, then closed without an answer).
    """

    def __init__(self, upstream_port: int):
        self.faults: list = []
        self.requests: list[tuple[str, str, dict]] = []
        # path -> handler(method, headers, body) -> (status, content type, bytes): e.g. an OAuth token endpoint
        self.local_routes: dict = {}
        self.accepted_tokens: set[str] | None = None  # when set, other bearer tokens get 401
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.requests.append((self.command, self.path, dict(self.headers)))
                route = proxy.local_routes.get(self.path.split("?")[0])
                if route is not None:
                    status, kind, data = route(self.command, dict(self.headers), body)
                    return self._reply(status, kind, data)
                if proxy.accepted_tokens is not None and \
                        self.headers.get("Authorization", "").removeprefix("Bearer ") not in proxy.accepted_tokens:
                    return self._reply(401, "application/fhir+json", json.dumps({
                        "resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "login",
                                                                       "details": {"text": "Unknown token"}}]}).encode())
                fault = proxy.faults.pop(0) if proxy.faults else None
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault in (401, 422, 429, 503):
                    payload = json.dumps(OUTCOME_422 if fault == 422 else {"resourceType": "OperationOutcome", "issue": [
                        {"severity": "error", "code": "login" if fault == 401 else "transient",
                         "details": {"text": {401: "Invalid token", 429: "Too many requests",
                                              503: "Service unavailable"}[fault]}}]}).encode()
                    self.send_response(fault)
                    self.send_header("Content-Type", "application/fhir+json")
                    self.send_header("Content-Length", str(len(payload)))
                    if fault in (429, 503):
                        self.send_header("Retry-After", "0")
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                reply = conn.getresponse()
                data = reply.read()
                conn.close()
                if fault == "drop-after":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(reply.status)
                for key, value in reply.getheaders():
                    if key.lower() not in ("content-length", "connection", "transfer-encoding", "keep-alive"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _reply(self, status, kind, data):
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def posts(self) -> int:
        return sum(1 for method, _, _ in self.requests if method == "POST")

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class MllpListener:
    """An MLLP listener (python hl7's asyncio server) that answers queued behaviours, one per
    message, then AA: "AA", ("AE", text), ("AR", text), "drop" (closed without an ACK)."""

    def __init__(self):
        self.behaviours: list = []
        self.received: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(
            start_hl7_server(self._client, "127.0.0.1", 0, encoding="utf-8"), self.loop).result(10)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _client(self, reader, writer):
        try:
            while not writer.is_closing():
                message = await reader.readmessage()
                self.received.append(str(message))
                behaviour = self.behaviours.pop(0) if self.behaviours else "AA"
                if behaviour == "drop":
                    writer.close()
                    return
                code, text = (behaviour, "") if isinstance(behaviour, str) else behaviour
                ack = str(message.create_ack(code, message_id=f"ACK{len(self.received)}"))
                if text:
                    escaped = message.escape(text)
                    ack += f"|{escaped}\rERR|||207^Application internal error^HL70357|E||||{escaped}"
                writer.writemessage(hl7.parse(ack))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _shutdown(self):
        self.server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self):
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def wait_until(predicate, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


# -- the fixtures (imported by tests/ehr/conftest.py and the GUI's EHR tests) -------------------------
@pytest.fixture(scope="session")
def fhir_server():
    reason = fhir_server_unavailable()
    if reason:
        pytest.skip(reason)
    server = FhirServer()
    yield server
    server.stop()


@pytest.fixture()
def proxy(fhir_server):
    p = FaultProxy(fhir_server.port)
    yield p
    p.stop()


@pytest.fixture()
def mllp():
    listener = MllpListener()
    yield listener
    listener.stop()


__all__ = ["FhirServer", "FaultProxy", "MllpListener", "fhir_server_unavailable", "free_port", "wait_until",
           "fhir_server", "proxy", "mllp"]
