import uuid

import pytest
from fastapi.testclient import TestClient

from tests.helpers import bearer


def login(client: TestClient, username: str, password: str):
    return client.post("/auth/login", data={"username": username, "password": password})


def test_patch_me_changes_the_given_fields(client, registered_user, token):
    new_name = registered_user["username"] + "_2"

    response = client.patch("/auth/me", headers=bearer(token), json={"username": new_name})

    assert response.status_code == 200
    assert response.json() == {
        "id": registered_user["id"],
        "username": new_name,
        "email": registered_user["email"],
        "is_active": True,
    }
    assert login(client, new_name, registered_user["password"]).status_code == 200


def test_patch_me_may_keep_the_same_name_in_another_case(client, registered_user, token):
    response = client.patch("/auth/me", headers=bearer(token), json={"username": registered_user["username"].upper()})

    assert response.status_code == 200
    assert response.json()["username"] == registered_user["username"].upper()


@pytest.mark.parametrize("field", ["username", "email"])
def test_patch_me_refuses_another_users_name_or_email(client, token, field):
    suffix = uuid.uuid4().hex[:10]
    other = client.post(
        "/auth/register",
        json={"username": f"other_{suffix}", "email": f"other_{suffix}@example.com", "password": "test123"},
    ).json()

    response = client.patch("/auth/me", headers=bearer(token), json={field: other[field]})

    assert response.status_code == 409
    assert response.json() == {"detail": f"{field.capitalize()} already registered"}


@pytest.mark.parametrize("body", [{}, {"username": None}, {"email": "nope"}, {"password": "sneaky1"}])
def test_patch_me_rejects_invalid_bodies_with_422(client, token, body):
    response = client.patch("/auth/me", headers=bearer(token), json=body)

    assert response.status_code == 422


def test_changing_the_password_retires_old_tokens_and_the_old_password(client, registered_user, token):
    response = client.post(
        "/auth/me/password",
        headers=bearer(token),
        json={"current_password": registered_user["password"], "new_password": "brand-new-secret"},
    )

    assert response.status_code == 204
    assert client.get("/auth/me", headers=bearer(token)).status_code == 401
    assert login(client, registered_user["username"], registered_user["password"]).status_code == 401
    fresh = login(client, registered_user["username"], "brand-new-secret")
    assert client.get("/auth/me", headers=bearer(fresh.json()["access_token"])).status_code == 200


def test_changing_the_password_needs_the_current_one(client, token):
    response = client.post(
        "/auth/me/password", headers=bearer(token), json={"current_password": "wrong", "new_password": "whatever1"}
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "Current password is incorrect"}
    assert client.get("/auth/me", headers=bearer(token)).status_code == 200


def test_a_new_password_must_fit_the_rules(client, registered_user, token):
    response = client.post(
        "/auth/me/password",
        headers=bearer(token),
        json={"current_password": registered_user["password"], "new_password": "123"},
    )

    assert response.status_code == 422


def test_logout_revokes_that_token_only(client, registered_user, token):
    other_token = login(client, registered_user["username"], registered_user["password"]).json()["access_token"]

    response = client.post("/auth/logout", headers=bearer(token))

    assert response.status_code == 204
    assert client.get("/auth/verify", headers=bearer(token)).status_code == 401
    assert client.post("/auth/logout", headers=bearer(token)).status_code == 401
    assert client.get("/auth/verify", headers=bearer(other_token)).status_code == 200
