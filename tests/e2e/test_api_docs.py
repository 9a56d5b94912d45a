import json
import re

import httpx

from tests.e2e.stack import Stack

PUBLIC_PATHS = {
    "/", "/health", "/routes",
    "/auth/register", "/auth/login", "/auth/me", "/auth/me/password", "/auth/logout", "/auth/verify",
    "/tasks", "/tasks/{task_id}",
    "/notifications", "/notifications/stream",
}  # fmt: skip


def refs_in(node) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(refs_in(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(refs_in(item) for item in node))
    return set()


def test_the_gateway_serves_one_document_for_every_public_endpoint(stack: Stack):
    response = httpx.get(f"{stack.url('gateway')}/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert set(document["paths"]) == PUBLIC_PATHS
    assert set(document["paths"]["/tasks/{task_id}"]) == {"get", "put", "patch", "delete"}
    schemas = document["components"]["schemas"]
    assert {"UserCreate", "TaskCreate", "TaskRead", "NotificationRead"} <= set(schemas)
    assert all(ref.removeprefix("#/components/schemas/") in schemas for ref in refs_in(document))
    assert "127.0.0.1" not in response.text


def test_authorize_signs_in_through_the_gateways_own_login(stack: Stack):
    document = httpx.get(f"{stack.url('gateway')}/openapi.json").json()

    schemes = document["components"]["securitySchemes"]
    assert list(schemes) == ["OAuth2PasswordBearer"]
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "/auth/login"
    for path, method in [("/auth/me", "get"), ("/tasks", "post"), ("/notifications", "get")]:
        assert document["paths"][path][method]["security"] == [{"OAuth2PasswordBearer": []}], path


def test_docs_page_loads_the_merged_document(stack: Stack):
    response = httpx.get(f"{stack.url('gateway')}/docs")

    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert json.dumps("/openapi.json")[1:-1] in response.text


def test_docs_pages_load_their_assets_from_the_server_itself(stack: Stack):
    """Swagger UI and ReDoc, at the gateway and on each service, with no CDN: every asset on the same server."""
    for server in [stack.url(service) for service in ("gateway", "auth", "task", "notification")]:
        for page in ("/docs", "/redoc"):
            response = httpx.get(f"{server}{page}")
            assert response.status_code == 200, f"{server}{page}"
            assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
            assert len(assets) >= 2, f"{server}{page}"
            assert not re.search(r"https?://", response.text), f"{server}{page}"
            for asset in assets:
                assert asset.startswith("/docs/assets/"), asset
                assert httpx.get(f"{server}{asset}").status_code == 200, f"{server}{asset}"
