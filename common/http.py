"""HTTP conventions shared by the four services: paths, errors and health."""

import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from common.metrics import install_metrics
from common.request_id import RequestIdMiddleware

logger = logging.getLogger(__name__)


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


async def validation_error_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming each field and what is wrong with it, without echoing the value sent.

    FastAPI's default repeats every invalid input, a password among them, into responses
    (and so into any log or proxy that records them).
    """
    errors = [{key: value for key, value in error.items() if key != "input"} for error in exc.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


async def unhandled_error_handler(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("Unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "Internal server error"}, status_code=500)


def install_http_conventions(app: FastAPI) -> None:
    """Metrics, trailing slashes, request ids and JSON errors, the same in every service."""
    # Added first, so it runs inside TrailingSlashMiddleware and sees the route the router picked.
    install_metrics(app)
    app.add_middleware(TrailingSlashMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(Exception, unhandled_error_handler)


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
