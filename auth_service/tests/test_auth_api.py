import base64
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from jose import jwt
from sqlalchemy import create_engine, event, text

from auth_service.config import DEFAULT_JWT_SECRET
from auth_service.main import create_app
from tests.helpers import AUTH_DATABASE_URL, app_state, bearer


def test_register_returns_the_user_without_the_password(client: TestClient, new_user: dict):
    response = client.post("/auth/register", json=new_user)

    assert response.status_code == 201
    body = response.json()
    assert body == {"id": body["id"], "username": new_user["username"], "email": new_user["email"], "is_active": True}


@pytest.mark.parametrize("field", ["username", "email"])
def test_register_rejects_a_taken_name_or_email_regardless_of_case(client, registered_user, new_user, field):
    duplicate = {**new_user, "username": new_user["username"] + "x", "email": "x" + new_user["email"]}
    duplicate[field] = registered_user[field].upper()

    response = client.post("/auth/register", json=duplicate)

    assert response.status_code == 409
    assert response.json()["detail"] == f"{field.capitalize()} already registered"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "12345"}, "password"),
        ({"password": "é" * 37}, "password"),  # 37 characters, 74 bytes: over bcrypt's limit
        ({"username": "a b"}, "username"),
        ({"username": "ab"}, "username"),
    ],
)
def test_register_rejects_invalid_fields_with_422_naming_the_field(client, new_user, change, field):
    response = client.post("/auth/register", json={**new_user, **change})

    assert response.status_code == 422
    assert [error["loc"][-1] for error in response.json()["detail"]] == [field]


def test_register_accepts_a_password_of_exactly_72_bytes(client, new_user):
    response = client.post("/auth/register", json={**new_user, "password": "é" * 36})
    assert response.status_code == 201

    login = client.post("/auth/login", data={"username": new_user["username"], "password": "é" * 36})
    assert login.status_code == 200


def test_register_rejects_a_missing_body_field(client, new_user):
    response = client.post("/auth/register", json={"username": new_user["username"]})

    assert response.status_code == 422
    assert {error["loc"][-1] for error in response.json()["detail"]} == {"email", "password"}


@pytest.mark.parametrize("login_field", ["username", "email"])
def test_login_with_username_or_email_returns_a_bearer_token(client, registered_user, login_field):
    response = client.post(
        "/auth/login", data={"username": registered_user[login_field], "password": registered_user["password"]}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    me = client.get("/auth/me", headers=bearer(body["access_token"]))
    assert me.json()["id"] == registered_user["id"]


@pytest.mark.parametrize("password", ["wrong-password", "x" * 200], ids=["wrong", "longer-than-bcrypt-allows"])
def test_login_with_a_wrong_password_is_401(client, registered_user, password):
    response = client.post("/auth/login", data={"username": registered_user["username"], "password": password})

    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect username or password"}
    assert response.headers["www-authenticate"] == "Bearer"


def test_login_for_an_unknown_user_is_401(client):
    response = client.post("/auth/login", data={"username": "nobody-at-all", "password": "whatever"})

    assert response.status_code == 401


def test_login_needs_the_form_fields(client):
    response = client.post("/auth/login", json={"username": "a", "password": "b"})

    assert response.status_code == 422


def test_me_returns_the_current_user(client, registered_user, token):
    response = client.get("/auth/me", headers=bearer(token))

    assert response.status_code == 200
    assert response.json() == {
        "id": registered_user["id"],
        "username": registered_user["username"],
        "email": registered_user["email"],
        "is_active": True,
    }


def test_paths_work_with_a_trailing_slash_without_redirecting(client, token):
    response = client.get("/auth/me/", headers=bearer(token), follow_redirects=False)

    assert response.status_code == 200


def test_verify_names_the_user_a_token_belongs_to(client, registered_user, token):
    response = client.get("/auth/verify", headers=bearer(token))

    assert response.status_code == 200
    assert response.json() == {
        "valid": True,
        "id": registered_user["id"],
        "username": registered_user["username"],
        "email": registered_user["email"],
    }


def _token(claims: dict, secret: str = DEFAULT_JWT_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def _unsigned_token(claims: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _bad_tokens(user_id: int) -> dict[str, str]:
    """Tokens that each differ from a valid one for `user_id` in exactly one way."""
    expires = datetime.now(UTC) + timedelta(minutes=5)
    valid = {"sub": str(user_id), "exp": expires, "jti": "a" * 32, "ver": 0}

    def without(claim: str) -> dict:
        return {name: value for name, value in valid.items() if name != claim}

    return {
        "expired": _token({**valid, "exp": datetime.now(UTC) - timedelta(seconds=1)}),
        "without-exp": _token(without("exp")),
        "without-jti": _token(without("jti")),
        "without-ver": _token(without("ver")),
        "old-version": _token({**valid, "ver": -1}),
        "other-secret": _token(valid, secret="another-secret-" * 3),
        "alg-none": _unsigned_token({**valid, "exp": int(expires.timestamp())}),
        "other-algorithm": _token(valid, algorithm="HS512"),
        "unknown-user": _token({**valid, "sub": "999999999"}),
        "non-numeric-sub": _token({**valid, "sub": "abc"}),
        "garbage": "not.a.token",
        "bad-header": "eyJhbGciOiJSUzI1NiIsImtpZCI6e319.e30.c2ln",
    }


def test_a_token_crafted_like_the_bad_ones_but_valid_is_accepted(client, registered_user):
    """Guards the test above: its tokens fail for the one reason each names, not for a missing claim."""
    valid = {"sub": str(registered_user["id"]), "exp": datetime.now(UTC) + timedelta(minutes=5), "jti": "b" * 32}

    response = client.get("/auth/me", headers=bearer(_token({**valid, "ver": 0})))

    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/auth/me", "/auth/verify"])
@pytest.mark.parametrize(
    "kind",
    [
        "expired",
        "without-exp",
        "without-jti",
        "without-ver",
        "old-version",
        "other-secret",
        "alg-none",
        "other-algorithm",
        "unknown-user",
        "non-numeric-sub",
        "garbage",
        "bad-header",
    ],
)
def test_protected_paths_reject_bad_tokens_with_401(client, registered_user, path, kind):
    response = client.get(path, headers=bearer(_bad_tokens(registered_user["id"])[kind]))

    assert response.status_code == 401
    assert response.json() == {"detail": "Could not validate credentials"}
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}])
def test_protected_paths_without_a_bearer_token_are_401(client, headers):
    response = client.get("/auth/me", headers=headers)

    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == "Bearer"


