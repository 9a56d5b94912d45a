from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api_gateway.config import Settings
from api_gateway.main import create_app
from tests.helpers import AUTH_DATABASE_URL, RunningService, auth_service_env, migrate

AUTH_PORT = 18301
CLOSED_PORT_URL = "http://127.0.0.1:1"


@pytest.fixture(scope="module")
def auth_service() -> Iterator[RunningService]:
    migrate("auth_service", AUTH_DATABASE_URL)
    service = RunningService("auth_service.main", AUTH_PORT, auth_service_env())
    try:
        yield service.wait_until_healthy()
    finally:
        service.stop()


@pytest.fixture(scope="module")
def client(auth_service: RunningService) -> Iterator[TestClient]:
    """A gateway whose auth service runs and whose task and notification services are down."""
    settings = Settings(
        auth_service_url=auth_service.base_url,
        task_service_url=CLOSED_PORT_URL,
        notification_service_url=CLOSED_PORT_URL,
        environment="test",
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client
