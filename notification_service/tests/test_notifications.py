import json
import logging

import pika
import pytest

from notification_service.consumer import EventConsumer
from notification_service.tests.events import task_event
from tests.helpers import RABBITMQ_URL, app_state, drop_broker_connections, poll, register_and_login


def notifications_of(client, user: dict) -> list[dict]:
    response = client.get("/notifications/", headers=user["headers"])
    assert response.status_code == 200, response.text
    return response.json()


def test_a_task_created_event_is_stored_logged_and_listed(client, user, publish, log_lines, caplog):
    caplog.set_level(logging.INFO, logger="notification_service")
    event = task_event(user, task_id=41, title="Complete project documentation")

    publish(event)

    [notification] = poll(lambda: notifications_of(client, user))
    assert notification == {
        "id": notification["id"],
        "event_id": event["event_id"],
        "event_type": "task_created",
        "task_id": 41,
        "title": "Complete project documentation",
        "message": "Task 'Complete project documentation' was created (status: Pending)",
        "created_at": notification["created_at"],
    }
    [line] = [line for line in log_lines() if line["event_id"] == event["event_id"]]
    assert line["user_id"] == user["id"]
    assert line["message"] == notification["message"]
    assert "email" not in line
    assert any(event["event_type"] in r.getMessage() and "41" in r.getMessage() for r in caplog.records)


def test_a_redelivered_event_is_applied_once(client, user, publish, log_lines):
    event = task_event(user, task_id=7)

    publish(event)
    publish(event)
    publish(task_event(user, task_id=8))  # arrives after both copies: once it is in, they have been handled

    poll(lambda: len(notifications_of(client, user)) == 2)
    assert [n["task_id"] for n in notifications_of(client, user)] == [8, 7]
    assert len([line for line in log_lines() if line["event_id"] == event["event_id"]]) == 1


SOMEONE = {"id": 1, "username": "u", "email": "u@example.com"}


def encoded(event: dict) -> bytes:
    return json.dumps(event).encode()


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        json.dumps({"event_type": "task_created"}).encode(),
        b'{"event_type": "task_archived"}',
        encoded(task_event(SOMEONE, title="x" * 201)),
        encoded(task_event(SOMEONE, task_id=2**40)),  # valid JSON, but out of the database column's range
    ],
    ids=["not-json", "missing-fields", "unknown-type", "title-too-long", "refused-by-the-database"],
)
def test_a_malformed_message_is_dead_lettered_and_consuming_goes_on(client, user, publish, settings, body):
    poison_id = f"poison-{user['username']}"
    publish(body, message_id=poison_id)
    publish(task_event(user, task_id=99))

    poll(lambda: notifications_of(client, user))
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    try:
        channel = connection.channel()

        def dead_lettered() -> bool:
            while True:
                method, properties, _ = channel.basic_get(settings.dead_letter_queue, auto_ack=True)
                if method is None:
                    return False
                if properties.message_id == poison_id:
                    return True

        assert poll(dead_lettered)
    finally:
        connection.close()


def test_events_of_every_type_become_notifications(client, user, publish):
    publish(task_event(user, "task_updated", task_id=5, title="Docs"), routing_key="task.updated")
    publish(task_event(user, "task_deleted", task_id=5, title="Docs"), routing_key="task.deleted")

    messages = poll(
        lambda: (
            [n["message"] for n in notifications_of(client, user)] if len(notifications_of(client, user)) == 2 else None
        )
    )
    assert messages == ["Task 'Docs' was deleted", "Task 'Docs' was updated (status: Pending)"]


def test_a_user_sees_only_their_own_notifications(client, user, auth_service, publish):
    other = register_and_login(auth_service.base_url, "dave")
    publish(task_event(other, task_id=1, title="Dave's"))
    publish(task_event(user, task_id=2, title="Carol's"))

    poll(lambda: notifications_of(client, user) and notifications_of(client, other))
    assert [n["title"] for n in notifications_of(client, user)] == ["Carol's"]


def test_listing_notifications_needs_a_valid_token(client):
    missing = client.get("/notifications/")
    bad = client.get("/notifications", headers={"Authorization": "Bearer nope"})

    assert missing.status_code == bad.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"


def test_health_reports_database_and_consumer(client):
    poll(lambda: client.get("/health").status_code == 200)

    assert client.get("/health").json() == {
        "service": "notification_service",
        "status": "ok",
        "checks": {"database": "ok", "consumer": "ok", "log_file": "ok"},
    }


def test_the_consumer_reconnects_after_the_broker_drops_it(client, user, publish):
    poll(lambda: app_state(client).consumer.connected)

    drop_broker_connections(EventConsumer.connection_name)
    poll(lambda: app_state(client).consumer.connected, timeout=15)
    publish(task_event(user, task_id=12, title="After the restart"))

    [notification] = poll(lambda: notifications_of(client, user))
    assert notification["title"] == "After the restart"


def test_metrics_are_served(client):
    client.get("/notifications/")

    assert 'route="/notifications",status="401"' in client.get("/metrics").text


def test_health_is_503_while_the_log_file_cannot_be_written(client, tmp_path):
    log = app_state(client).notification_log
    original = log.path
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    log.path = blocker / "notifications.log"
    try:
        response = client.get("/health")
    finally:
        log.path = original

    assert response.status_code == 503
    assert response.json()["checks"]["log_file"] == "down"
