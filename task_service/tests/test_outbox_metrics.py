"""The outbox's backlog as Prometheus reads it: what waits, for how long, and what was published."""

import json
import uuid
from datetime import timedelta

from sqlalchemy import create_engine, delete, insert, select

from common.db import utcnow
from task_service.models import OutboxEvent
from tests.helpers import TASK_DATABASE_URL, poll, scrape_metrics


def published(client) -> float:
    return scrape_metrics(client).get(("task_events_published_total", (("routing_key", "task.created"),)), 0.0)


def test_an_event_waiting_in_the_outbox_is_counted_with_its_age_until_it_is_published(client):
    engine = create_engine(TASK_DATABASE_URL)
    event_id = str(uuid.uuid4())
    published_before = published(client)
    with engine.begin() as connection:
        connection.execute(
            insert(OutboxEvent).values(
                event_id=event_id,
                routing_key="task.created",
                payload=json.dumps({"event_id": event_id, "data": {"task_id": -1}}),
                created_at=utcnow() - timedelta(minutes=5),
            )
        )
    try:
        with engine.connect() as locker:
            # Locked, the row is skipped by the relay (SKIP LOCKED), as while a broker is away.
            transaction = locker.begin()
            locker.execute(select(OutboxEvent.id).where(OutboxEvent.event_id == event_id).with_for_update())
            waiting = scrape_metrics(client)
            transaction.rollback()

        assert waiting[("task_outbox_backlog", ())] >= 1
        assert waiting[("task_outbox_oldest_event_age_seconds", ())] >= 300
        assert waiting[("task_event_relay_connected", ())] == 1
        poll(lambda: published(client) == published_before + 1)
        after = scrape_metrics(client)
        assert after[("task_outbox_oldest_event_age_seconds", ())] < 300
    finally:
        with engine.begin() as connection:
            connection.execute(delete(OutboxEvent).where(OutboxEvent.event_id == event_id))
        engine.dispose()
