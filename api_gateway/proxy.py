"""Forwarding a request to the service that owns its path, and the answer back, unchanged."""

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
from fastapi import HTTPException, Request, status
from starlette.responses import StreamingResponse

from common.request_id import HEADER, current_request_id

logger = logging.getLogger(__name__)

# Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus the ones httpx sets itself.
HOP_BY_HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
REQUEST_HEADERS_SET_BY_CLIENT = frozenset({"host", "content-length"})
# Paths that answer with a never-ending event stream, whatever the client's Accept header says.
EVENT_STREAM_SUFFIX = "/stream"
# The gateway's own server sets these on every response it sends.
RESPONSE_HEADERS_SET_BY_SERVER = frozenset({"date", "server"})


@dataclass(frozen=True)
class Upstream:
    service: str
    prefix: str
    base_url: str


class ServiceProxy:
    def __init__(
        self, client: httpx.AsyncClient, connect_timeout: float, read_timeout: float, max_body_bytes: int
    ) -> None:
        self._client = client
        self._max_body_bytes = max_body_bytes
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        # An event stream is quiet between events: it must not be cut by a read timeout.
        self._stream_timeout = httpx.Timeout(None, connect=connect_timeout)

    async def forward(self, request: Request, upstream: Upstream) -> StreamingResponse:
        path = _checked_path(request)
        wants_stream = path.endswith(EVENT_STREAM_SUFFIX) or "text/event-stream" in request.headers.get("accept", "")
        upstream_request = self._client.build_request(
            request.method,
            httpx.URL(upstream.base_url.rstrip("/") + path, query=request.url.query.encode()),
            headers=_forwarded_request_headers(request),
            content=await self._bounded_body(request),
            timeout=self._stream_timeout if wants_stream else self._timeout,
        )
        try:
            response = await self._client.send(upstream_request, stream=True)
        except httpx.LocalProtocolError as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, f"Request cannot be forwarded: {exc}") from exc
        except httpx.TimeoutException as exc:
            logger.warning("%s timed out on %s %s", upstream.service, request.method, path)
            raise HTTPException(status.HTTP_504_GATEWAY_TIMEOUT, f"{upstream.service} did not answer in time") from exc
        except httpx.HTTPError as exc:
            logger.warning("%s unreachable: %s", upstream.service, exc)
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{upstream.service} is unavailable") from exc
        forwarded = StreamingResponse(_relay_body(response), status_code=response.status_code)
        forwarded.raw_headers = _returned_headers(response, upstream)
        return forwarded

    async def _bounded_body(self, request: Request) -> bytes:
        """The request body, refused with 413 past the limit rather than buffered whole."""
        too_large = HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, f"Request body must be at most {self._max_body_bytes} bytes"
        )
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_body_bytes:
            raise too_large
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self._max_body_bytes:
                raise too_large
        return bytes(body)


async def _relay_body(response: httpx.Response) -> AsyncIterator[bytes]:
    # Raw bytes pass through undecoded, so Content-Encoding and Content-Length stay true. Closing in
    # `finally` also releases the upstream connection when the client goes away mid-stream.
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    finally:
        await response.aclose()


def _checked_path(request: Request) -> str:
    """The raw path to forward, refused when a dot segment could walk out of the service's prefix."""
    decoded_segments = request.url.path.split("/")
    if any(segment in (".", "..") for segment in decoded_segments):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Path must not contain '.' or '..' segments")
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    if b"%2f" in raw_path.lower() or b"%5c" in raw_path.lower():
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Path must not contain encoded slashes")
    return raw_path.decode("latin-1")


def _forwarded_request_headers(request: Request) -> list[tuple[str, str]]:
    # Surrounding white space is not part of a header value (RFC 9110 §5.5); httpx refuses to send it.
    headers = [
        (name, value.strip())
        for name, value in request.headers.items()
        if name not in HOP_BY_HOP_HEADERS and name not in REQUEST_HEADERS_SET_BY_CLIENT
    ]
    client_host = request.client.host if request.client else ""
    prior = request.headers.get("x-forwarded-for")
    headers = [(name, value) for name, value in headers if not name.startswith("x-forwarded-") and name != HEADER]
    headers += [
        (HEADER, current_request_id.get()),
        ("x-forwarded-for", f"{prior}, {client_host}" if prior else client_host),
        ("x-forwarded-proto", request.url.scheme),
        ("x-forwarded-host", request.headers.get("host", "")),
    ]
    return headers


def _returned_headers(response: httpx.Response, upstream: Upstream) -> list[tuple[bytes, bytes]]:
    base_url = upstream.base_url.rstrip("/")
    headers = []
    for name, value in response.headers.multi_items():
        if name in HOP_BY_HOP_HEADERS or name in RESPONSE_HEADERS_SET_BY_SERVER:
            continue
        if name == "location" and value.startswith(base_url):
            # Never hand a client the address of a service behind the gateway.
            value = value[len(base_url) :] or "/"
        headers.append((name.encode("latin-1"), value.encode("latin-1")))
    return headers
