"""No password, token or API key in any log line, even at LOG_LEVEL=DEBUG with tracing on.

A gateway, an auth service and a task service of their own, at DEBUG, beside the suite's stack
(on its databases, broker and trace receiver): signing up, in and out, changing the password,
and using a bearer token and an API key through the gateway leave no secret in their output.
The task service logs JSON (LOG_FORMAT=json), one object per line.
"""

import json
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.otlp_receiver import OtlpReceiver
from tests.e2e.stack import Stack, tracing_env
from tests.helpers import (
    DEBUG_AUTH_PORT,
    DEBUG_GATEWAY_PORT,
    DEBUG_TASK_PORT,
    LOG_DIR,
    RABBITMQ_URL,
    TASK_DATABASE_URL,
    RunningService,
    auth_service_env,
)


@pytest.fixture(scope="module")
def debug_services(stack: Stack, traces: OtlpReceiver) -> Iterator[dict[str, RunningService]]:
    debug = {"LOG_LEVEL": "DEBUG", "ACCESS_LOG_LEVEL": "DEBUG", **tracing_env(traces.endpoint)}
    # Only this run's output is read: a service's log file is appended to, run after run.
    for module, port in [
        ("auth_service", DEBUG_AUTH_PORT),
        ("task_service", DEBUG_TASK_PORT),
        ("api_gateway", DEBUG_GATEWAY_PORT),
    ]:
        (LOG_DIR / f"{module}-{port}.log").unlink(missing_ok=True)
    auth = RunningService("auth_service.main", DEBUG_AUTH_PORT, {**auth_service_env(), **debug})
    task = RunningService(
        "task_service.main",
        DEBUG_TASK_PORT,
        {
            "TASK_DATABASE_URL": TASK_DATABASE_URL,
            "RABBITMQ_URL": RABBITMQ_URL,
            "AUTH_SERVICE_URL": auth.base_url,
            "ENVIRONMENT": "test",
            # Events go to an exchange of their own, where no consumer waits: only the logs matter here.
            "EVENTS_EXCHANGE": f"task_events.debug-{uuid.uuid4().hex[:8]}",
            "LOG_FORMAT": "json",
            **debug,
        },
    )
    gateway = RunningService(
        "api_gateway.main",
        DEBUG_GATEWAY_PORT,
        {
            "AUTH_SERVICE_URL": auth.base_url,
            "TASK_SERVICE_URL": task.base_url,
            # The gateway is healthy only with every service behind it: the suite's notification service.
            "NOTIFICATION_SERVICE_URL": stack.url("notification"),
            "ENVIRONMENT": "test",
            **debug,
        },
    )
    services = {"auth": auth, "task": task, "gateway": gateway}
    try:
        for service in services.values():
            service.wait_until_healthy()
        yield services
    finally:
        for service in services.values():
            service.stop()


def test_signing_in_and_out_and_using_a_token_and_a_key_logs_no_secret(debug_services):
    gateway = debug_services["gateway"].base_url
    name = f"secretive_{uuid.uuid4().hex[:10]}"
    password, new_password = f"pw-{uuid.uuid4().hex}", f"pw-{uuid.uuid4().hex}"
    with httpx.Client(base_url=gateway, timeout=10) as client:
        client.post("/auth/register", json={"username": name, "email": f"{name}@example.com", "password": password})
        client.post("/auth/login", data={"username": name, "password": "wrong-" + password})
        token = client.post("/auth/login", data={"username": name, "password": password}).json()["access_token"]
        signed_in = {"Authorization": f"Bearer {token}"}
        key = client.post("/auth/api-keys", headers=signed_in, json={"name": "debug"}).json()["key"]
        assert client.post("/tasks", headers=signed_in, json={"title": "By token"}).status_code == 201
        assert client.post("/tasks", headers={"X-API-Key": key}, json={"title": "By key"}).status_code == 201
        changed = client.post(
            "/auth/me/password",
            headers=signed_in,
            json={"current_password": password, "new_password": new_password},
        )
        assert changed.status_code == 204, changed.text
        assert client.get("/tasks", headers=signed_in).status_code == 401

    for name, service in debug_services.items():
        output = service.log_path.read_text()
        assert "DEBUG" in output, f"{name} logged nothing at DEBUG: the test would prove nothing"
        for secret in (password, new_password, token, key):
            assert secret not in output, f"{name} logged a secret"


# What uvicorn prints before the application has configured its logging.
UVICORN_BEFORE_START = re.compile(r"^INFO: +(Started server process \[\d+\]|Waiting for application startup\.)$")


def test_the_json_log_is_one_object_per_line_each_with_its_request_and_trace(debug_services):
    task = debug_services["task"]
    with httpx.Client(base_url=debug_services["gateway"].base_url, timeout=10) as client:
        name = f"json_{uuid.uuid4().hex[:10]}"
        client.post("/auth/register", json={"username": name, "email": f"{name}@example.com", "password": "pw123456"})
        token = client.post("/auth/login", data={"username": name, "password": "pw123456"}).json()["access_token"]
        listed = client.get("/tasks", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200

    lines = [line for line in task.log_path.read_text().splitlines() if not UVICORN_BEFORE_START.match(line)]
    records = [json.loads(line) for line in lines]
    [access] = [
        record
        for record in records
        if record["logger"] == "access" and record["request_id"] == listed.headers["x-request-id"]
    ]
    assert access["message"].startswith('"GET /tasks" 200 ')
    assert re.fullmatch(r"[0-9a-f]{32}", access["trace_id"])
    assert any(record["logger"] == "uvicorn.error" for record in records), "uvicorn's own records are JSON too"
