"""Forwarding a request to the service that owns its path, and the answer back, unchanged.

Each service has a pooled client of its own, so one slow service cannot take the connections
the others need, and live event streams have a separate pool with a cap, so streams can never
take the connections ordinary requests use. Every pool gives up on a free connection after
POOL_TIMEOUT_SECONDS; the request then goes to the next replica, or is refused with 503 and
Retry-After.
"""

import itertools
import logging
from collections.abc import AsyncIterator, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

import httpx
from fastapi import HTTPException, Request, status
from starlette.responses import Response, StreamingResponse

from common.errors import InvalidRequest, Unavailable, UpstreamTimeout
from common.http_client import create_http_client, timed_out_reading, was_never_sent
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
HOP_BY_HOP_HEADERS_RAW = frozenset(name.encode() for name in HOP_BY_HOP_HEADERS)
REQUEST_HEADERS_SET_BY_CLIENT_RAW = frozenset(name.encode() for name in REQUEST_HEADERS_SET_BY_CLIENT)
# Paths that answer with a never-ending event stream, whatever the client's Accept header says.
EVENT_STREAM_SUFFIX = "/stream"
# The gateway's own server sets these on every response it sends.
RESPONSE_HEADERS_SET_BY_SERVER = frozenset({"date", "server"})
POOL_TIMEOUT_SECONDS = 1.0


class Upstream:
    """A service behind the gateway: the path prefix it owns and its replicas, used in turn.

    `base_url` is one URL, or several separated by commas (one per replica).
    """

    def __init__(self, service: str, prefix: str, base_url: str) -> None:
        self.service = service
        self.prefix = prefix
        self.replicas = tuple(url.strip().rstrip("/") for url in base_url.split(",") if url.strip())
        if not self.replicas:
            raise ValueError(f"{service} needs at least one URL")
        self._turns = itertools.count()

    def replicas_in_turn(self) -> list[str]:
        """Every replica, starting with the next one in round-robin order."""
        start = next(self._turns) % len(self.replicas)
        return [*self.replicas[start:], *self.replicas[:start]]


