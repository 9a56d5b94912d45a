"""Prometheus metrics for every service: request counts and latencies by route, at GET /metrics."""

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class MetricsMiddleware:
    """Counts and times each request by method, route template (not raw path) and status.

    Plain ASGI rather than BaseHTTPMiddleware, which costs a large share of throughput.
    """

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "http_requests_total", "HTTP requests answered", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds", "Time to answer an HTTP request", ["method", "route"], registry=registry
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record_status)
        finally:
            template = _route_template(scope)
            self.requests.labels(scope["method"], template, str(status)).inc()
            self.latency.labels(scope["method"], template).observe(time.perf_counter() - started)


class LabelledRoute(BaseRoute):
    """Mixed into a plain Starlette route or mount: it names itself as the matched route, as FastAPI's
    routes do, so the metrics label requests by its path template (a mount's files count once)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match != Match.NONE:
            child_scope["route"] = self
        return match, child_scope


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    if route is not None:
        return route.path
    if "endpoint" in scope:
        # A plain route such as /docs or /openapi.json: matched, without path parameters.
        return scope["path"]
    # Unmatched paths share one label, so scanners cannot blow up the series count.
    return "unmatched"


def install_metrics(app: FastAPI) -> None:
    """Request metrics; a service adds its own to `app.state.metrics_registry`.

    Values that must be measured (a query, say) go in `app.state.before_scrape`: coroutines run
    at each scrape, so they are fresh whenever Prometheus reads them and cost nothing otherwise.
    """
    registry = CollectorRegistry()
    app.state.metrics_registry = registry
    before_scrape: list[Callable[[], Awaitable[None]]] = []
    app.state.before_scrape = before_scrape
    app.add_middleware(MetricsMiddleware, registry=registry)

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    async def metrics(request: Request) -> Response:
        for measure in before_scrape:
            await measure()
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
