import uuid
from collections.abc import Iterator

import pika
import pytest
from fastapi.testclient import TestClient

from notification_service.config import Settings
from notification_service.main import create_app
from notification_service.tests.events import task_event
from tests.helpers import RABBITMQ_URL, app_state, poll


@pytest.fixture
def own_queue(settings: Settings) -> Iterator[Settings]:
    """Settings with a queue of this test's own, removed afterwards so it does not collect later events."""
    name = f"notifications.outage-test-{uuid.uuid4().hex[:8]}"
    isolated = settings.model_copy(
        update={"queue_name": name, "dead_letter_exchange": f"{name}.dlx", "dead_letter_queue": f"{name}.dead"}
    )
    yield isolated
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    channel = connection.channel()
    channel.queue_delete(name)
    channel.queue_delete(isolated.dead_letter_queue)
    channel.exchange_delete(isolated.dead_letter_exchange)
    connection.close()


def queued_messages(queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        connection.close()


def test_events_wait_in_the_queue_while_the_database_is_down_and_are_stored_when_it_is_back(own_queue, user, publish):
    database_down = own_queue.model_copy(
        update={"database_url": "mysql+pymysql://notifyuser:notifypassword@127.0.0.1:1/notifications_test"}
    )
    event = task_event(user, task_id=77, title="Survives the outage")
    with TestClient(create_app(database_down)) as down:
        poll(lambda: app_state(down).consumer.connected)
        publish(event)
        health = down.get("/health")
        # Taken by the consumer, which cannot store it and so never acknowledges it.
        poll(lambda: queued_messages(own_queue.queue_name) == 0, timeout=5)

    assert health.status_code == 503
    assert health.json()["checks"]["database"] == "down"
    # Unacknowledged while the database was away: back on the queue, not dead-lettered.
    assert queued_messages(own_queue.queue_name) == 1
    assert queued_messages(own_queue.dead_letter_queue) == 0

    with TestClient(create_app(own_queue)) as back:
        stored = poll(lambda: back.get("/notifications/", headers=user["headers"]).json())

    assert [(n["event_id"], n["title"]) for n in stored] == [(event["event_id"], "Survives the outage")]
