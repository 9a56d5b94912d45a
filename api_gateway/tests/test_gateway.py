import uuid

import pytest


def new_user() -> dict:
    suffix = uuid.uuid4().hex[:10]
    return {"username": f"gw_{suffix}", "email": f"gw_{suffix}@example.com", "password": "test123"}


def test_root_describes_the_gateway(client):
    response = client.get("/")

    assert response.status_code == 200
    assert response.json()["service"] == "api_gateway"


def test_routes_name_each_prefix_and_service_without_internal_addresses(client):
    response = client.get("/routes")

    assert [(r["prefix"], r["service"]) for r in response.json()] == [
        ("/auth", "auth_service"),
        ("/tasks", "task_service"),
        ("/notifications", "notification_service"),
    ]
    assert "127.0.0.1" not in response.text


def test_health_is_503_naming_the_services_that_are_down(client):
    response = client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"] == {"auth_service": "ok", "task_service": "down", "notification_service": "down"}
    assert body["details"]["task_service"]["status"] == "unreachable"
    assert "127.0.0.1" not in response.text


def test_requests_are_forwarded_with_status_body_and_headers(client):
    user = new_user()

    registered = client.post("/auth/register", json=user)
    duplicate = client.post("/auth/register", json=user)
    login = client.post("/auth/login", data={"username": user["username"], "password": user["password"]})
    me = client.get("/auth/me/", headers={"Authorization": f"Bearer {login.json()['access_token']}"})

    assert registered.status_code == 201
    assert registered.json()["username"] == user["username"]
    assert duplicate.status_code == 409
    assert duplicate.json() == {"detail": "Username already registered"}
    assert me.status_code == 200
    assert me.json()["email"] == user["email"]
    assert "server" not in me.headers  # the service's own; the gateway's server adds its own
    assert int(me.headers["content-length"]) == len(me.content)


def test_upstream_errors_pass_through_unchanged(client):
    unauthorized = client.get("/auth/me", headers={"Authorization": "Bearer nope"})
    invalid = client.post("/auth/register", json={"username": "x"})

    assert unauthorized.status_code == 401
    assert unauthorized.headers["www-authenticate"] == "Bearer"
    assert invalid.status_code == 422
    assert {error["loc"][-1] for error in invalid.json()["detail"]} == {"username", "email", "password"}


@pytest.mark.parametrize(("path", "service"), [("/tasks/", "task_service"), ("/notifications", "notification_service")])
def test_a_service_that_is_down_gives_503_with_a_clear_detail(client, path, service):
    response = client.get(path, headers={"Authorization": "Bearer whatever"})

    assert response.status_code == 503
    assert response.json() == {"detail": f"{service} is unavailable"}


DOT_SEGMENTS = "Path must not contain '.' or '..' segments"
ENCODED_SLASHES = "Path must not contain encoded slashes"


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/tasks/%2e%2e/auth/me", DOT_SEGMENTS),
        ("/auth/%2E%2E/tasks", DOT_SEGMENTS),
        ("/tasks/.%2e/auth/me", DOT_SEGMENTS),
        ("/auth/a%2fb", ENCODED_SLASHES),
        ("/auth/a%5Cb", ENCODED_SLASHES),
    ],
)
def test_paths_that_could_escape_a_prefix_are_refused(client, path, detail):
    response = client.get(path)

    assert response.status_code == 400
    assert response.json() == {"detail": detail}


def test_unknown_paths_are_404_from_the_gateway_itself(client):
    response = client.get("/admin")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_the_gateway_has_its_own_metrics(client):
    client.get("/tasks/42", headers={"Authorization": "Bearer whatever"})

    metrics = client.get("/metrics").text

    assert 'http_requests_total{method="GET",route="/tasks/{path:path}",status="503"}' in metrics


def test_the_api_document_lists_what_it_can_reach_and_names_what_it_cannot(client):
    response = client.get("/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert "/auth/login" in document["paths"]
    assert not any(path.startswith("/tasks") for path in document["paths"])
    assert "task_service, notification_service" in document["info"]["description"]


def test_a_body_over_the_limit_is_refused_before_reaching_a_service(client):
    response = client.post("/auth/register", content=b"x" * (1024 * 1024 + 1), headers={"Content-Type": "text/plain"})

    assert response.status_code == 413
    assert response.json() == {"detail": "Request body must be at most 1048576 bytes"}


def test_a_chunked_body_over_the_limit_is_refused_too(client):
    def chunks():
        for _ in range(1100):
            yield b"x" * 1024

    response = client.post("/auth/register", content=chunks())

    assert response.status_code == 413


@pytest.mark.parametrize("authorization", ["Bearer ", "Bearer"])
def test_an_empty_bearer_token_is_401_as_at_the_service(client, authorization):
    response = client.get("/auth/me", headers={"Authorization": authorization})

    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
