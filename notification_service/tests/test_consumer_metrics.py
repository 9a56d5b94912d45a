"""What the consumer reports: each message's outcome, the dead-letter queue's depth, and its trace."""

import secrets

import pytest

from notification_service import consumer
from notification_service.tests.events import task_event
from tests.helpers import poll, scrape_metrics


def consumed(client, outcome: str) -> float:
    return scrape_metrics(client)[("notification_events_consumed_total", (("outcome", outcome),))]


@pytest.fixture(autouse=True)
def read_dead_letter_depth_often(monkeypatch):
    monkeypatch.setattr(consumer, "DEAD_LETTER_DEPTH_EVERY_SECONDS", 0.1)


def test_each_message_is_counted_by_what_became_of_it(client, user, publish):
    before = {outcome: consumed(client, outcome) for outcome in ("stored", "duplicate", "dead_lettered")}
    event = task_event(user, task_id=51, title="Counted once")

    publish(event)
    publish(event)  # A redelivery, as after a relay crash: acknowledged, recorded once.
    publish(b"not a task event")

    poll(lambda: consumed(client, "dead_lettered") == before["dead_lettered"] + 1)
    poll(lambda: consumed(client, "duplicate") == before["duplicate"] + 1)
    assert consumed(client, "stored") == before["stored"] + 1
    assert scrape_metrics(client)[("notification_event_consumer_connected", ())] == 1


def test_the_dead_letter_queues_depth_is_reported(client, settings, publish):
    depth_before = scrape_metrics(client)[("notification_dead_letter_queue_messages", ())]

    publish(b"{}")

    # At least one more: a message dead-lettered by an earlier test may still be counted in after the first read.
    poll(lambda: scrape_metrics(client)[("notification_dead_letter_queue_messages", ())] >= depth_before + 1)


def test_the_events_trace_context_reaches_the_notification_log(client, user, publish, log_lines):
    trace_id = secrets.token_hex(16)
    event = task_event(user, task_id=52, title="Traced")

    publish(event, headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"})
    untraced = task_event(user, task_id=53, title="Untraced")
    publish(untraced)

    [line] = poll(lambda: [line for line in log_lines() if line["event_id"] == event["event_id"]])
    assert line["trace_id"] == trace_id
    [untraced_line] = poll(lambda: [line for line in log_lines() if line["event_id"] == untraced["event_id"]])
    assert untraced_line["trace_id"] == "-"
