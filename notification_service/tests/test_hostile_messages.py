"""Whatever arrives on a queue or exchange the consumer reads, the consumer thread lives on.

Each test runs a real consumer (its own thread and connection) on exchanges and queues of its
own, against the test database; a message it cannot use is dead-lettered (task events) or dropped
(live notifications), a message that keeps failing is dead-lettered after a few tries, and a
valid event published afterwards is still recorded.
"""

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from common.db import Database
from notification_service.consumer import MAX_ATTEMPTS, MAX_MESSAGE_BYTES, EventConsumer
from notification_service.mailer import Mailer
from notification_service.models import Notification
from notification_service.notifier import NotificationLog, Notifier
from notification_service.schemas import TaskEvent
from notification_service.tests.events import task_event
from notification_service.tests.smtp import Inbox, receiving_mail
from tests.helpers import (
    HOSTILE_MESSAGES_SMTP_PORT,
    NOTIFICATION_DATABASE_URL,
    RABBITMQ_URL,
    migrated_database,
    poll,
)

# Task events name their user by id only here: no auth service is involved.
USER = {"id": 424242, "username": "mallory", "email": "mallory@example.com"}


@dataclass
class RunningConsumer:
    consumer: EventConsumer
    exchange: str
    live_exchange: str
    dead_letter_queue: str
    live: list[tuple[int, str]]
    channel: pika.adapters.blocking_connection.BlockingChannel

    def publish(self, body: bytes | dict, exchange: str | None = None, routing_key: str = "task.created") -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.channel.basic_publish(exchange or self.exchange, routing_key, payload)

    def dead_letters(self) -> int:
        return self.channel.queue_declare(self.dead_letter_queue, passive=True).method.message_count

    def alive(self) -> bool:
        return self.consumer._thread.is_alive() and self.consumer.connected


@pytest.fixture(scope="module")
def database() -> Iterator[Database]:
    with migrated_database("notification_service", NOTIFICATION_DATABASE_URL, background_workers=1) as database:
        yield database


def consuming(connection: pika.BlockingConnection, queue: str) -> bool:
    """Whether the consumer reads `queue`; it takes messages only once all its queues are bound."""
    probe = connection.channel()
    try:
        return probe.queue_declare(queue, passive=True).method.consumer_count > 0
    except ChannelClosedByBroker:
        return False
    finally:
        if probe.is_open:
            probe.close()


@pytest.fixture
def start_consumer(database: Database, tmp_path: Path) -> Iterator[Callable[..., RunningConsumer]]:
    started: list[RunningConsumer] = []
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))

    def start(notifier: Notifier | None = None, mailer: Mailer | None = None) -> RunningConsumer:
        name = f"hostile-{uuid.uuid4().hex[:8]}"
        notifier = notifier or Notifier(database.session_factory, NotificationLog(tmp_path / "log.jsonl"), mailer)
        exchange, live_exchange = f"task_events.{name}", f"notifications.live.{name}"
        dead_letter_queue = f"notifications.dead-letter.{name}"
        live: list[tuple[int, str]] = []
        consumer = EventConsumer(
            notifier,
            RABBITMQ_URL,
            exchange,
            f"notifications.{name}",
            f"notifications.dead-letter.{name}",
            dead_letter_queue,
            live_exchange,
            lambda user_id, notification: live.append((user_id, notification)),
            CollectorRegistry(),
            retry_pause_seconds=0.05,
        )
        consumer.start()
        # Connected comes before the queues are declared: a message published then would be lost.
        poll(lambda: consuming(connection, f"notifications.{name}"))
        running = RunningConsumer(consumer, exchange, live_exchange, dead_letter_queue, live, connection.channel())
        started.append(running)
        return running

    yield start
    for running in started:
        running.consumer.stop()
        channel = connection.channel()
        for queue in (running.consumer._queue, running.dead_letter_queue):
            channel.queue_delete(queue)
        for exchange in (running.exchange, running.live_exchange, running.consumer._dead_letter_exchange):
            channel.exchange_delete(exchange)
    connection.close()


def event(**changes) -> dict:
    envelope = task_event(USER, task_id=7, title="Survives everything")
    data = {**envelope["data"], **changes.pop("data", {})}
    return {**envelope, **changes, "data": data}


NOT_TASK_EVENTS = {
    "not JSON": b"this is not json",
    "not UTF-8": b'{"event_id": "\xff\xfe"}',
    "empty": b"",
    "a JSON list": b"[1, 2, 3]",
    "JSON null": b"null",
    "a huge number": b"1e400",
    "nested without end": b"[" * 50_000 + b"]" * 50_000,
    "over the size limit": json.dumps({**event(), "padding": "x" * MAX_MESSAGE_BYTES}).encode(),
    "a future version": event(version=2),
    "an unknown type": event(event_type="task_exploded"),
    "no data": {k: v for k, v in event().items() if k != "data"},
    "an id no column holds": event(data={"user_id": 10**30}),
    "a negative task id": event(data={"task_id": -1}),
    "a task id of the wrong type": event(data={"task_id": "seven"}),
    "an empty title": event(data={"title": ""}),
    "an over-long title": event(data={"title": "x" * 201}),
    "an over-long status": event(data={"status": "s" * 51}),
    "a lone surrogate": b'{"event_id": "\\ud800"}',
    "not a uuid": event(event_id="1; DROP TABLE notifications"),
}


