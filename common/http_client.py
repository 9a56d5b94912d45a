"""The pooled HTTP client of the services that call others (not the auth service, which calls none).

httpx is the API; under it runs aiohttp's connection pool (through httpx-aiohttp). httpcore,
httpx's own transport, walks every pooled connection on each request, so its cost per request
grows with the pool: at 256 connections the gateway spent 21 ms of CPU per proxied request on
it, against 1.6 ms on aiohttp's (`make bench`). aiohttp also resends an idempotent request once
when a pooled keep-alive connection turns out to be closed (RFC 9112 §9.3.1).
"""

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from common.telemetry import tracing_enabled

# Under the services' `--timeout-keep-alive 75`, so the client drops an idle connection first.
KEEPALIVE_SECONDS = 30


def create_http_client(timeout: httpx.Timeout, max_connections: int = 100) -> httpx.AsyncClient:
    """The one pooled client a process uses for its calls to one service (proxy variables ignored).

    `timeout.pool` bounds the wait for a free connection, connecting included.
    """

    def session() -> aiohttp.ClientSession:
        # Made on first use, inside the running event loop, as aiohttp requires.
        connector = aiohttp.TCPConnector(limit=max_connections, keepalive_timeout=KEEPALIVE_SECONDS)
        return aiohttp.ClientSession(connector=connector, trust_env=False)

    transport: httpx.AsyncBaseTransport = AiohttpTransport(client=session)
    if tracing_enabled():
        # A client span per call, and the trace context in its headers for the service called.
        from opentelemetry.instrumentation.httpx import AsyncOpenTelemetryTransport

        transport = AsyncOpenTelemetryTransport(transport)
    return httpx.AsyncClient(timeout=timeout, transport=transport, trust_env=False)


def was_never_sent(exc: httpx.HTTPError) -> bool:
    """No connection was had, so the service cannot have seen the request: refused, unresolvable,
    or none free (or made) in time. Another replica may take it, whatever the method."""
    if isinstance(exc.__cause__, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return True
    return exc.__cause__ is None and isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def timed_out_reading(exc: httpx.HTTPError) -> bool:
    """The service took the request but did not answer within the read timeout."""
    if isinstance(exc.__cause__, aiohttp.SocketTimeoutError):
        return True
    return exc.__cause__ is None and isinstance(exc, httpx.ReadTimeout)