def test_health_reports_the_database(client):
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"service": "auth_service", "status": "ok", "checks": {"database": "ok"}}


def test_requests_succeed_after_the_database_drops_every_connection(client, registered_user, token):
    client.get("/auth/me", headers=bearer(token))  # the pool now holds an open connection
    engine = create_engine(AUTH_DATABASE_URL)
    with engine.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    engine.dispose()

    response = client.get("/auth/me", headers=bearer(token))

    assert response.status_code == 200
    assert response.json()["id"] == registered_user["id"]


def test_metrics_count_requests_by_route_template_and_status(client):
    client.get("/auth/me")
    client.get("/no/such/path")
    client.get("/openapi.json")

    metrics = client.get("/metrics")

    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'http_requests_total{method="GET",route="/auth/me",status="401"}' in metrics.text
    assert 'http_requests_total{method="GET",route="unmatched",status="404"}' in metrics.text
    assert 'http_requests_total{method="GET",route="/openapi.json",status="200"}' in metrics.text


def test_a_rejected_password_is_not_repeated_in_the_response(client, new_user):
    response = client.post("/auth/register", json={**new_user, "password": "s3cr3"})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "password"]
    assert error["msg"] == "String should have at least 6 characters"
    assert "s3cr3" not in response.text


def test_sign_ins_past_the_hashers_queue_are_refused_at_once_with_503_and_retry_after(settings):
    # One hash at a time and none waiting; at cost 13 each takes over half a second here.
    busy = settings.model_copy(update={"hashing_concurrency": 1, "hashing_queue_limit": 0, "bcrypt_rounds": 13})
    unknown = {"username": f"nobody_{uuid.uuid4().hex[:8]}", "password": "whatever1"}
    with TestClient(create_app(busy)) as client, ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: client.post("/auth/login", data=unknown), range(4)))

    assert sorted(answer.status_code for answer in answers) == [401, 503, 503, 503]
    refused = next(answer for answer in answers if answer.status_code == 503)
    assert refused.json() == {"detail": "Too many sign-ins at once; retry shortly"}
    assert int(refused.headers["retry-after"]) > 0


def test_while_the_hasher_is_full_a_sign_in_is_refused_before_its_body_is_read(settings):
    busy = settings.model_copy(update={"hashing_concurrency": 1, "hashing_queue_limit": 0, "bcrypt_rounds": 13})
    unknown = {"username": f"nobody_{uuid.uuid4().hex[:8]}", "password": "whatever1"}
    with TestClient(create_app(busy)) as client, ThreadPoolExecutor(1) as pool:
        hashing = pool.submit(client.post, "/auth/login", data=unknown)
        deadline = time.monotonic() + 5
        while not app_state(client).accounts.hasher.is_full() and time.monotonic() < deadline:
            time.sleep(0.005)
        # Not even a valid form: refused for the hasher, not parsed into a 422.
        refused = client.post("/auth/login", content=b"not a form", headers={"Content-Type": "text/plain"})

    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "2"
    assert hashing.result().status_code == 401


def test_a_token_check_costs_one_database_statement(client, token):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = app_state(client).database.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get("/auth/verify", headers=bearer(token))
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert response.status_code == 200
    assert len(statements) == 1, statements