def test_a_message_that_is_no_task_event_is_dead_lettered_and_the_consumer_goes_on(start_consumer):
    running = start_consumer()

    for body in NOT_TASK_EVENTS.values():
        running.publish(body)
    valid = event()
    running.publish(valid)

    poll(lambda: running.dead_letters() == len(NOT_TASK_EVENTS), timeout=15)
    [(user_id, notification)] = poll(lambda: running.live)
    assert user_id == USER["id"]
    assert json.loads(notification)["event_id"] == valid["event_id"]
    assert running.alive()


@pytest.mark.parametrize(
    "body",
    [
        b"garbage",
        b"",
        b"{}",
        b"[]",
        json.dumps({"user_id": "not a number", "notification": {}}).encode(),
        json.dumps({"user_id": 1, "notification": 5}).encode(),
        json.dumps({"user_id": 10**30, "notification": {}}).encode(),
        b"\x00" * (MAX_MESSAGE_BYTES + 1),
    ],
)
def test_a_message_on_the_live_exchange_that_is_none_is_dropped_and_the_consumer_goes_on(start_consumer, body):
    running = start_consumer()

    running.publish(body, exchange=running.live_exchange, routing_key="")
    running.publish(event())

    # The valid event's own live message arrives, so the thread survived the bad one before it.
    [(user_id, _)] = poll(lambda: running.live)
    assert user_id == USER["id"]
    assert running.alive()


def test_a_redelivered_event_is_acknowledged_once_recorded_not_dead_lettered(start_consumer):
    running = start_consumer()
    twice, after = event(), event()

    running.publish(twice)
    running.publish(twice)
    running.publish(after)

    # One consumer thread takes them in order: once `after` is announced, both copies are settled.
    poll(lambda: len(running.live) == 2)
    assert [json.loads(notification)["event_id"] for _, notification in running.live] == [
        twice["event_id"],
        after["event_id"],
    ]
    assert running.dead_letters() == 0
    assert running.alive()


def test_the_notifier_records_an_event_once_and_says_so_for_its_copies(database, tmp_path):
    # A directory that does not exist yet, two levels down: the log makes it.
    log = NotificationLog(tmp_path / "logs" / "notifications" / "log.jsonl")
    notifier = Notifier(database.session_factory, log, None)
    delivered = TaskEvent.model_validate(event(event_type="task_updated", data={"status": "In Progress"}))

    first, second = notifier.handle(delivered), notifier.handle(delivered)

    assert first is not None and first.event_id == str(delivered.event_id)
    assert second is None
    [line] = [json.loads(line) for line in log.path.read_text().splitlines()]
    assert line.pop("logged_at")
    assert line == {
        "event_id": first.event_id,
        "event_type": "task_updated",
        "occurred_at": delivered.occurred_at.isoformat(),
        "user_id": USER["id"],
        "username": USER["username"],
        "task_id": 7,
        "title": "Survives everything",
        "status": "In Progress",
        "message": "Task 'Survives everything' was updated (status: In Progress)",
        "request_id": "-",
        "trace_id": "-",
    }
    with database.session_factory() as session:
        stored = session.scalars(select(Notification).where(Notification.event_id == first.event_id)).all()
    assert [notification.id for notification in stored] == [first.id]


class AlwaysFailing(Notifier):
    """A notifier that fails for a reason of the event's own, every time (as a bug on some input would)."""

    def __init__(self) -> None:
        self.calls = 0

    def handle(self, event):
        self.calls += 1
        raise RuntimeError("cannot handle this one")


def test_an_event_that_keeps_failing_is_retried_a_bounded_number_of_times_then_dead_lettered(start_consumer):
    notifier = AlwaysFailing()
    running = start_consumer(notifier=notifier)

    running.publish(event())

    poll(lambda: running.dead_letters() == 1, timeout=15)
    assert notifier.calls == MAX_ATTEMPTS
    assert running.alive()


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with receiving_mail(HOSTILE_MESSAGES_SMTP_PORT) as received:
        yield received


def mailer() -> Mailer:
    return Mailer(
        "127.0.0.1",
        HOSTILE_MESSAGES_SMTP_PORT,
        "Task Manager <no-reply@example.com>",
        None,
        None,
        starttls=False,
        timeout=5,
    )


@pytest.mark.parametrize(
    "title",
    [
        "Quarterly report\r\nBcc: everyone@example.com",
        "Line\nbreak",
        "Nul\x00inside",
        "Next\x85line\u2028and more",
    ],
)
def test_with_email_on_a_title_with_line_breaks_is_mailed_once_with_one_subject_line(start_consumer, inbox, title):
    """Such a title (from a message, or a task stored before titles were one line) once looped forever."""
    running = start_consumer(mailer=mailer())

    running.publish(event(data={"title": title}))

    [(recipients, message)] = poll(lambda: inbox.messages)
    assert recipients == [USER["email"]]
    assert "\r" not in message["Subject"] and "\n" not in message["Subject"]
    assert message["Subject"].startswith("Task '")
    assert message["Bcc"] is None
    poll(lambda: running.live)
    assert running.dead_letters() == 0
    assert len(inbox.messages) == 1


@pytest.mark.parametrize(
    "to",
    ["victim@example.com\r\nBcc: everyone@example.com", "victim@example.com\nX-Injected: yes", "a\x00@example.com"],
)
def test_a_recipient_address_with_control_characters_is_never_mailed(inbox, to):
    assert mailer().send(to, "subject", "body") is False
    assert inbox.messages == []
