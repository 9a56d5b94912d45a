import json
from collections.abc import Callable, Iterator

import pika
import pytest
from fastapi.testclient import TestClient

from task_service.config import Settings
from task_service.main import create_app
from tests.helpers import (
    RABBITMQ_URL,
    TASK_DATABASE_URL,
    TASK_SUITE_AUTH_PORT,
    RunningService,
    migrate,
    poll,
    register_and_login,
    running_auth_service,
)

AUTH_PORT = TASK_SUITE_AUTH_PORT
# This suite's own exchange: its events never reach another suite's queues, nor theirs this one's.
EVENTS_EXCHANGE = "task_events.task-service-tests"


@pytest.fixture(scope="package")
def auth_service() -> Iterator[RunningService]:
    """The real auth service: the task service checks every token by calling it."""
    with running_auth_service(AUTH_PORT) as service:
        yield service


@pytest.fixture(scope="package")
def settings(auth_service: RunningService) -> Settings:
    migrate("task_service", TASK_DATABASE_URL)
    return Settings(
        database_url=TASK_DATABASE_URL,
        auth_service_url=auth_service.base_url,
        rabbitmq_url=RABBITMQ_URL,
        events_exchange=EVENTS_EXCHANGE,
        outbox_poll_seconds=0.2,
        environment="test",
    )


@pytest.fixture(scope="package")
def event_sink(settings: Settings) -> Iterator[None]:
    """A queue bound for the whole session, so every event is routable and leaves the outbox.

    Without it, events made between two tests that read events wait in the shared test outbox,
    for whichever relay runs next, in whatever suite.
    """
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    channel = connection.channel()
    channel.exchange_declare(settings.events_exchange, exchange_type="topic", durable=True)
    queue = channel.queue_declare("", exclusive=True, arguments={"x-max-length": 1}).method.queue
    channel.queue_bind(queue, settings.events_exchange, routing_key="#")
    yield
    connection.close()


@pytest.fixture(scope="package")
def client(settings: Settings, event_sink: None) -> Iterator[TestClient]:
    # Package scope: its outbox relay must be gone before other suites share the test outbox,
    # or it would publish their events to this suite's exchange.
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def alice(auth_service: RunningService) -> dict:
    return register_and_login(auth_service.base_url, "alice")


@pytest.fixture
def bob(auth_service: RunningService) -> dict:
    return register_and_login(auth_service.base_url, "bob")


@pytest.fixture
def task_events(settings: Settings) -> Iterator[Callable[[Callable[[dict], bool]], tuple[dict, pika.BasicProperties]]]:
    """Wait for the task event matching a predicate, read from a queue bound like the notification service's."""
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    channel = connection.channel()
    channel.exchange_declare(settings.events_exchange, exchange_type="topic", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, settings.events_exchange, routing_key="task.*")
    seen: list[tuple[dict, pika.BasicProperties, str]] = []

    def matching(predicate: Callable[[dict], bool]) -> tuple[dict, pika.BasicProperties, str] | None:
        while True:
            method, properties, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                break
            seen.append((json.loads(body), properties, method.routing_key))
        return next((event for event in seen if predicate(event[0])), None)

    def wait_for(predicate: Callable[[dict], bool]):
        return poll(lambda: matching(predicate))

    yield wait_for
    connection.close()
