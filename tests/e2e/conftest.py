from collections.abc import Iterator

import pytest

from tests.e2e.otlp_receiver import OtlpReceiver
from tests.e2e.stack import Stack, start_stack
from tests.helpers import E2E_OTLP_PORT


@pytest.fixture(scope="session")
def traces() -> Iterator[OtlpReceiver]:
    """What the stack's services export: the suite runs with tracing on, as it is in production."""
    receiver = OtlpReceiver(E2E_OTLP_PORT).start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture(scope="session")
def stack(traces: OtlpReceiver) -> Iterator[Stack]:
    """All four services as real uvicorn processes, as `make dev` runs them, on test ports and data."""
    running = start_stack(traces.endpoint)
    try:
        yield running
    finally:
        running.stop()
