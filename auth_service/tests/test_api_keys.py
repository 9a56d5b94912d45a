"""API keys: created once, listed without the secret, accepted as `X-API-Key`, refused once deleted."""

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis.asyncio as redis
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, update

from auth_service.api_keys import hash_api_key
from auth_service.config import Settings
from auth_service.main import create_app
from auth_service.models import ApiKey
from common.db import utcnow
from common.revocations import KEY_PREFIX
from tests.helpers import REDIS_URL, bearer


def keyed(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def create_key(client: TestClient, token: str, name: str = "ci") -> dict:
    response = client.post("/auth/api-keys", headers=bearer(token), json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()


def other_users_token(client: TestClient) -> str:
    suffix = uuid.uuid4().hex[:10]
    user = {"username": f"other_{suffix}", "email": f"other_{suffix}@example.com", "password": "test123"}
    assert client.post("/auth/register", json=user).status_code == 201
    return client.post("/auth/login", data={"username": user["username"], "password": "test123"}).json()["access_token"]


def test_a_new_key_is_shown_once_with_its_prefix(client, token):
    created = create_key(client, token, "nightly backup")

    assert set(created) == {"id", "name", "key", "prefix", "created_at"}
    assert created["name"] == "nightly backup"
    assert created["prefix"].startswith("tm_") and len(created["prefix"]) == 11
    assert created["key"].startswith(created["prefix"] + "_")
    assert len(created["key"]) >= len(created["prefix"]) + 1 + 43  # 32 random bytes


def test_only_the_keys_hash_is_stored(client, token, settings):
    created = create_key(client, token)

    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        stored = connection.execute(ApiKey.__table__.select().where(ApiKey.id == created["id"])).mappings().one()
    engine.dispose()
    assert created["key"] not in [str(value) for value in stored.values()]
    assert stored["key_hash"] == hash_api_key(created["key"])


def test_the_list_shows_the_users_keys_without_the_secret(client, token):
    first = create_key(client, token, "first")
    second = create_key(client, token, "second")

    response = client.get("/auth/api-keys", headers=bearer(token))

    assert response.status_code == 200
    listed = response.json()
    assert [key["id"] for key in listed] == [first["id"], second["id"]]
    assert listed[0] == {
        "id": first["id"],
        "name": "first",
        "prefix": first["prefix"],
        "created_at": first["created_at"],
        "last_used_at": None,
    }
    assert first["key"] not in response.text and second["key"] not in response.text


def test_a_key_acts_as_its_user_on_verify_and_me(client, registered_user, token):
    key = create_key(client, token)["key"]

    verified = client.get("/auth/verify", headers=keyed(key))
    me = client.get("/auth/me", headers=keyed(key))

    assert verified.status_code == 200
    assert verified.json() == {
        "valid": True,
        "id": registered_user["id"],
        "username": registered_user["username"],
        "email": registered_user["email"],
    }
    assert me.status_code == 200 and me.json()["id"] == registered_user["id"]
    assert client.get("/auth/api-keys", headers=keyed(key)).status_code == 200


def test_use_sets_last_used_at_at_most_once_a_minute(client, token, settings):
    created = create_key(client, token)
    assert client.get("/auth/verify", headers=keyed(created["key"])).status_code == 200
    first_use = client.get("/auth/api-keys", headers=bearer(token)).json()[0]["last_used_at"]
    assert first_use is not None

    assert client.get("/auth/verify", headers=keyed(created["key"])).status_code == 200
    assert client.get("/auth/api-keys", headers=bearer(token)).json()[0]["last_used_at"] == first_use

    # As if the last use were over a minute ago: the next use is written.
    engine = create_engine(settings.database_url)
    with engine.begin() as connection:
        connection.execute(
            update(ApiKey).where(ApiKey.id == created["id"]).values(last_used_at=utcnow() - timedelta(minutes=2))
        )
    engine.dispose()
    assert client.get("/auth/verify", headers=keyed(created["key"])).status_code == 200
    assert client.get("/auth/api-keys", headers=bearer(token)).json()[0]["last_used_at"] > first_use


@pytest.mark.parametrize(
    ("method", "path", "body", "action"),
    [
        ("post", "/auth/api-keys", {"name": "another"}, "create API keys"),
        (
            "post",
            "/auth/me/password",
            {"current_password": "test123", "new_password": "stolen-key"},
            "change the password",
        ),
        ("patch", "/auth/me", {"username": "taken_over"}, "change the profile"),
        ("post", "/auth/logout", None, "sign out"),
    ],
)
def test_a_key_cannot_make_keys_or_change_the_account(client, token, method, path, body, action):
    key = create_key(client, token)["key"]

    response = client.request(method, path, headers=keyed(key), json=body)

    assert response.status_code == 403
    assert response.json() == {
        "detail": f"An API key cannot {action}: sign in with your password and use the bearer token"
    }
    assert client.post("/auth/login", data={"username": "taken_over", "password": "stolen-key"}).status_code == 401
    assert client.get("/auth/me", headers=keyed(key)).status_code == 200


def test_a_deleted_key_is_refused(client, token):
    created = create_key(client, token)
    assert client.get("/auth/verify", headers=keyed(created["key"])).status_code == 200

    deleted = client.delete(f"/auth/api-keys/{created['id']}", headers=bearer(token))

    assert deleted.status_code == 204
    for path in ("/auth/verify", "/auth/me", "/auth/api-keys"):
        refused = client.get(path, headers=keyed(created["key"]))
        assert refused.status_code == 401, path
        assert refused.json() == {"detail": "Invalid API key"}
        assert refused.headers["WWW-Authenticate"] == "Bearer"
    assert client.get("/auth/api-keys", headers=bearer(token)).json() == []
    assert client.delete(f"/auth/api-keys/{created['id']}", headers=bearer(token)).status_code == 404


def test_a_key_may_delete_itself(client, token):
    created = create_key(client, token)

    assert client.delete(f"/auth/api-keys/{created['id']}", headers=keyed(created["key"])).status_code == 204
    assert client.get("/auth/verify", headers=keyed(created["key"])).status_code == 401


def test_another_users_key_cannot_be_deleted(client, token):
    created = create_key(client, token)

    response = client.delete(f"/auth/api-keys/{created['id']}", headers=bearer(other_users_token(client)))

    assert response.status_code == 404
    assert response.json() == {"detail": "API key not found"}
    assert client.get("/auth/verify", headers=keyed(created["key"])).status_code == 200


def test_each_user_lists_only_their_own_keys(client, token):
    create_key(client, token)

    assert client.get("/auth/api-keys", headers=bearer(other_users_token(client))).json() == []


@pytest.mark.parametrize("key_id", ["0", "-1", "2147483648", "99999999999999999999"])
def test_ids_no_key_can_have_are_not_found(client, token, key_id):
    assert client.delete(f"/auth/api-keys/{key_id}", headers=bearer(token)).status_code in (404, 422)


def test_a_password_change_deletes_every_key(client, registered_user, token):
    key = create_key(client, token)["key"]

    changed = client.post(
        "/auth/me/password",
        headers=bearer(token),
        json={"current_password": registered_user["password"], "new_password": "brand-new-secret"},
    )

    assert changed.status_code == 204
    assert client.get("/auth/verify", headers=keyed(key)).status_code == 401
    fresh = client.post("/auth/login", data={"username": registered_user["username"], "password": "brand-new-secret"})
    assert client.get("/auth/api-keys", headers=bearer(fresh.json()["access_token"])).json() == []


@pytest.mark.parametrize(
    "key",
    [
        "",
        "nonsense",
        "tm_00000000_" + "A" * 43,  # well-formed, unknown
        "tm_zzzzzzzz_" + "A" * 43,
        "tm_" + "0" * 60,
        "tm_00000000_" + "é" * 43,
    ],
)
def test_malformed_or_unknown_keys_are_refused_with_401(client, key):
    response = client.get("/auth/verify", headers={"X-API-Key": key.encode()})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_known_prefix_with_a_wrong_secret_is_refused(client, token):
    key = create_key(client, token)["key"]
    forged = key[:12] + ("B" if key[12] != "B" else "C") + key[13:]

    response = client.get("/auth/verify", headers=keyed(forged))

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid API key"}


def test_a_bearer_token_and_a_key_together_are_refused(client, token):
    key = create_key(client, token)["key"]

    response = client.get("/auth/verify", headers={**bearer(token), **keyed(key)})

    assert response.status_code == 401
    assert response.json() == {"detail": "Send a bearer token or an API key, not both"}


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 101}, {"name": "two\nlines"}, {"name": "a", "x": 1}])
def test_invalid_key_names_are_refused_with_422(client, token, body):
    assert client.post("/auth/api-keys", headers=bearer(token), json=body).status_code == 422


