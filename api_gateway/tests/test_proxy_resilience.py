"""The gateway against an upstream that misbehaves on purpose: a raw HTTP/1.1 server on a socket.

It drops connections, answers slowly or streams, so what the gateway does about each can be
seen exactly: resend on a dead keep-alive connection (idempotent methods only), fail over to
the next replica, cut a slow answer with 504 but never a quiet event stream, and keep streams
on a capped pool of their own. It also answers with the very header lines it received, so what
the gateway adds, replaces and drops on the way is seen as the service sees it.
"""

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api_gateway.config import Settings
from api_gateway.main import create_app

CLOSED_PORT_URL = "http://127.0.0.1:1"


class MisbehavingUpstream:
    """Answers by path: `/tasks/drop-second` closes a connection on its second request without an
    answer (as a server does with a keep-alive connection it gave up on), `/tasks/slow` answers
    after two seconds, `/tasks/stream` sends an event-stream preamble, then an event three
    seconds later, and closes; `/tasks/headers` answers with the request's header lines, as sent, and
    `/tasks/moved?to=<path>` redirects to that path on the upstream's own address; `/tasks/not-modified`
    answers 304, and a HEAD request the head of the answer a GET would have."""

    def __init__(self) -> None:
        self.requests_seen = 0
        self.connections_seen = 0
        self._loop = asyncio.new_event_loop()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        started = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(started,), daemon=True)
        self._thread.start()
        started.wait(5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._connection, "127.0.0.1", self.port))
        started.set()
        self._loop.run_forever()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections_seen += 1
        served = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                method, path, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                await reader.readexactly(length)
                self.requests_seen += 1
                served += 1
                if path.startswith("/tasks/drop-second") and served == 2:
                    writer.close()
                    return
                if path.startswith("/tasks/slow"):
                    await asyncio.sleep(2)
                if path.startswith("/tasks/stream"):
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n: connected\n\n")
                    await writer.drain()
                    await asyncio.sleep(3)
                    writer.write(b"event: notification\ndata: {}\n\n")
                    await writer.drain()
                    writer.close()
                    return
                if path.startswith("/tasks/moved"):
                    # `?to=<path>`: a redirect to that path on this server's own address.
                    location = self.url + path.partition("?to=")[2]
                    writer.write(
                        f"HTTP/1.1 303 See Other\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n".encode()
                    )
                    await writer.drain()
                    continue
                if path.startswith("/tasks/not-modified"):
                    writer.write(b'HTTP/1.1 304 Not Modified\r\netag: "v1"\r\n\r\n')
                    await writer.drain()
                    continue
                if path.startswith("/tasks/headers"):
                    lines = head.decode("latin-1").split("\r\n")[1:]
                    received = [line.split(":", 1) for line in lines if line]
                    body = json.dumps([[name.strip().lower(), value.strip()] for name, value in received]).encode()
                else:
                    body = f'{{"method": "{method}", "path": "{path}"}}'.encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    + f"content-length: {len(body)}\r\n\r\n".encode()
                    + (b"" if method == "HEAD" else body)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@pytest.fixture
def upstream() -> Iterator[MisbehavingUpstream]:
    server = MisbehavingUpstream()
    yield server
    server.stop()


def gateway(task_service_url: str, **settings) -> TestClient:
    return TestClient(
        create_app(
            Settings(
                auth_service_url=CLOSED_PORT_URL,
                task_service_url=task_service_url,
                notification_service_url=CLOSED_PORT_URL,
                environment="test",
                **settings,
            )
        )
    )


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_an_idempotent_request_on_a_dead_keep_alive_connection_is_resent_once(upstream, method):
    with gateway(upstream.url) as client:
        first = client.request(method, "/tasks/drop-second")
        second = client.request(method, "/tasks/drop-second")

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == {"method": method, "path": "/tasks/drop-second"}
    # The second request went out twice: on the pooled connection, which died, then on a new one.
    assert (upstream.requests_seen, upstream.connections_seen) == (3, 2)


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_request_that_may_have_taken_effect_is_not_resent(upstream, method):
    with gateway(upstream.url) as client:
        client.request(method, "/tasks/drop-second", json={})
        second = client.request(method, "/tasks/drop-second", json={})

    assert second.status_code == 503
    assert second.json() == {"detail": "task_service is unavailable"}
    assert upstream.requests_seen == 2


