import asyncio
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from prometheus_client import Counter
from starlette.responses import Response
from starlette.routing import Route

from api_gateway.config import Settings
from api_gateway.hsts import HSTSMiddleware
from api_gateway.openapi import merged_openapi
from api_gateway.proxy import ServiceProxy, Upstream
from api_gateway.rate_limit import RateLimiter, RateLimitMiddleware
from api_gateway.security_headers import CorsFromSettings, SecurityHeadersMiddleware
from common.api_docs import install_api_docs
from common.http import health_response, install_http_conventions
from common.logging import configure_logging
from common.metrics import LabelledRoute
from common.telemetry import FASTAPI_TELEMETRY, flush_traces, start_tracing

SERVICE_NAME = "api_gateway"
FORWARDED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Which service owns which path prefix; their addresses come from the settings.
ROUTES = {"auth_service": "/auth", "task_service": "/tasks", "notification_service": "/notifications"}


def upstreams_of(settings: Settings) -> dict[str, Upstream]:
    base_urls = {
        "auth_service": settings.auth_service_url,
        "task_service": settings.task_service_url,
        "notification_service": settings.notification_service_url,
    }
    return {service: Upstream(service, prefix, base_urls[service]) for service, prefix in ROUTES.items()}


def create_app(settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        config = settings or Settings()
        configure_logging(config.log_level, config.log_format)
        start_tracing(SERVICE_NAME)
        upstreams = upstreams_of(config)
        proxy = ServiceProxy(
            list(upstreams.values()),
            config.connect_timeout_seconds,
            config.upstream_timeout_seconds,
            config.max_upstream_connections,
            config.max_streams,
            config.max_request_body_bytes,
            config.trusted_proxies,
        )
        rate_limiter = RateLimiter(config)
        app.state.settings = config
        app.state.upstreams = upstreams
        app.state.proxy = proxy
        app.state.rate_limiter = rate_limiter
        yield
        await proxy.aclose()
        await rate_limiter.aclose()
        flush_traces()

    # /docs and /openapi.json describe the whole system, so FastAPI's own (gateway-only) are off.
    app = FastAPI(
        title="Task Manager API",
        version="1.0.0",
        description=(
            "Every public endpoint of the task manager, through its API gateway. Sign in with "
            "**Authorize** (username or email, and password): every endpoint then sends the token. "
            "Or give an API key (`POST /auth/api-keys`) as `APIKeyHeader`, for what a key may do."
        ),
        lifespan=lifespan,
        telemetry=FASTAPI_TELEMETRY,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    # Added first, so it runs innermost: on the path as routed (trailing slash dropped), its 429s
    # logged and counted like any other answer.
    app.add_middleware(RateLimitMiddleware)
    install_http_conventions(app)
    app.state.rate_limit_refusals = Counter(
        "gateway_rate_limited_total",
        "Requests refused with 429 by a rate limit",
        ["limit"],
        registry=app.state.metrics_registry,
    )
    app.add_middleware(CorsFromSettings, allowed_methods=FORWARDED_METHODS)
    # Outermost: every answer carries them, a 503 or 500 from the shared middlewares too.
    app.add_middleware(SecurityHeadersMiddleware)
    # Outermost, so the 503s of admission control carry it too.
    app.add_middleware(HSTSMiddleware)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_document(request: Request) -> dict:
        state = request.app.state
        own = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        return await merged_openapi(
            own, state.proxy.clients, list(state.upstreams.values()), state.settings.health_timeout_seconds
        )

    # Swagger UI at /docs and ReDoc at /redoc for that document, their assets served from here.
    install_api_docs(app, openapi_url="/openapi.json")

    @app.get("/", tags=["gateway"])
    async def service_info() -> dict:
        return {
            "service": SERVICE_NAME,
            "version": app.version,
            "description": "Single entry point of the task manager: auth, tasks and notifications",
            "routes": "/routes",
            "health": "/health",
        }

    @app.get("/routes", tags=["gateway"])
    async def routes() -> list[dict]:
        """Which path prefix goes to which service (service addresses stay private)."""
        return [
            {"prefix": prefix, "service": service, "methods": FORWARDED_METHODS} for service, prefix in ROUTES.items()
        ]

    @app.get("/health", tags=["gateway"])
    async def health(request: Request):
        state = request.app.state
        upstreams = list(state.upstreams.values())
        timeout = state.settings.health_timeout_seconds
        reports = await asyncio.gather(
            *(_service_health(state.proxy.clients[u.service], u, timeout) for u in upstreams)
        )
        details = {upstream.service: report for upstream, report in zip(upstreams, reports, strict=True)}
        # "degraded" still serves (the task service keeps events in its outbox while the broker is away).
        checks = {service: report.get("status") in ("ok", "degraded") for service, report in details.items()}
        return health_response(SERVICE_NAME, checks, details=details)

    for service, prefix in ROUTES.items():
        _add_forwarding_routes(app, service, prefix)

    return app


async def _service_health(client: httpx.AsyncClient, upstream: Upstream, timeout: float) -> dict:
    """The service's own health report; for several replicas, one report merged from theirs.

    A merged check is "ok" only where every replica that answered says so; the service is
    "degraded" while any replica is down or degraded, and "unreachable" when none answers.
    """
    reports = await asyncio.gather(*(_replica_health(client, upstream, url, timeout) for url in upstream.replicas))
    if len(reports) == 1:
        return reports[0]
    answered = [report for report in reports if report.get("status") != "unreachable"]
    if not answered:
        return {"service": upstream.service, "status": "unreachable", "unreachable_replicas": len(reports)}
    checks: dict[str, str] = {}
    for report in answered:
        for name, state in report.get("checks", {}).items():
            checks[name] = "ok" if state == "ok" and checks.get(name, "ok") == "ok" else "down"
    statuses = {report.get("status") for report in answered}
    merged: dict[str, Any] = {
        "service": upstream.service,
        "status": "unavailable" if statuses == {"unavailable"} else ("ok" if statuses == {"ok"} else "degraded"),
        "checks": checks,
    }
    if len(answered) < len(reports):
        merged["status"] = "degraded"
        merged["unreachable_replicas"] = len(reports) - len(answered)
    return merged


async def _replica_health(client: httpx.AsyncClient, upstream: Upstream, base_url: str, timeout: float) -> dict:
    try:
        response = await client.get(base_url + "/health", timeout=timeout)
        return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        return {"service": upstream.service, "status": "unreachable", "error": type(exc).__name__}


def _add_forwarding_routes(app: FastAPI, service: str, prefix: str) -> None:
    async def forward(request: Request) -> Response:
        return await request.app.state.proxy.forward(request, request.app.state.upstreams[service])

    # Plain Starlette routes: the proxy needs none of FastAPI's dependency solving or response
    # validation, which would otherwise run on every forwarded request.
    for path in (prefix, prefix + "/{path:path}"):
        app.router.routes.append(_ForwardedRoute(path, forward, methods=FORWARDED_METHODS, include_in_schema=False))


class _ForwardedRoute(LabelledRoute, Route):
    """A plain route, labelled in the metrics by its template (`/tasks/{path:path}`)."""


app = create_app()
