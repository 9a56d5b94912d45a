"""HTTP conventions shared by the four services: paths, errors, admission, access log and health.

Everything on the per-request path is plain ASGI: Starlette's BaseHTTPMiddleware would cost a
large share of the throughput of a cheap route.
"""

import json
import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import cast

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, ExceptionHandler, Message, Receive, Scope, Send

from common.errors import RetryLater, ServiceError, Unauthorized
from common.logging import describe_exception
from common.metrics import install_metrics
from common.request_id import RequestIdMiddleware
from common.telemetry import FASTAPI_TELEMETRY

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("access")

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}
# Always answered, however busy the service is: an orchestrator must not restart a busy replica.
UNLIMITED_PATHS = frozenset({"/health", "/metrics"})


class TrailingSlashMiddleware:
    """Serve `/tasks/` and `/tasks` alike, without the redirect Starlette would send.

    The redirect's Location names this service's own host and port, which must never reach a
    client behind the gateway, so the slash is dropped before routing instead.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                scope = dict(scope)
                scope["path"] = path.rstrip("/") or "/"
                raw_path = scope.get("raw_path")
                if raw_path:
                    scope["raw_path"] = raw_path.rstrip(b"/") or b"/"
        await self.app(scope, receive, send)


class AdmissionMiddleware:
    """At most MAX_CONCURRENT_REQUESTS in progress; the next is refused at once with 503 and Retry-After.

    Requests past the worker threads queue for one; this bounds that queue, so overload is
    answered in milliseconds instead of piling up until clients time out. Paths in
    `unlimited_paths` (health, metrics) and `unlimited_suffixes` (live streams, which have caps of
    their own) are not counted.
    """

    def __init__(self, app: ASGIApp, unlimited_suffixes: tuple[str, ...] = ("/stream",)) -> None:
        self.app = app
        self.unlimited_suffixes = unlimited_suffixes
        self.in_progress = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_unlimited(scope["path"], self.unlimited_suffixes):
            await self.app(scope, receive, send)
            return
        # The settings are read in the lifespan, after the middleware is built.
        if self.in_progress >= scope["app"].state.settings.max_concurrent_requests:
            await _send_json(send, 503, {"detail": "Service is at capacity; retry shortly"}, [(b"retry-after", b"1")])
            return
        self.in_progress += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_progress -= 1


def _is_unlimited(path: str, suffixes: tuple[str, ...]) -> bool:
    return path in UNLIMITED_PATHS or path.rstrip("/").endswith(suffixes)


class AccessLogMiddleware:
    """One access log line per request, and a 500 for any error nothing else answered.

    Errors are caught here rather than by an `Exception` handler, which Starlette re-raises to
    the server after answering; uvicorn then closes the connection, and the gateway's next
    request on its pooled keep-alive connection would find it dead.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        level = scope["app"].state.settings.access_log_level_number
        started = time.perf_counter()
        status = 0

        async def send_and_remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_remember_status)
        except Exception as exc:
            # One line (type, place, message): the response says nothing of the cause.
            logger.error("Unhandled error on %s %s: %s", scope["method"], scope["path"], describe_exception(exc))
            if status == 0:
                status = 500
                await _send_json(send, 500, {"detail": "Internal server error"})
        finally:
            if level is not None and access_logger.isEnabledFor(level):
                access_logger.log(
                    level,
                    '"%s %s" %d %.1fms',
                    scope["method"],
                    scope["path"],
                    status,
                    (time.perf_counter() - started) * 1000,
                )


async def _send_json(send: Send, status: int, body: dict, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def validation_error_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming each field and what is wrong with it, without echoing the value sent.

    FastAPI's default repeats every invalid input, a password among them, into responses
    (and so into any log or proxy that records them).
    """
    errors = [{key: value for key, value in error.items() if key != "input"} for error in exc.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


async def service_error_handler(request: Request, exc: ServiceError) -> JSONResponse:
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthorized):
        headers.update(UNAUTHORIZED_HEADERS)
    if isinstance(exc, RetryLater):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


def create_service_app(title: str, lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]]) -> FastAPI:
    """A service's application: its request spans traced alike, its Swagger UI and ReDoc served by
    `common.api_docs.install_api_docs` from the service itself rather than FastAPI's (from a CDN)."""
    return FastAPI(
        title=title, version="1.0.0", lifespan=lifespan, docs_url=None, redoc_url=None, telemetry=FASTAPI_TELEMETRY
    )


def install_http_conventions(app: FastAPI) -> None:
    """Metrics, trailing slashes, request ids, admission, access log and JSON errors, alike in every service."""
    # Added first, so it runs inside TrailingSlashMiddleware and sees the route the router picked.
    install_metrics(app)
    app.add_middleware(TrailingSlashMiddleware)
    app.add_middleware(AdmissionMiddleware)
    app.add_middleware(AccessLogMiddleware)
    # Outermost of ours, so every line logged while answering carries the request id.
    app.add_middleware(RequestIdMiddleware)
    # Starlette types every handler as taking any Exception; each of these is registered for its own class.
    app.add_exception_handler(RequestValidationError, cast(ExceptionHandler, validation_error_handler))
    app.add_exception_handler(ServiceError, cast(ExceptionHandler, service_error_handler))


def health_response(
    service: str, checks: dict[str, bool], optional: frozenset[str] = frozenset(), details: dict | None = None
) -> JSONResponse:
    """200 while every required check passes, 503 otherwise; optional checks only report."""
    required_ok = all(ok for name, ok in checks.items() if name not in optional)
    all_ok = all(checks.values())
    body = {
        "service": service,
        "status": "ok" if all_ok else ("degraded" if required_ok else "unavailable"),
        "checks": {name: "ok" if ok else "down" for name, ok in checks.items()},
    }
    if details is not None:
        body["details"] = details
    return JSONResponse(body, status_code=200 if required_ok else 503)
