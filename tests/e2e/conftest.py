from collections.abc import Iterator

import pytest

from tests.e2e.stack import Stack, start_stack


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """All four services as real uvicorn processes, as `make dev` runs them, on test ports and data."""
    running = start_stack()
    try:
        yield running
    finally:
        running.stop()