def test_requests_fail_over_from_a_replica_that_refuses_connections(upstream):
    with gateway(f"{CLOSED_PORT_URL},{upstream.url}") as client:
        answers = [client.post("/tasks/ok", json={}).status_code for _ in range(6)]

    assert answers == [200] * 6
    assert upstream.requests_seen == 6


def test_requests_are_spread_over_the_replicas_in_turn():
    first, second = MisbehavingUpstream(), MisbehavingUpstream()
    try:
        with gateway(f"{first.url},{second.url}") as client:
            for _ in range(6):
                client.get("/tasks/ok").raise_for_status()
    finally:
        first.stop()
        second.stop()

    assert (first.requests_seen, second.requests_seen) == (3, 3)


def test_a_slow_answer_is_cut_with_504_but_a_quiet_stream_is_not(upstream):
    with gateway(upstream.url, upstream_timeout_seconds=0.5) as client:
        slow = client.get("/tasks/slow")
        # No Accept header: the path alone marks it as an event stream.
        with client.stream("GET", "/tasks/stream") as stream:
            lines = []
            for line in stream.iter_lines():
                lines.append(line)
                if line.startswith("data:"):
                    break

    assert slow.status_code == 504
    assert slow.json() == {"detail": "task_service did not answer in time"}
    # Three seconds of silence, six times the read timeout, and the stream still delivered.
    assert lines[-1] == "data: {}"


def test_streams_have_a_capped_pool_of_their_own(upstream):
    with gateway(upstream.url, max_streams=2) as client:
        opened: list[int] = []
        holders = []
        for _ in range(2):
            holder = threading.Thread(
                target=lambda: opened.append(client.get("/tasks/stream").status_code), daemon=True
            )
            holder.start()
            holders.append(holder)
        deadline = time.monotonic() + 5
        while upstream.connections_seen < 2 and time.monotonic() < deadline:
            time.sleep(0.05)

        started = time.monotonic()
        third = client.get("/tasks/stream", headers={"Accept": "text/event-stream"})
        refused_after = time.monotonic() - started
        ordinary = client.get("/tasks/ok")
        for holder in holders:
            holder.join(10)

    assert third.status_code == 503
    assert third.headers["retry-after"] == "1"
    assert refused_after < 3
    assert ordinary.status_code == 200
    assert opened == [200, 200]


def test_a_stream_needs_no_accept_header_and_an_accept_header_makes_any_path_a_stream(upstream):
    with gateway(upstream.url, upstream_timeout_seconds=0.5) as client:
        slow_as_stream = client.get("/tasks/slow", headers={"Accept": "text/event-stream"})

    assert slow_as_stream.status_code == 200
    assert slow_as_stream.json() == {"method": "GET", "path": "/tasks/slow"}


def headers_seen_by_the_service(client: TestClient, **headers: str) -> tuple[list[list[str]], str]:
    response = client.get("/tasks/headers", headers=headers)
    assert response.status_code == 200
    return response.json(), response.headers["x-request-id"]


def test_the_service_sees_the_gateways_forwarded_headers_never_the_clients_claims(upstream):
    claims = {
        "X-Forwarded-For": "6.6.6.6",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "bank.example",
        "X-Forwarded-Prefix": "/admin",
        "X-Request-ID": "not a sane id!",
    }
    with gateway(upstream.url) as client:
        seen, request_id = headers_seen_by_the_service(client, **claims)

    forwarded = sorted(header for header in seen if header[0].startswith("x-forwarded-") or header[0] == "x-request-id")
    # The TestClient's peer is "testclient", over plain HTTP, to the host "testserver".
    assert forwarded == [
        ["x-forwarded-for", "testclient"],
        ["x-forwarded-host", "testserver"],
        ["x-forwarded-proto", "http"],
        ["x-request-id", request_id],
    ]
    assert request_id != claims["X-Request-ID"]