class ServiceProxy:
    def __init__(
        self,
        upstreams: list[Upstream],
        connect_timeout: float,
        read_timeout: float,
        max_connections_per_service: int,
        max_streams: int,
        max_body_bytes: int,
        trusted_proxies: Sequence[IPv4Network | IPv6Network] = (),
    ) -> None:
        self._max_body_bytes = max_body_bytes
        self._trusted_proxies = tuple(trusted_proxies)
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout, pool=POOL_TIMEOUT_SECONDS)
        self.clients = {
            upstream.service: create_http_client(self._timeout, max_connections_per_service) for upstream in upstreams
        }
        # An event stream is quiet between events: it must not be cut by a read timeout.
        self._stream_timeout = httpx.Timeout(None, connect=connect_timeout, pool=POOL_TIMEOUT_SECONDS)
        self._streams = create_http_client(self._stream_timeout, max_streams)

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()
        await self._streams.aclose()

    async def forward(self, request: Request, upstream: Upstream) -> Response:
        path = _checked_path(request)
        wants_stream = path.endswith(EVENT_STREAM_SUFFIX) or "text/event-stream" in request.headers.get("accept", "")
        client = self._streams if wants_stream else self.clients[upstream.service]
        headers = _forwarded_request_headers(request, self._is_trusted(request))
        body = await self._bounded_body(request)
        response = await self._send(client, request.method, upstream, path, request.url.query, headers, body)
        if wants_stream:
            forwarded: Response = StreamingResponse(_relay_body(response), status_code=response.status_code)
            forwarded.raw_headers = _returned_headers(response, upstream)
            return forwarded
        # An ordinary answer is small: read it whole and send it in one piece, which costs far
        # less than relaying it chunk by chunk. Raw bytes, undecoded, so Content-Encoding and
        # Content-Length stay true.
        try:
            content = b"".join([chunk async for chunk in response.aiter_raw()])
        except httpx.HTTPError as exc:
            logger.warning("%s broke off its answer to %s %s: %s", upstream.service, request.method, path, exc)
            raise Unavailable(f"{upstream.service} is unavailable") from exc
        finally:
            await response.aclose()
        forwarded = Response(content, status_code=response.status_code)
        # HEAD, 204 and 304 answers carry no body: their headers (a Content-Length, or none) stay the service's.
        bodyless = request.method == "HEAD" or response.status_code in (204, 304) or response.status_code < 200
        forwarded.raw_headers = _returned_headers(response, upstream, None if bodyless else len(content))
        return forwarded

    def _is_trusted(self, request: Request) -> bool:
        """Whether the peer is a proxy whose X-Forwarded-For is passed on (otherwise it is replaced)."""
        if not self._trusted_proxies or request.client is None:
            return False
        try:
            peer = ip_address(request.client.host)
        except ValueError:
            return False
        return any(peer in network for network in self._trusted_proxies)

    async def _send(
        self,
        client: httpx.AsyncClient,
        method: str,
        upstream: Upstream,
        path: str,
        query: str,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> httpx.Response:
        """Send to one replica after another until one takes the request.

        A replica that could not be reached never saw the request, so the next one gets it,
        whatever the method. (A pooled connection found closed is the client's business: it
        resends idempotent requests once on a new one.)
        """
        replicas = upstream.replicas_in_turn()
        for attempt, base_url in enumerate(replicas, start=1):
            # An empty query would still add a "?" to the path the service sees.
            url = httpx.URL(base_url + path, query=query.encode()) if query else httpx.URL(base_url + path)
            try:
                return await client.send(client.build_request(method, url, headers=headers, content=body), stream=True)
            except (httpx.LocalProtocolError, ValueError) as exc:
                raise InvalidRequest("Request cannot be forwarded: a header is not valid HTTP") from exc
            except httpx.HTTPError as exc:
                if was_never_sent(exc):
                    if attempt < len(replicas):
                        continue
                    logger.warning("%s unreachable or busy on %s %s: %s", upstream.service, method, path, exc)
                    raise Unavailable(f"{upstream.service} is unavailable") from exc
                if timed_out_reading(exc):
                    logger.warning("%s timed out on %s %s", upstream.service, method, path)
                    raise UpstreamTimeout(f"{upstream.service} did not answer in time") from exc
                logger.warning("%s dropped %s %s: %s", upstream.service, method, path, exc)
                raise Unavailable(f"{upstream.service} is unavailable") from exc
        raise AssertionError("unreachable: every replica was tried")

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
    # Raw bytes pass through undecoded. Closing in `finally` also releases the upstream
    # connection when the client goes away mid-stream.
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    finally:
        await response.aclose()


def _checked_path(request: Request) -> str:
    """The raw path to forward, refused when a dot segment could walk out of the service's prefix."""
    decoded_segments = request.url.path.split("/")
    if any(segment in (".", "..") for segment in decoded_segments):
        raise InvalidRequest("Path must not contain '.' or '..' segments")
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    if b"%2f" in raw_path.lower() or b"%5c" in raw_path.lower():
        raise InvalidRequest("Path must not contain encoded slashes")
    return raw_path.decode("latin-1")


def _forwarded_request_headers(request: Request, keep_forwarded_for: bool = False) -> list[tuple[bytes, bytes]]:
    # As the bytes that came in: a value may hold any byte HTTP allows (obs-text, 0x80-0xFF), which
    # httpx would refuse to encode from text. Surrounding white space is not part of a header value
    # (RFC 9110 §5.5); httpx refuses to send it.
    headers = [
        (name, value.strip())
        for name, value in request.headers.raw
        if name not in HOP_BY_HOP_HEADERS_RAW
        and name not in REQUEST_HEADERS_SET_BY_CLIENT_RAW
        and not name.startswith(b"x-forwarded-")
        and name != HEADER.encode()
    ]
    client_host = request.client.host if request.client else ""
    # What an untrusted client claims about its address is dropped: the services see the peer's.
    prior = ", ".join(request.headers.getlist("x-forwarded-for")) if keep_forwarded_for else ""
    headers += [
        (name.encode(), value.encode("latin-1"))
        for name, value in (
            (HEADER, current_request_id.get()),
            ("x-forwarded-for", f"{prior}, {client_host}" if prior else client_host),
            ("x-forwarded-proto", request.url.scheme),
            ("x-forwarded-host", request.headers.get("host", "")),
        )
    ]
    return headers


def _returned_headers(
    response: httpx.Response, upstream: Upstream, content_length: int | None = None
) -> list[tuple[bytes, bytes]]:
    """The service's headers for the client; with `content_length`, the body's true length instead of theirs."""
    headers = [] if content_length is None else [(b"content-length", str(content_length).encode())]
    for raw_name, raw_value in response.headers.raw:
        # As received: httpx decodes values that are not ASCII as UTF-8, which latin-1 may not encode back.
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name in HOP_BY_HOP_HEADERS or name in RESPONSE_HEADERS_SET_BY_SERVER:
            continue
        if content_length is not None and name == "content-length":
            continue
        if name == "location":
            # Never hand a client the address of a service behind the gateway.
            for base_url in upstream.replicas:
                if value.startswith(base_url):
                    value = value[len(base_url) :] or "/"
                    break
        headers.append((name.encode("latin-1"), value.encode("latin-1")))
    return headers
