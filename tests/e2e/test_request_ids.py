import json
import re
import uuid

import httpx

from tests.e2e.stack import Stack
from tests.helpers import poll, register_and_login


def logged_line(stack: Stack, task_id: int) -> dict | None:
    if not stack.notification_log.exists():
        return None
    lines = map(json.loads, stack.notification_log.read_text().splitlines())
    return next((line for line in lines if line["task_id"] == task_id), None)


def test_a_clients_request_id_follows_the_task_through_rabbitmq_into_the_notification_logs(stack: Stack):
    user = register_and_login(stack.url("auth"))
    request_id = f"trace-{uuid.uuid4().hex}"

    response = httpx.post(
        f"{stack.url('gateway')}/tasks/", headers={**user["headers"], "X-Request-ID": request_id}, json={"title": "T"}
    )

    assert response.headers["x-request-id"] == request_id
    line = poll(lambda: logged_line(stack, response.json()["id"]))
    assert line["request_id"] == request_id
    # Whichever notification replica consumed the event logged it (just after the notification log's line).
    assert poll(
        lambda: any(
            request_id in entry and "task_created" in entry for entry in stack.log_of("notification").splitlines()
        )
    )


def test_the_gateway_makes_an_id_when_the_client_sends_none(stack: Stack):
    user = register_and_login(stack.url("auth"))

    response = httpx.post(f"{stack.url('gateway')}/tasks/", headers=user["headers"], json={"title": "Untraced"})

    request_id = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert poll(lambda: logged_line(stack, response.json()["id"]))["request_id"] == request_id