def test_keys_need_a_signed_in_user(client):
    assert client.post("/auth/api-keys", json={"name": "anonymous"}).status_code == 401
    assert client.get("/auth/api-keys").status_code == 401
    assert client.delete("/auth/api-keys/1").status_code == 401


def test_the_document_offers_both_schemes_where_keys_are_accepted(client):
    document = client.get("/openapi.json").json()

    assert document["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "An API key from `POST /auth/api-keys`, instead of a bearer token",
    }
    both: list[dict[str, list[str]]] = [{"OAuth2PasswordBearer": []}, {"APIKeyHeader": []}]
    for path, method in [("/auth/me", "get"), ("/auth/verify", "get"), ("/auth/api-keys", "get")]:
        assert document["paths"][path][method]["security"] == both, path
    assert document["paths"]["/auth/api-keys/{key_id}"]["delete"]["security"] == both
    for path, method in [("/auth/api-keys", "post"), ("/auth/logout", "post"), ("/auth/me", "patch")]:
        assert document["paths"][path][method]["security"] == [{"OAuth2PasswordBearer": []}], path


@pytest.fixture
def client_with_redis(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update={"redis_url": REDIS_URL}))) as test_client:
        yield test_client


def counter_of(user_id: int) -> int | None:
    """The user's revocation counter in Redis (None before their first revocation)."""

    async def read() -> int | None:
        client = redis.Redis.from_url(REDIS_URL)
        try:
            counter = await client.get(KEY_PREFIX + str(user_id))
            return None if counter is None else int(counter)
        finally:
            await client.aclose()

    return asyncio.run(read())


def test_deleting_a_key_raises_the_users_revocation_counter(client_with_redis, registered_user, token):
    created = create_key(client_with_redis, token)
    before = counter_of(registered_user["id"]) or 0

    assert client_with_redis.delete(f"/auth/api-keys/{created['id']}", headers=bearer(token)).status_code == 204

    assert counter_of(registered_user["id"]) == before + 1


def test_creating_or_using_a_key_leaves_the_counter_alone(client_with_redis, registered_user, token):
    before = counter_of(registered_user["id"])

    key = create_key(client_with_redis, token)["key"]
    assert client_with_redis.get("/auth/verify", headers=keyed(key)).status_code == 200

    assert counter_of(registered_user["id"]) == before
