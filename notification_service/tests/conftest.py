import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pika
import pytest
from fastapi.testclient import TestClient

from notification_service.config import Settings
from notification_service.main import create_app
from tests.helpers import (
    NOTIFICATION_DATABASE_URL,
    NOTIFICATION_SUITE_AUTH_PORT,
    RABBITMQ_URL,
    RunningService,
    migrate,
    poll,
    register_and_login,
    running_auth_service,
)

AUTH_PORT = NOTIFICATION_SUITE_AUTH_PORT
# This suite's own exchange and queues: no other suite's events reach them, nor theirs this one's.
SUITE = "notification-service-tests"


@pytest.fixture(scope="module")
def auth_service() -> Iterator[RunningService]:
    with running_auth_service(AUTH_PORT) as service:
        yield service


@pytest.fixture(scope="module")
def settings(auth_service: RunningService, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    migrate("notification_service", NOTIFICATION_DATABASE_URL)
    return Settings(
        database_url=NOTIFICATION_DATABASE_URL,
        auth_service_url=auth_service.base_url,
        rabbitmq_url=RABBITMQ_URL,
        notification_log_file=tmp_path_factory.mktemp("logs") / "notifications.log",
        events_exchange=f"task_events.{SUITE}",
        queue_name=f"notifications.{SUITE}",
        dead_letter_exchange=f"notifications.dead-letter.{SUITE}",
        dead_letter_queue=f"notifications.dead-letter.{SUITE}",
        live_exchange=f"notifications.live.{SUITE}",
        environment="test",
    )


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    # Module scope: the consumer must be gone before another suite consumes the same queue.
    with TestClient(create_app(settings)) as test_client:
        # Until the consumer has declared its queue, a published event has nowhere to go.
        poll(lambda: test_client.app.state.consumer.connected)
        yield test_client


@pytest.fixture
def user(auth_service: RunningService) -> dict:
    return register_and_login(auth_service.base_url, "carol")


@pytest.fixture
def log_lines(settings: Settings) -> Callable[[], list[dict]]:
    def read() -> list[dict]:
        path: Path = settings.notification_log_file
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    return read


@pytest.fixture
def publish(settings: Settings) -> Iterator[Callable[..., None]]:
    """Publish raw bytes to the task events exchange, as the task service's relay would."""
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    channel = connection.channel()
    channel.exchange_declare(settings.events_exchange, exchange_type="topic", durable=True)

    def send(body: dict | bytes, routing_key: str = "task.created", message_id: str | None = None) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        properties = pika.BasicProperties(
            content_type="application/json", delivery_mode=pika.DeliveryMode.Persistent, message_id=message_id
        )
        channel.basic_publish(settings.events_exchange, routing_key, payload, properties)

    yield send
    connection.close()
