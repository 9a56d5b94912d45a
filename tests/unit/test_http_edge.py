"""The shared HTTP edge under stress: admission, unhandled errors and keep-alive, on a real uvicorn server."""

import asyncio
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request

from common.config import ServiceSettings
from common.http import AdmissionMiddleware, install_http_conventions


def edge_app(max_concurrent_requests: int) -> tuple[FastAPI, threading.Event]:
    app = FastAPI()
    app.state.settings = ServiceSettings(max_concurrent_requests=max_concurrent_requests)
    install_http_conventions(app)
    release = threading.Event()

    @app.get("/slow")
    async def slow() -> dict:
        while not release.is_set():
            await asyncio.sleep(0.01)
        return {"done": True}

    @app.get("/broken")
    async def broken() -> dict:
        raise RuntimeError("a bug")

    @app.get("/peer")
    async def peer(request: Request) -> dict:
        assert request.client is not None
        return {"port": request.client.port}

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    return app, release


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server() -> Iterator[tuple[str, FastAPI, threading.Event]]:
    """The app under uvicorn in a thread, as the services run (keep-alive on)."""
    app, release = edge_app(max_concurrent_requests=2)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_keep_alive=75)
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    while not uvicorn_server.started:
        threading.Event().wait(0.01)
    yield f"http://127.0.0.1:{port}", app, release
    uvicorn_server.should_exit = True
    thread.join(timeout=10)


def test_an_unhandled_error_is_a_json_500_and_the_connection_stays_open(server):
    base_url, _, _ = server
    with httpx.Client(base_url=base_url, limits=httpx.Limits(max_connections=1)) as client:
        before = client.get("/peer").json()["port"]
        broken = client.get("/broken")
        after = client.get("/peer").json()["port"]

    assert broken.status_code == 500
    assert broken.json() == {"detail": "Internal server error"}
    assert "a bug" not in broken.text
    # The same client port: the server kept the keep-alive connection the 500 went out on.
    assert after == before


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_requests_past_the_limit_are_refused_at_once_with_retry_after(server, anyio_backend):
    base_url, app, release = server
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        in_progress = [asyncio.create_task(client.get("/slow")) for _ in range(2)]
        while app.middleware_stack is None or _admitted(app) < 2:
            await asyncio.sleep(0.01)

        refused = await client.get("/slow")
        health = await client.get("/health")
        release.set()
        completed = await asyncio.gather(*in_progress)

    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert refused.json() == {"detail": "Service is at capacity; retry shortly"}
    assert health.status_code == 200
    assert [response.status_code for response in completed] == [200, 200]


def _admitted(app: FastAPI) -> int:
    layer = app.middleware_stack
    while layer is not None and not isinstance(layer, AdmissionMiddleware):
        layer = getattr(layer, "app", None)
    return layer.in_progress if layer is not None else 0
