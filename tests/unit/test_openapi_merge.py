"""How the gateway merges OpenAPI documents, on small hand-made ones (no services needed)."""

import httpx
import pytest

from api_gateway.openapi import merged_openapi
from api_gateway.proxy import Upstream

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def document(paths: dict, schemas: dict) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def returning(schema_name: str) -> dict:
    return {"responses": {"200": {"content": {"application/json": {"schema": ref(schema_name)}}}}}


GATEWAY = {"openapi": "3.1.0", "info": {"title": "Gateway", "version": "1", "description": "All of it."}, "paths": {}}
AUTH = document(
    {"/auth/login": {"post": returning("Token")}, "/health": {"get": {}}, "/metrics": {"get": {}}},
    {"Token": {"type": "object", "title": "auth token"}, "Message": {"type": "object", "title": "auth message"}},
)
TASKS = document(
    {"/tasks/{task_id}": {"delete": returning("Message")}, "/health": {"get": {}}},
    {"Message": {"type": "object", "title": "task message"}},
)
UPSTREAMS = [
    Upstream("auth_service", "/auth", "http://auth.internal:8001"),
    Upstream("task_service", "/tasks", "http://task.internal:8002"),
]


async def merge(documents: dict[str, dict | None]) -> dict:
    def answer(request: httpx.Request) -> httpx.Response:
        found = documents[request.url.host]
        return httpx.Response(200, json=found) if found else httpx.Response(503)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        return await merged_openapi(GATEWAY, {u.service: client for u in UPSTREAMS}, UPSTREAMS, timeout=1)


async def test_only_paths_under_each_services_prefix_are_taken():
    merged = await merge({"auth.internal": AUTH, "task.internal": TASKS})

    assert set(merged["paths"]) == {"/auth/login", "/tasks/{task_id}"}


async def test_a_schema_two_services_define_differently_is_renamed_with_its_references():
    merged = await merge({"auth.internal": AUTH, "task.internal": TASKS})

    schemas = merged["components"]["schemas"]
    assert schemas["Message"]["title"] == "auth message"
    assert schemas["task_service__Message"]["title"] == "task message"
    delete = merged["paths"]["/tasks/{task_id}"]["delete"]
    assert delete["responses"]["200"]["content"]["application/json"]["schema"] == ref("task_service__Message")


async def test_an_identical_schema_is_shared_not_renamed():
    same = document({"/tasks": {"get": {}}}, {"Token": AUTH["components"]["schemas"]["Token"]})

    merged = await merge({"auth.internal": AUTH, "task.internal": same})

    assert "task_service__Token" not in merged["components"]["schemas"]


async def test_an_unreachable_service_is_named_and_the_rest_still_served():
    merged = await merge({"auth.internal": AUTH, "task.internal": None})

    assert set(merged["paths"]) == {"/auth/login"}
    assert merged["info"]["description"].endswith("Not listed (service unreachable just now): task_service.")
    assert GATEWAY["paths"] == {}  # the gateway's own document is not modified in place
