"""The original README's flows, run against the whole system as a user would run them.

The first README of this project showed four curl commands (register, login, create a task, list the tasks) for
one fixed user, `testuser`. docs/api.md still starts with them, and tests/e2e/test_api_guide.py runs the whole
guide with a new user each time; here they run verbatim, fixed user included.
"""

import json
import shlex
import subprocess
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.e2e.stack import Stack
from tests.helpers import AUTH_DATABASE_URL, ROOT, poll

# The original README's curl examples, verbatim but for the host (the test stack's gateway).
ORIGINAL_REGISTER = """curl -X POST http://localhost:8000/auth/register \\
  -H "Content-Type: application/json" \\
  -d '{"username":"testuser","email":"test@example.com","password":"test123"}'"""
ORIGINAL_LOGIN = """curl -X POST http://localhost:8000/auth/login \\
  -H "Content-Type: application/x-www-form-urlencoded" \\
  -d "username=testuser&password=test123\""""
ORIGINAL_CREATE_TASK = """curl -X POST http://localhost:8000/tasks/ \\
  -H "Authorization: Bearer YOUR_TOKEN_HERE" \\
  -H "Content-Type: application/json" \\
  -d '{"title":"Test Task","description":"Testing API","status":"Pending"}'"""
ORIGINAL_LIST_TASKS = """curl -X GET http://localhost:8000/tasks/ \\
  -H "Authorization: Bearer YOUR_TOKEN_HERE\""""


def run_curl(command: str, stack: Stack, token: str = "") -> tuple[int, Any]:
    """The status and the JSON body (whatever JSON it holds) of the curl command, run against `stack`."""
    command = command.replace("http://localhost:8000", stack.url("gateway")).replace("YOUR_TOKEN_HERE", token)
    args = shlex.split(command.replace("\\\n", " "))
    result = subprocess.run([*args, "--silent", "--write-out", "\n%{http_code}"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    body, status = result.stdout.rsplit("\n", 1)
    return int(status), json.loads(body)


@pytest.fixture
def original_user_is_new() -> None:
    """The original examples register one fixed user: start from a database without it."""
    engine = create_engine(AUTH_DATABASE_URL)
    with engine.begin() as connection:
        connection.execute(
            text("DELETE FROM users WHERE lower(username) = 'testuser' OR lower(email) = 'test@example.com'")
        )
    engine.dispose()


def test_the_api_guide_keeps_the_original_examples_verbatim():
    guide = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    for command in (ORIGINAL_REGISTER, ORIGINAL_LOGIN, ORIGINAL_CREATE_TASK, ORIGINAL_LIST_TASKS):
        assert f"```bash\n{command}\n```" in guide, f"docs/api.md no longer shows:\n{command}"


def test_the_original_curl_examples_work_as_printed(stack: Stack, original_user_is_new):
    status, user = run_curl(ORIGINAL_REGISTER, stack)
    assert status == 201
    assert user == {"id": user["id"], "username": "testuser", "email": "test@example.com", "is_active": True}

    status, login = run_curl(ORIGINAL_LOGIN, stack)
    assert status == 200
    assert login["token_type"] == "bearer"
    token = login["access_token"]

    status, task = run_curl(ORIGINAL_CREATE_TASK, stack, token)
    assert status == 201
    assert (task["title"], task["description"], task["status"], task["user_id"]) == (
        "Test Task",
        "Testing API",
        "Pending",
        user["id"],
    )

    status, tasks = run_curl(ORIGINAL_LIST_TASKS, stack, token)
    assert status == 200
    assert tasks == [task]

    def logged_line() -> dict | None:
        lines = stack.notification_log.read_text().splitlines() if stack.notification_log.exists() else []
        return next((entry for entry in map(json.loads, lines) if entry["task_id"] == task["id"]), None)

    line = poll(logged_line)
    assert (line["event_type"], line["user_id"], line["title"]) == ("task_created", user["id"], "Test Task")


def flow(auth_url: str, task_url: str, notification_url: str) -> None:
    suffix = uuid.uuid4().hex[:10]
    user = {"username": f"flow_{suffix}", "email": f"flow_{suffix}@example.com", "password": "securepassword123"}
    with httpx.Client(timeout=10) as http:
        assert http.post(f"{auth_url}/auth/register", json=user).status_code == 201
        login = http.post(f"{auth_url}/auth/login", data={"username": user["email"], "password": user["password"]})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert http.get(f"{auth_url}/auth/me", headers=headers).json()["username"] == user["username"]

        created = http.post(
            f"{task_url}/tasks/",
            headers=headers,
            json={"title": "Complete project documentation", "description": "Write comprehensive README and API docs"},
        )
        assert created.status_code == 201
        task_id = created.json()["id"]
        assert http.get(f"{task_url}/tasks/{task_id}", headers=headers).json()["status"] == "Pending"
        updated = http.put(
            f"{task_url}/tasks/{task_id}",
            headers=headers,
            json={"title": "Updated title", "description": "Updated description", "status": "In Progress"},
        )
        assert (updated.status_code, updated.json()["status"]) == (200, "In Progress")
        listed = http.get(f"{task_url}/tasks", headers=headers, params={"status": "In Progress"})
        assert listed.headers["x-total-count"] == "1"
        deleted = http.delete(f"{task_url}/tasks/{task_id}", headers=headers)
        assert deleted.json() == {"message": "Task deleted successfully"}
        assert http.get(f"{task_url}/tasks/{task_id}", headers=headers).status_code == 404

        def all_three_notifications() -> list[str] | None:
            notifications = http.get(f"{notification_url}/notifications/", headers=headers).json()
            return [n["event_type"] for n in notifications] if len(notifications) == 3 else None

        assert poll(all_three_notifications) == ["task_deleted", "task_updated", "task_created"]


def test_the_whole_flow_through_the_gateway(stack: Stack):
    gateway = stack.url("gateway")
    flow(gateway, gateway, gateway)


def test_the_whole_flow_directly_against_each_service(stack: Stack):
    flow(stack.url("auth"), stack.url("task"), stack.url("notification"))


def test_the_gateway_reports_every_service_healthy(stack: Stack):
    response = httpx.get(f"{stack.url('gateway')}/health")

    assert response.status_code == 200
    assert response.json()["checks"] == {"auth_service": "ok", "task_service": "ok", "notification_service": "ok"}


def test_the_gateway_never_redirects_to_or_names_an_internal_address(stack: Stack):
    response = httpx.get(f"{stack.url('gateway')}/tasks", follow_redirects=False)

    assert response.status_code == 401
    assert "location" not in response.headers
    assert len(response.headers.get_list("date")) == 1
    # No banner: neither the service's nor the gateway's own server names itself.
    assert response.headers.get_list("server") == []


def test_a_dot_segment_sent_as_is_is_refused(stack: Stack):
    result = subprocess.run(
        [
            "curl",
            "--silent",
            "--path-as-is",
            "--write-out",
            "\n%{http_code}",
            f"{stack.url('gateway')}/tasks/../auth/me",
        ],
        capture_output=True,
        text=True,
    )

    body, status = result.stdout.rsplit("\n", 1)
    assert status == "400"
    assert json.loads(body) == {"detail": "Path must not contain '.' or '..' segments"}
