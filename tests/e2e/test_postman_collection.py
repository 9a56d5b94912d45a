"""The Postman collection the seed README promises: it covers the whole API and passes against a real stack."""

import json
import os
import re
import subprocess

from tests.e2e.stack import Stack
from tests.helpers import ROOT

COLLECTION = ROOT / "Task_Manager_API.postman_collection.json"
NEWMAN = ROOT / "node_modules" / ".bin" / "newman"
SCHEMA_V2_1 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"

# SPEC §3's endpoints that this system serves, each of which the collection calls through the gateway.
GATEWAY_ENDPOINTS = {
    ("GET", "/"),
    ("GET", "/health"),
    ("GET", "/routes"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("POST", "/auth/register"),
    ("POST", "/auth/login"),
    ("GET", "/auth/me"),
    ("PATCH", "/auth/me"),
    ("POST", "/auth/me/password"),
    ("POST", "/auth/logout"),
    ("GET", "/auth/verify"),
    ("POST", "/tasks"),
    ("GET", "/tasks"),
    ("GET", "/tasks/{id}"),
    ("PUT", "/tasks/{id}"),
    ("PATCH", "/tasks/{id}"),
    ("DELETE", "/tasks/{id}"),
    ("GET", "/notifications"),
}
# Endpoints a collection runner cannot wait for (a server-sent event stream never ends): the collection only
# checks, through the gateway, that they refuse a request without a token (401).
GATEWAY_REFUSAL_ONLY_ENDPOINTS = {
    ("GET", "/notifications/stream"),
}
# And straight on each service: its health, and the main calls of the API.
DIRECT_ENDPOINTS = {
    ("auth_url", "GET", "/health"),
    ("task_url", "GET", "/health"),
    ("notification_url", "GET", "/health"),
    ("auth_url", "POST", "/auth/register"),
    ("auth_url", "POST", "/auth/login"),
    ("auth_url", "GET", "/auth/me"),
    ("task_url", "POST", "/tasks"),
    ("task_url", "GET", "/tasks"),
    ("task_url", "GET", "/tasks/{id}"),
    ("task_url", "DELETE", "/tasks/{id}"),
    ("notification_url", "GET", "/notifications"),
}
URL_VARIABLES = {
    "gateway_url": "http://localhost:8000",
    "auth_url": "http://localhost:8001",
    "task_url": "http://localhost:8002",
    "notification_url": "http://localhost:8003",
}
FOLDERS = [
    "Gateway",
    "Auth (via gateway)",
    "Account (via gateway)",
    "Tasks (via gateway)",
    "Notifications (via gateway)",
    "Direct to services",
]


def load_collection() -> dict:
    return json.loads(COLLECTION.read_text(encoding="utf-8"))


def requests_in(items: list[dict]) -> list[dict]:
    """Every request item, folders flattened, in run order."""
    found = []
    for item in items:
        found.extend(requests_in(item["item"]) if "item" in item else [item])
    return found


def endpoint_of(item: dict) -> tuple[str, str, str]:
    """(base URL variable, method, path template) of a request, e.g. ("gateway_url", "GET", "/tasks/{id}")."""
    url = item["request"]["url"]
    raw = url if isinstance(url, str) else url["raw"]
    match = re.fullmatch(r"\{\{(\w+)\}\}(/[^?#]*)?([?#].*)?", raw)
    assert match, f"{item['name']!r}: URL {raw!r} does not start with a base URL variable"
    segments = [
        "{id}" if re.fullmatch(r"\{\{\w+\}\}|\d+", segment) else segment
        for segment in (match.group(2) or "/").strip("/").split("/")
    ]
    return match.group(1), item["request"]["method"].upper(), "/" + "/".join(s for s in segments if s)


def script_lines(item: dict, listen: str) -> str:
    return "\n".join("\n".join(event["script"]["exec"]) for event in item.get("event", []) if event["listen"] == listen)


def expected_status(item: dict) -> int:
    found = re.search(r"pm\.response\.to\.have\.status\((\d{3})\)", script_lines(item, "test"))
    assert found, f"{item['name']!r} does not check its status code"
    return int(found.group(1))


def test_collection_covers_every_endpoint() -> None:
    collection = load_collection()
    assert collection["info"]["schema"] == SCHEMA_V2_1
    assert [folder["name"] for folder in collection["item"]] == FOLDERS
    variables = {variable["key"]: variable.get("value") for variable in collection["variable"]}
    assert {key: variables.get(key) for key in URL_VARIABLES} == URL_VARIABLES
    assert {"token", "user_id", "task_id", "username", "email", "password"} <= variables.keys()

    items = requests_in(collection["item"])
    assert {endpoint_of(item)[0] for item in items} <= URL_VARIABLES.keys()
    # An endpoint counts as covered when a request calls it and expects it to succeed (not just a 4xx).
    succeeding = {endpoint_of(item) for item in items if expected_status(item) < 300}
    via_gateway = {(method, path) for base, method, path in succeeding if base == "gateway_url"}
    assert sorted(GATEWAY_ENDPOINTS - via_gateway) == [], "endpoints the collection never calls via the gateway"
    assert sorted(DIRECT_ENDPOINTS - succeeding) == [], "endpoints the collection never calls on the service itself"
    refused = {endpoint_of(item) for item in items if expected_status(item) == 401}
    refused_via_gateway = {(method, path) for base, method, path in refused if base == "gateway_url"}
    assert sorted(GATEWAY_REFUSAL_ONLY_ENDPOINTS - refused_via_gateway) == [], "stream endpoints never checked for 401"
    # A request to a stream that expects it to succeed would never end: newman would hang.
    assert not {(method, path) for _, method, path in succeeding} & GATEWAY_REFUSAL_ONLY_ENDPOINTS


def test_every_request_is_described_and_tested() -> None:
    items = requests_in(load_collection()["item"])
    names = [item["name"] for item in items]
    assert len(names) == len(set(names)), "request names must be unique, so newman's report is unambiguous"
    for item in items:
        tests = script_lines(item, "test")
        assert item["request"].get("description"), f"{item['name']!r} has no description"
        assert "pm.test(" in tests, f"{item['name']!r} has no pm.test"
        expected_status(item)


def test_newman_runs_the_collection_against_the_stack(stack: Stack) -> None:
    """Two iterations in one run: the collection makes up new users each time, so it can always run again."""
    assert NEWMAN.exists(), f"{NEWMAN} is missing: `make install` (npm ci) installs newman"
    variables = {
        "gateway_url": stack.url("gateway"),
        "auth_url": stack.url("auth"),
        "task_url": stack.url("task"),
        "notification_url": stack.url("notification"),
    }
    command = [str(NEWMAN), "run", COLLECTION.name, "--iteration-count", "2", "--timeout-request", "30000"]
    for key, value in variables.items():
        command += ["--env-var", f"{key}={value}"]
    command += ["--reporters", "cli", "--color", "off"]
    # Newman honours proxy variables; the stack is local.
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}

    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)

    output = result.stdout + result.stderr
    assert result.returncode == 0, f"newman exited with {result.returncode}:\n{output}"
