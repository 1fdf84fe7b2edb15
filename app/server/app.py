"""The ASGI app: Transcribe's API (``POST /``), ``GET /health`` and ``GET /metrics``.

Every API request is SigV4-verified (:mod:`.auth`), routed by botocore's model
(:mod:`.protocol`) to the local engine as the caller's view (:meth:`LocalEngine.as_user`;
an admin key sees every job), and answered byte-compatibly with AWS. One JSON log line a
request: operation, status, error code, duration, user; never job names, files or text (PHI).
"""

from __future__ import annotations

import contextlib
import threading
import time
import traceback
import uuid

import botocore.exceptions
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import __version__
from . import protocol
from .auth import Authenticator, AuthError, Incoming
from .metrics import Metrics, log_event, setup_logging
from .users import UserStore

AUTH_CODES = ("MissingAuthenticationTokenException", "UnrecognizedClientException",
              "InvalidSignatureException", "IncompleteSignatureException")


class Server:
    """The state the app shares between requests: the engine, users, replay cache, counters."""

    def __init__(self, engine, users: UserStore | None = None, regions: tuple[str, ...] | None = None):
        self.engine = engine
        self.users = users or UserStore(engine.home / "jobs.db")
        self.auth = Authenticator(self.users, regions)
        self.metrics = Metrics(engine.store)
        # The engine's worker supervision (reconcile: its child list, the worker lock) is not
        # thread-safe; its calls take milliseconds, so the server runs them one at a time.
        self._engine_lock = threading.Lock()

    def call(self, user, op, params: dict) -> dict:
        view = self.engine.as_user(None if user.admin else user.name)
        with self._engine_lock:
            return getattr(view, protocol.method_name(op))(**params)


def _answer(status: int, body: bytes, request_id: str, code: str = "") -> Response:
    headers = {"x-amzn-RequestId": request_id}
    if code:
        headers["x-amzn-ErrorType"] = code
    return Response(body, status_code=status, media_type=protocol.CONTENT_TYPE, headers=headers)


async def _api(request: Request) -> Response:
    server: Server = request.app.state.server
    started, request_id = time.monotonic(), str(uuid.uuid4())
    operation, user, code = "", None, ""
    try:
        body = await request.body()
        incoming = Incoming(request.method, request.scope.get("raw_path", b"/").decode("latin-1"),
                            request.scope.get("query_string", b"").decode("latin-1"),
                            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]],
                            body)
        target = incoming.header("x-amz-target") or ""
        operation = target.partition(".")[2][:64] if target.startswith("Transcribe.") else ""
        user = await run_in_threadpool(server.auth.verify, incoming, replay=operation in protocol.CHANGES)
        op = protocol.operation(target)
        params = protocol.read_body(body, op)
        result = await run_in_threadpool(server.call, user, op, params)
        response = _answer(200, protocol.response_body(result, op), request_id)
    except AuthError as exc:
        code = exc.code
        response = _answer(exc.status, protocol.error_body(code, exc.message, lower=True), request_id, code)
    except protocol.ProtocolError as exc:
        code = exc.code
        response = _answer(exc.status, protocol.error_body(code, exc.message), request_id, code)
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code") or "BadRequestException"
        response = _answer(protocol.error_status(code), protocol.error_body(code, error.get("Message", "")),
                           request_id, code)
    except botocore.exceptions.ParamValidationError as exc:  # what boto3 checks client-side, sent raw
        code = "BadRequestException"
        message = " ".join(str(exc).split())
        response = _answer(400, protocol.error_body(code, message), request_id, code)
    except Exception as exc:  # never a traceback to the client; only the exception's type in the log
        code = "InternalFailureException"
        frames = traceback.extract_tb(exc.__traceback__)
        where = f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
        log_event(event="internal_error", request_id=request_id, exception=type(exc).__name__, where=where)
        response = _answer(500, protocol.error_body(code, protocol.INTERNAL), request_id, code)
    seconds = time.monotonic() - started
    known = operation if operation in protocol.OPERATIONS else "unknown"
    server.metrics.count(known, code, seconds)
    log_event(event="request", request_id=request_id, operation=known, status=response.status_code,
              error=code or None, duration_ms=round(seconds * 1000, 1), user=user.name if user else None)
    return response


async def _health(request: Request) -> Response:
    server: Server = request.app.state.server
    try:
        queue = await run_in_threadpool(server.metrics.queue)
    except Exception as exc:
        return JSONResponse({"ok": False, "version": __version__, "error": type(exc).__name__}, status_code=503)
    return JSONResponse({"ok": True, "version": __version__, "engine": server.engine.name,
                         "model": server.engine.model_spec, "queue_depth": queue["QUEUED"] + queue["IN_PROGRESS"],
                         "jobs": queue})


async def _metrics(request: Request) -> Response:
    server: Server = request.app.state.server
    text = await run_in_threadpool(server.metrics.render)
    return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8")


def create_app(engine=None, *, regions: tuple[str, ...] | None = None) -> Starlette:
    """The app around ``engine`` (default: the local engine on the configured home)."""
    setup_logging()
    if engine is None:
        from ..engine.local import LocalEngine
        engine = LocalEngine()
    server = Server(engine, regions=regions)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        log_event(event="start", version=__version__, engine=engine.name)
        yield
        # uvicorn has stopped taking requests and let the running ones finish (SIGTERM/SIGINT);
        # the jobs are in the store and the worker process finishes the one it runs.
        engine.close()
        log_event(event="stop")

    app = Starlette(routes=[Route("/", _api, methods=["POST"]), Route("/health", _health, methods=["GET"]),
                            Route("/metrics", _metrics, methods=["GET"])], lifespan=lifespan)
    app.state.server = server
    return app
