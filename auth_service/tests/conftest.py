import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from auth_service.config import Settings
from auth_service.main import create_app
from tests.helpers import AUTH_DATABASE_URL, TEST_BCRYPT_ROUNDS, migrate


@pytest.fixture(scope="package")
def settings() -> Settings:
    migrate("auth_service", AUTH_DATABASE_URL)
    return Settings(database_url=AUTH_DATABASE_URL, bcrypt_rounds=TEST_BCRYPT_ROUNDS, environment="test")


@pytest.fixture(scope="package")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def new_user() -> dict[str, str]:
    """Registration data for a user no other test run has used."""
    suffix = uuid.uuid4().hex[:10]
    return {"username": f"user_{suffix}", "email": f"user_{suffix}@example.com", "password": "test123"}


@pytest.fixture
def registered_user(client: TestClient, new_user: dict[str, str]) -> dict:
    response = client.post("/auth/register", json=new_user)
    assert response.status_code == 201, response.text
    return {**new_user, "id": response.json()["id"]}


@pytest.fixture
def token(client: TestClient, registered_user: dict) -> str:
    response = client.post(
        "/auth/login", data={"username": registered_user["username"], "password": registered_user["password"]}
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]
