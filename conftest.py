"""Test layers, by where a test lives, so a subset can be picked with `-m`.

- unit: needs no server (tests/unit)
- deploy: static checks of the compose file, Dockerfiles and Kubernetes manifests (tests/deploy)
- integration: one service against real PostgreSQL, MariaDB, RabbitMQ and Redis (each service's
  tests/, and tests/test_*.py: migrations, backups, provisioning, production settings)
- e2e: the whole system as real processes (tests/e2e)

`make test` runs them all; `make test-fast` runs unit and deploy, which need no server.
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
LAYERS = {ROOT / "tests" / "unit": "unit", ROOT / "tests" / "deploy": "deploy", ROOT / "tests" / "e2e": "e2e"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(item.fspath)
        layer = next((name for folder, name in LAYERS.items() if folder in path.parents), "integration")
        item.add_marker(getattr(pytest.mark, layer))
