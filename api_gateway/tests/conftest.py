from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api_gateway.config import Settings
from api_gateway.main import create_app
from tests.helpers import GATEWAY_SUITE_AUTH_PORT, RunningService, running_auth_service

AUTH_PORT = GATEWAY_SUITE_AUTH_PORT
CLOSED_PORT_URL = "http://127.0.0.1:1"


@pytest.fixture(scope="module")
def auth_service() -> Iterator[RunningService]:
    with running_auth_service(AUTH_PORT) as service:
        yield service


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
