import json
import signal
import time

import httpx

from tests.e2e.stack import Stack
from tests.e2e.streams import StreamListener
from tests.helpers import (
    E2E_SPARE_NOTIFICATION_PORT,
    NOTIFICATION_DATABASE_URL,
    RABBITMQ_URL,
    RunningService,
    poll,
    register_and_login,
)


def open_streams(stack: Stack) -> int:
    """Live streams open on all notification replicas together, from their metrics."""
    total = 0.0
    for url in stack.replica_urls("notification"):
        for line in httpx.get(f"{url}/metrics").text.splitlines():
            if line.startswith("notification_live_streams "):
                total += float(line.split()[1])
    return int(total)


def test_a_new_task_reaches_the_owners_open_stream_through_the_gateway(stack: Stack):
    gateway = stack.url("gateway")
    owner = register_and_login(stack.url("auth"), "streamer")
    listener = StreamListener(
        f"{gateway}/notifications/stream",
        owner["headers"],
        timeout=httpx.Timeout(20, connect=5),
        until=lambda line: line.startswith("data: "),
    )
    assert listener.connected.wait(10)
    assert listener.content_type is not None and listener.content_type.startswith("text/event-stream")
    assert open_streams(stack) == 1
    other = register_and_login(stack.url("auth"), "bystander")
    httpx.post(f"{gateway}/tasks/", headers=other["headers"], json={"title": "Not yours"}).raise_for_status()
    task = httpx.post(f"{gateway}/tasks/", headers=owner["headers"], json={"title": "Live"}).json()
    listener.thread.join(20)

    received = [json.loads(line.removeprefix("data: ")) for line in listener.lines if line.startswith("data: ")]
    assert [(n["event_type"], n["task_id"], n["title"]) for n in received] == [("task_created", task["id"], "Live")]
    listed = httpx.get(f"{gateway}/notifications/", headers=owner["headers"]).json()
    assert received[0] == listed[0]
    # The client hung up on the gateway: the gateway must hang up on the service too.
    assert poll(lambda: open_streams(stack) == 0)


def test_a_stream_needs_a_valid_token(stack: Stack):
    response = httpx.get(f"{stack.url('gateway')}/notifications/stream", headers={"Authorization": "Bearer nope"})

    assert response.status_code == 401


def test_a_stream_ends_once_its_token_is_signed_out(stack: Stack):
    gateway = stack.url("gateway")
    owner = register_and_login(stack.url("auth"), "leaver")
    # No Accept header: the gateway must still keep a stream open without a read timeout.
    listener = StreamListener(f"{gateway}/notifications/stream", owner["headers"])
    assert listener.connected.wait(10)
    second_login = httpx.post(
        f"{gateway}/auth/login", data={"username": owner["username"], "password": owner["password"]}
    ).json()["access_token"]
    assert httpx.post(f"{gateway}/auth/logout", headers=owner["headers"]).status_code == 204
    # Made with the owner's other token: its notification reaches the stream, whose token is now revoked.
    httpx.post(
        f"{gateway}/tasks/", headers={"Authorization": f"Bearer {second_login}"}, json={"title": "Too late"}
    ).raise_for_status()
    listener.thread.join(15)

    assert not listener.thread.is_alive()
    assert "event: unauthorized" in listener.lines
    assert not any("Too late" in line for line in listener.lines)


def test_a_service_with_open_streams_still_stops_promptly(stack: Stack, tmp_path):
    """Open streams never end by themselves: a stop must not wait for them (Ctrl-C, rolling updates)."""
    env = {
        "NOTIFICATION_DATABASE_URL": NOTIFICATION_DATABASE_URL,
        "RABBITMQ_URL": RABBITMQ_URL,
        "AUTH_SERVICE_URL": stack.url("auth"),
        "NOTIFICATION_LOG_FILE": str(tmp_path / "notifications.log"),
    }
    service = RunningService("notification_service.main", E2E_SPARE_NOTIFICATION_PORT, env).wait_until_healthy()
    owner = register_and_login(stack.url("auth"), "stopper")
    listener = StreamListener(f"{service.base_url}/notifications/stream", owner["headers"], timeout=60)
    assert listener.connected.wait(10)

    started = time.monotonic()
    service.process.send_signal(signal.SIGTERM)
    service.process.wait(timeout=30)

    assert time.monotonic() - started < 15
    assert "Application shutdown complete" in service.log_path.read_text()