def test_a_sane_request_id_from_the_client_reaches_the_service_once(upstream):
    with gateway(upstream.url) as client:
        seen, request_id = headers_seen_by_the_service(client, **{"X-Request-ID": "trace-42.a_b"})

    assert request_id == "trace-42.a_b"
    assert [value for name, value in seen if name == "x-request-id"] == ["trace-42.a_b"]


def test_hop_by_hop_headers_stay_at_the_gateway_and_end_to_end_ones_go_on(upstream):
    with gateway(upstream.url) as client:
        seen, _ = headers_seen_by_the_service(
            client,
            **{
                "Authorization": "Bearer t0ken",
                "X-Custom": "  padded  ",
                "Proxy-Authorization": "Basic c2VjcmV0",
                "TE": "trailers",
                "Upgrade": "websocket",
                "Keep-Alive": "timeout=5",
            },
        )

    names = {name for name, _ in seen}
    assert ["authorization", "Bearer t0ken"] in seen
    assert ["x-custom", "padded"] in seen
    assert not {"proxy-authorization", "te", "upgrade", "keep-alive"} & names
    # The service's own address, not the one the client called.
    assert [value for name, value in seen if name == "host"] == [f"127.0.0.1:{upstream.port}"]


def test_the_query_reaches_the_service_as_sent_and_no_query_adds_no_question_mark(upstream):
    with gateway(upstream.url) as client:
        with_query = client.get("/tasks/ok?search=a%20b&skip=0")
        without = client.get("/tasks/ok")

    assert with_query.json()["path"] == "/tasks/ok?search=a%20b&skip=0"
    assert without.json()["path"] == "/tasks/ok"


@pytest.mark.parametrize(("to", "location"), [("/tasks/7", "/tasks/7"), ("", "/")])
def test_a_redirect_names_the_gateways_path_never_the_services_address(upstream, to, location):
    with gateway(upstream.url) as client:
        response = client.get(f"/tasks/moved?to={to}", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == location


def test_a_request_finding_no_pooled_connection_free_is_refused_not_queued(upstream):
    # Longer than the slow answer: only the pool's own wait can refuse the second request.
    with gateway(upstream.url, max_upstream_connections=1, upstream_timeout_seconds=10) as client:
        slow: list[int] = []
        holder = threading.Thread(target=lambda: slow.append(client.get("/tasks/slow").status_code), daemon=True)
        holder.start()
        deadline = time.monotonic() + 5
        while upstream.requests_seen < 1 and time.monotonic() < deadline:
            time.sleep(0.05)

        refused = client.get("/tasks/ok")
        holder.join(10)

    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert slow == [200]


def test_a_request_without_an_accept_header_is_an_ordinary_one(upstream):
    with gateway(upstream.url, upstream_timeout_seconds=0.5) as client:
        del client.headers["accept"]
        ordinary = client.get("/tasks/ok")
        slow = client.get("/tasks/slow")

    assert ordinary.json() == {"method": "GET", "path": "/tasks/ok"}
    assert slow.status_code == 504


def test_a_redirect_on_a_stream_path_names_the_gateways_path_too(upstream):
    with gateway(upstream.url) as client:
        response = client.get("/tasks/moved/stream?to=/tasks/7", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/tasks/7"


def test_answers_without_a_body_keep_the_services_headers(upstream):
    with gateway(upstream.url) as client:
        head = client.head("/tasks/ok")
        not_modified = client.get("/tasks/not-modified")

    # The length of the body a GET would have had, as the service says, not that of the empty body sent.
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(b'{"method": "HEAD", "path": "/tasks/ok"}'))
    assert not_modified.status_code == 304
    assert not_modified.headers["etag"] == '"v1"'
    assert "content-length" not in not_modified.headers


@pytest.mark.parametrize("value", [b"a\x00b", b"a\rb", b"a\nb"], ids=["nul", "cr", "lf"])
def test_a_header_that_is_not_valid_http_is_refused_with_400_not_forwarded(upstream, value):
    with gateway(upstream.url) as client:
        response = client.get("/tasks/ok", headers={"x-broken": value})

    assert response.status_code == 400
    assert response.json() == {"detail": "Request cannot be forwarded: a header is not valid HTTP"}
    assert upstream.requests_seen == 0
