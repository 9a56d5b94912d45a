import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from task_service.main import create_app
from task_service.messaging import OutboxRelay
from tests.helpers import TASK_DATABASE_URL, app_state, drop_broker_connections, poll


def test_task_created_event_carries_the_envelope(client, alice, task_events):
    task = client.post("/tasks/", headers=alice["headers"], json={"title": "Event me", "description": "d"}).json()

    event, properties, routing_key = task_events(lambda e: e["data"]["task_id"] == task["id"])

    assert routing_key == "task.created"
    assert event["event_type"] == "task_created"
    assert event["version"] == 1
    assert event["data"] == {
        "task_id": task["id"],
        "title": "Event me",
        "description": "d",
        "status": "Pending",
        "user_id": alice["id"],
        "username": alice["username"],
        "email": alice["email"],
    }
    assert properties.message_id == event["event_id"]
    assert properties.content_type == "application/json"
    assert properties.delivery_mode == 2


def test_updates_and_deletes_publish_their_own_events(client, alice, task_events):
    task = client.post("/tasks/", headers=alice["headers"], json={"title": "Lifecycle"}).json()
    client.patch(f"/tasks/{task['id']}", headers=alice["headers"], json={"status": "Completed"})
    client.delete(f"/tasks/{task['id']}", headers=alice["headers"])

    updated, _, updated_key = task_events(
        lambda e: e["data"]["task_id"] == task["id"] and e["event_type"] == "task_updated"
    )
    _, _, deleted_key = task_events(lambda e: e["data"]["task_id"] == task["id"] and e["event_type"] == "task_deleted")

    assert (updated_key, updated["data"]["status"]) == ("task.updated", "Completed")
    assert deleted_key == "task.deleted"


def test_an_unchanged_update_publishes_nothing_and_keeps_updated_at(client, alice):
    task = client.post("/tasks/", headers=alice["headers"], json={"title": "Same"}).json()

    again = client.put(f"/tasks/{task['id']}", headers=alice["headers"], json={"title": "Same"}).json()

    assert again["updated_at"] == task["updated_at"]


def test_a_task_made_while_rabbitmq_is_down_is_kept_and_its_event_delivered_later(client, settings, alice, task_events):
    broker_down = settings.model_copy(update={"rabbitmq_url": "amqp://admin:admin123@127.0.0.1:1/task_manager_test"})
    with TestClient(create_app(broker_down)) as isolated_client:
        response = isolated_client.post(
            "/tasks/", headers=alice["headers"], json={"title": "Written while broker is down"}
        )
        health = isolated_client.get("/health")

    assert response.status_code == 201
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["checks"] == {"database": "ok", "broker": "down"}
    # The outbox row waits for any relay that reaches the broker: here the one of `client`.
    event, _, _ = task_events(lambda e: e["data"]["task_id"] == response.json()["id"])
    assert event["event_type"] == "task_created"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_auth_service_down_is_503_with_a_clear_detail(settings, alice, method):
    auth_down = settings.model_copy(update={"auth_service_url": "http://127.0.0.1:1"})
    with TestClient(create_app(auth_down)) as client:
        response = client.request(method, "/tasks/", headers=alice["headers"], json={"title": "t"})

    assert response.status_code == 503
    assert response.json() == {"detail": "Auth service is unavailable"}


def test_health_reports_database_and_broker(client):
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {
        "service": "task_service",
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok"},
    }


def test_the_relay_reconnects_after_the_broker_drops_it(client, alice, task_events):
    relay = app_state(client).relay
    poll(lambda: relay.connected)

    drop_broker_connections(OutboxRelay.connection_name)
    poll(lambda: relay.connected, timeout=15)
    task = client.post("/tasks/", headers=alice["headers"], json={"title": "After the restart"}).json()

    event, _, _ = task_events(lambda e: e["data"]["task_id"] == task["id"])
    assert event["data"]["title"] == "After the restart"


def test_requests_succeed_after_the_database_drops_every_connection(client, alice, task_events):
    client.get("/tasks/", headers=alice["headers"])  # the pool now holds open connections
    engine = create_engine(TASK_DATABASE_URL)
    with engine.connect() as connection:
        ids = connection.execute(
            text("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'taskuser' AND ID <> CONNECTION_ID()")
        ).scalars()
        for connection_id in ids:
            connection.execute(text(f"KILL {int(connection_id)}"))
    engine.dispose()

    created = client.post("/tasks/", headers=alice["headers"], json={"title": "After the database restart"})

    assert created.status_code == 201
    event, _, _ = task_events(lambda e: e["data"]["task_id"] == created.json()["id"])
    assert event["event_type"] == "task_created"
