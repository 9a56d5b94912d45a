import pytest
import yaml

from tests.deploy.files import COMPOSE_FILE


@pytest.fixture(scope="module")
def compose() -> dict:
    """docker-compose.yml as written (its `${...}` variables not interpolated)."""
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]
