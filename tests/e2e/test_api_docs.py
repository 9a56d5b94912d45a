import json
import re

import httpx

from tests.e2e.stack import Stack

PUBLIC_PATHS = {
    "/", "/health", "/routes",
    "/auth/register", "/auth/login", "/auth/me", "/auth/me/password", "/auth/logout", "/auth/verify",
    "/auth/api-keys", "/auth/api-keys/{key_id}",
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


def test_authorize_offers_the_gateways_own_login_and_api_keys(stack: Stack):
    document = httpx.get(f"{stack.url('gateway')}/openapi.json").json()

    schemes = document["components"]["securitySchemes"]
    assert list(schemes) == ["OAuth2PasswordBearer", "APIKeyHeader"]
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "/auth/login"
    assert schemes["APIKeyHeader"] | {"description": ""} == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "",
    }
    # Every protected operation takes a bearer token or an API key, but those a key may not do.
    # (One fetch of the document, here: each fetch moves the gateway's turn among the auth replicas,
    # which the curl guide's metrics example, run next, depends on.)
    either: list[dict[str, list[str]]] = [{"OAuth2PasswordBearer": []}, {"APIKeyHeader": []}]
    bearer_only = {
        ("/auth/api-keys", "post"),
        ("/auth/me", "patch"),
        ("/auth/me/password", "post"),
        ("/auth/logout", "post"),
    }
    protected = {
        (path, method): operation.get("security")
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation.get("security")
    }
    assert set(protected) >= {("/tasks", "post"), ("/tasks/{task_id}", "delete"), ("/notifications/stream", "get")}
    for operation, security in protected.items():
        assert security == ([{"OAuth2PasswordBearer": []}] if operation in bearer_only else either), operation


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
