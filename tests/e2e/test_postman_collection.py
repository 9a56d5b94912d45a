"""The Postman collection (built from postman/): it covers the whole API and passes against a real stack."""

import json
import os
import re
import subprocess

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from auth_service.main import app as auth_app
from auth_service.routes import router as auth_router
from notification_service.main import app as notification_app
from notification_service.routes import router as notification_router
from task_service.main import app as task_app
from task_service.routes import router as task_router
from tests.e2e.stack import Stack
from tests.helpers import ROOT

COLLECTION = ROOT / "Task_Manager_API.postman_collection.json"
NEWMAN = ROOT / "node_modules" / ".bin" / "newman"
SCHEMA_V2_1 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"

# Every public endpoint (docs/api.md), each of which the collection calls through the gateway.
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
    ("POST", "/auth/api-keys"),
    ("GET", "/auth/api-keys"),
    ("DELETE", "/auth/api-keys/{id}"),
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
# And straight on each service, via its own URL variable: every endpoint that service serves (its routes.py, plus
# /health, /metrics and /openapi.json). `test_direct_endpoints_are_every_service_endpoint` keeps this list in step
# with the services' code. Swagger UI's pages (/docs, /redoc) are left to the gateway's.
DIRECT_ENDPOINTS = {
    ("auth_url", "GET", "/health"),
    ("auth_url", "GET", "/metrics"),
    ("auth_url", "GET", "/openapi.json"),
    ("auth_url", "POST", "/auth/register"),
    ("auth_url", "POST", "/auth/login"),
    ("auth_url", "GET", "/auth/me"),
    ("auth_url", "PATCH", "/auth/me"),
    ("auth_url", "POST", "/auth/me/password"),
    ("auth_url", "POST", "/auth/logout"),
    ("auth_url", "GET", "/auth/verify"),
    ("auth_url", "POST", "/auth/api-keys"),
    ("auth_url", "GET", "/auth/api-keys"),
    ("auth_url", "DELETE", "/auth/api-keys/{id}"),
    ("task_url", "GET", "/health"),
    ("task_url", "GET", "/metrics"),
    ("task_url", "GET", "/openapi.json"),
    ("task_url", "POST", "/tasks"),
    ("task_url", "GET", "/tasks"),
    ("task_url", "GET", "/tasks/{id}"),
    ("task_url", "PUT", "/tasks/{id}"),
    ("task_url", "PATCH", "/tasks/{id}"),
    ("task_url", "DELETE", "/tasks/{id}"),
    ("notification_url", "GET", "/health"),
    ("notification_url", "GET", "/metrics"),
    ("notification_url", "GET", "/openapi.json"),
    ("notification_url", "GET", "/notifications"),
}
# The stream again, straight on its service: only checked for its 401 there too.
DIRECT_REFUSAL_ONLY_ENDPOINTS = {
    ("notification_url", "GET", "/notifications/stream"),
}
# Each service's URL variable, its app (its own /health and /metrics) and the router of its routes.py.
SERVICES: dict[str, tuple[FastAPI, APIRouter]] = {
    "auth_url": (auth_app, auth_router),
    "task_url": (task_app, task_router),
    "notification_url": (notification_app, notification_router),
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
    assert sorted(DIRECT_REFUSAL_ONLY_ENDPOINTS - refused) == [], "stream endpoints never checked for 401 directly"
    # A request to a stream that expects it to succeed would never end: newman would hang.
    streams = GATEWAY_REFUSAL_ONLY_ENDPOINTS | {(method, path) for _, method, path in DIRECT_REFUSAL_ONLY_ENDPOINTS}
    assert not {(method, path) for _, method, path in succeeding} & streams


def served_endpoints(base: str, app: FastAPI, router: APIRouter) -> set[tuple[str, str, str]]:
    """(base URL variable, method, path template) of every endpoint a service serves, in `endpoint_of`'s form."""
    assert app.openapi_url is not None, "the service serves no OpenAPI document"
    found = {(base, "GET", app.openapi_url)}
    # The app's own routes (/health, /metrics), and its routes.py router's (prefix included).
    for route in [*app.routes, *router.routes]:
        if isinstance(route, APIRoute):
            path = re.sub(r"\{\w+\}", "{id}", route.path)
            found |= {(base, method, path) for method in (route.methods or set()) - {"HEAD", "OPTIONS"}}
    return found


def test_direct_endpoints_are_every_service_endpoint() -> None:
    """The lists above name every endpoint of every service, as the services' code declares them."""
    served = set().union(*(served_endpoints(base, app, router) for base, (app, router) in SERVICES.items()))
    assert sorted(served - DIRECT_ENDPOINTS - DIRECT_REFUSAL_ONLY_ENDPOINTS) == [], "endpoints missing from the lists"
    assert sorted((DIRECT_ENDPOINTS | DIRECT_REFUSAL_ONLY_ENDPOINTS) - served) == [], "endpoints no service serves"


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
