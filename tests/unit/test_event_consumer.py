"""How the consumer settles each message (acknowledged, requeued or dead-lettered) and what it announces live,
on a stand-in channel and notifier: every decision is seen exactly, with no broker."""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pika
import pytest
from pika.exceptions import ChannelClosed
from pika.spec import Basic
from prometheus_client import CollectorRegistry
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError

from common.db import utcnow
from common.request_id import NO_REQUEST, current_request_id
from notification_service import consumer as consumer_module
from notification_service.consumer import MAX_ATTEMPTS, MAX_MESSAGE_BYTES, EventConsumer
from notification_service.models import Notification
from notification_service.schemas import TaskEvent
from notification_service.tests.events import task_event

USER = {"id": 31, "username": "dora", "email": "dora@example.com"}
LIVE_EXCHANGE = "notifications.live.unit"
RETRY_PAUSE_SECONDS = 0.25


@dataclass
class Connection:
    slept: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@dataclass
class Channel:
    """What the consumer told the broker, in order."""

    connection: Connection = field(default_factory=Connection)
    settled: list[tuple[str, int]] = field(default_factory=list)
    published: list[tuple[str, str, bytes]] = field(default_factory=list)

    def basic_ack(self, delivery_tag: int) -> None:
        self.settled.append(("ack", delivery_tag))

    def basic_nack(self, delivery_tag: int, requeue: bool) -> None:
        self.settled.append(("requeue" if requeue else "dead-letter", delivery_tag))

    def basic_publish(self, exchange: str, routing_key: str, body: bytes) -> None:
        self.published.append((exchange, routing_key, body))


class Notifier:
    """Answers each event with `outcome(event)`: a notification, None (already recorded), or an error to raise."""

    def __init__(self, outcome: Callable[[TaskEvent], Notification | Exception | None]) -> None:
        self.outcome = outcome
        self.handled: list[tuple[TaskEvent, str]] = []

    def handle(self, event: TaskEvent) -> Notification | None:
        self.handled.append((event, current_request_id.get()))
        result = self.outcome(event)
        if isinstance(result, Exception):
            raise result
        return result


def notification_of(event: TaskEvent) -> Notification:
    return Notification(
        id=5,
        event_id=str(event.event_id),
        event_type=event.event_type,
        user_id=event.data.user_id,
        task_id=event.data.task_id,
        title=event.data.title,
        message="Task 'Write docs' was created (status: Pending)",
        created_at=utcnow(),
    )


def consumer_of(
    notifier: Notifier,
    live: list[tuple[int, str]] | None = None,
    on_live=None,
    registry: CollectorRegistry | None = None,
) -> EventConsumer:
    received = [] if live is None else live
    return EventConsumer(
        notifier,  # type: ignore[arg-type]
        "amqp://nobody:nothing@127.0.0.1:1/",
        "task_events.unit",
        "notifications.unit",
        "notifications.dead-letter.unit",
        "notifications.dead-letter.unit",
        LIVE_EXCHANGE,
        on_live or (lambda user_id, notification: received.append((user_id, notification))),
        registry or CollectorRegistry(),
        retry_pause_seconds=RETRY_PAUSE_SECONDS,
    )


def deliver(
    consumer: EventConsumer, channel: Channel, body: bytes | dict, tag: int = 1, correlation_id: str | None = None
) -> None:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    method = Basic.Deliver(delivery_tag=tag, exchange="task_events.unit", routing_key="task.created")
    properties = pika.BasicProperties(message_id="m-1", correlation_id=correlation_id)
    consumer._on_message(channel, method, properties, payload)


def db_error(kind: type[Exception]) -> Exception:
    return kind("INSERT INTO notifications ...", {}, Exception("refused"))


def test_a_new_event_is_acknowledged_then_announced_live():
    notifier = Notifier(notification_of)
    channel = Channel()
    event = task_event(USER)

    deliver(consumer_of(notifier), channel, event)

    assert channel.settled == [("ack", 1)]
    assert [(exchange, key) for exchange, key, _ in channel.published] == [(LIVE_EXCHANGE, "")]
    live = json.loads(channel.published[0][2])
    assert live["user_id"] == USER["id"]
    assert live["notification"]["event_id"] == event["event_id"]
    assert live["notification"]["id"] == 5
    assert channel.connection.slept == []


def test_a_redelivered_event_already_recorded_is_acknowledged_quietly():
    channel = Channel()

    deliver(consumer_of(Notifier(lambda event: None)), channel, task_event(USER))

    assert channel.settled == [("ack", 1)]
    assert channel.published == []


@pytest.mark.parametrize("refusal", [DataError, IntegrityError])
def test_an_event_the_database_refuses_is_dead_lettered_at_once(refusal):
    channel = Channel()

    deliver(consumer_of(Notifier(lambda event: db_error(refusal))), channel, task_event(USER))

    assert channel.settled == [("dead-letter", 1)]
    assert channel.connection.slept == []


@pytest.mark.parametrize(
    "away", [lambda: db_error(OperationalError), lambda: db_error(InterfaceError), lambda: OSError("disk gone")]
)
def test_an_event_that_fails_while_storage_is_away_is_requeued_after_a_pause_however_often(away):
    consumer = consumer_of(Notifier(lambda event: away()))
    channel = Channel()
    event = task_event(USER)

    for tag in range(1, MAX_ATTEMPTS + 3):
        deliver(consumer, channel, event, tag=tag)

    assert channel.settled == [("requeue", tag) for tag in range(1, MAX_ATTEMPTS + 3)]
    assert channel.connection.slept == [RETRY_PAUSE_SECONDS] * (MAX_ATTEMPTS + 2)


def test_an_event_that_keeps_failing_for_its_own_reason_is_dead_lettered_on_its_last_attempt():
    consumer = consumer_of(Notifier(lambda event: RuntimeError("a bug")))
    channel = Channel()
    event = task_event(USER)

    for tag in range(1, MAX_ATTEMPTS + 1):
        deliver(consumer, channel, event, tag=tag)

    assert channel.settled == [*(("requeue", tag) for tag in range(1, MAX_ATTEMPTS)), ("dead-letter", MAX_ATTEMPTS)]
    assert channel.connection.slept == [RETRY_PAUSE_SECONDS] * (MAX_ATTEMPTS - 1)


def test_attempts_are_counted_per_event_and_start_again_after_a_success():
    failing = {"yes": True}
    consumer = consumer_of(Notifier(lambda event: RuntimeError("a bug") if failing["yes"] else None))
    channel = Channel()
    event, other = task_event(USER), task_event(USER)

    for _ in range(MAX_ATTEMPTS - 1):
        deliver(consumer, channel, event)
        deliver(consumer, channel, other)
    failing["yes"] = False
    deliver(consumer, channel, event)
    failing["yes"] = True
    for _ in range(MAX_ATTEMPTS - 1):
        deliver(consumer, channel, event)
    deliver(consumer, channel, other)

    settled = [outcome for outcome, _ in channel.settled]
    assert settled == ["requeue"] * (2 * MAX_ATTEMPTS - 2) + ["ack"] + ["requeue"] * (MAX_ATTEMPTS - 1) + [
        "dead-letter"
    ]


def test_an_event_dead_lettered_by_the_database_starts_its_count_afresh_if_it_comes_back():
    outcomes = iter([RuntimeError("a bug"), db_error(DataError), *[RuntimeError("a bug")] * (MAX_ATTEMPTS - 1)])
    consumer = consumer_of(Notifier(lambda event: next(outcomes)))
    channel = Channel()
    event = task_event(USER)

    # Once from the queue, then replayed (from the dead-letter queue, say) after the refusal.
    for _ in range(MAX_ATTEMPTS + 1):
        deliver(consumer, channel, event)

    settled = [outcome for outcome, _ in channel.settled]
    assert settled == ["requeue", "dead-letter", *["requeue"] * (MAX_ATTEMPTS - 1)]


# Few, so the bound is reached in a few deliveries; the code reads the module's value when it is needed.
TRACKED = 3


@pytest.mark.parametrize(("others", "remembered"), [(TRACKED - 1, True), (TRACKED, False)])
def test_at_most_max_tracked_events_are_remembered_the_oldest_forgotten_first(monkeypatch, others, remembered):
    monkeypatch.setattr(consumer_module, "MAX_TRACKED_EVENTS", TRACKED)
    consumer = consumer_of(Notifier(lambda event: RuntimeError("a bug")))
    channel = Channel()
    first = task_event(USER)
    deliver(consumer, channel, first)
    for _ in range(others):
        deliver(consumer, channel, {**first, "event_id": str(uuid.uuid4())})
    channel.settled.clear()

    for _ in range(MAX_ATTEMPTS - 1):
        deliver(consumer, channel, first)

    # Remembered, its first failure counts and the last of these is its last attempt.
    assert channel.settled[-1][0] == ("dead-letter" if remembered else "requeue")


@pytest.mark.parametrize(
    "body",
    [b"not json", b"{}", json.dumps({**task_event(USER), "version": 2}).encode()],
    ids=["not-json", "no-fields", "future-version"],
)
def test_a_message_that_is_no_task_event_is_dead_lettered_without_reaching_the_notifier(body):
    notifier = Notifier(notification_of)
    channel = Channel()

    deliver(consumer_of(notifier), channel, body)

    assert channel.settled == [("dead-letter", 1)]
    assert notifier.handled == []


def padded_to(size: int) -> bytes:
    body = json.dumps(task_event(USER)).encode()
    return body + b" " * (size - len(body))


def test_a_task_event_of_the_largest_size_is_taken_and_one_byte_more_is_not():
    notifier = Notifier(notification_of)
    consumer = consumer_of(notifier)
    channel = Channel()

    deliver(consumer, channel, padded_to(MAX_MESSAGE_BYTES), tag=1)
    deliver(consumer, channel, padded_to(MAX_MESSAGE_BYTES + 1), tag=2)

    assert channel.settled == [("ack", 1), ("dead-letter", 2)]
    assert len(notifier.handled) == 1


@pytest.mark.parametrize(
    ("correlation_id", "logged_as"),
    [("trace-9.a_b", "trace-9.a_b"), ("two words", NO_REQUEST), ("x" * 65, NO_REQUEST), (None, NO_REQUEST)],
)
def test_the_events_request_id_is_current_while_it_is_handled_and_only_then(correlation_id, logged_as):
    notifier = Notifier(notification_of)

    deliver(consumer_of(notifier), Channel(), task_event(USER), correlation_id=correlation_id)

    assert [request_id for _, request_id in notifier.handled] == [logged_as]
    assert current_request_id.get() == NO_REQUEST


def test_anything_else_that_goes_wrong_dead_letters_the_message_and_the_consumer_goes_on():
    class BrokenAnnouncing(Channel):
        def basic_publish(self, exchange: str, routing_key: str, body: bytes) -> None:
            raise RuntimeError("a bug after the acknowledgement")

    channel = BrokenAnnouncing()

    deliver(consumer_of(Notifier(notification_of)), channel, task_event(USER))

    assert channel.settled == [("ack", 1), ("dead-letter", 1)]


def test_a_lost_channel_is_left_to_the_worker_to_reconnect():
    class Closed(Channel):
        def basic_ack(self, delivery_tag: int) -> None:
            raise ChannelClosed(406, "PRECONDITION_FAILED")

    channel = Closed()

    with pytest.raises(ChannelClosed):
        deliver(consumer_of(Notifier(notification_of)), channel, task_event(USER))
    assert channel.settled == []


def live_message(event: dict) -> bytes:
    notification = notification_of(TaskEvent.model_validate(event))
    return json.dumps(
        {
            "user_id": notification.user_id,
            "notification": {
                "id": notification.id,
                "event_id": notification.event_id,
                "event_type": notification.event_type,
                "task_id": notification.task_id,
                "title": notification.title,
                "message": notification.message,
                "created_at": notification.created_at.isoformat(),
            },
        }
    ).encode()


def test_a_live_notification_reaches_the_users_streams():
    live: list[tuple[int, str]] = []
    event = task_event(USER)

    consumer_of(Notifier(notification_of), live)._on_live_message(Channel(), None, None, live_message(event))

    assert [user_id for user_id, _ in live] == [USER["id"]]
    assert json.loads(live[0][1])["event_id"] == event["event_id"]


@pytest.mark.parametrize(
    "body",
    [
        b"nothing",
        b'{"user_id": 31}',
        b'{"user_id": 31, "notification": {}}',
        live_message(task_event(USER)) + b" " * MAX_MESSAGE_BYTES,
    ],
    ids=["not-json", "no-notification", "empty-notification", "too-large"],
)
def test_a_live_message_that_is_none_is_dropped(body):
    live: list[tuple[int, str]] = []

    consumer_of(Notifier(notification_of), live)._on_live_message(Channel(), None, None, body)

    assert live == []


def test_a_stream_that_fails_to_take_a_live_notification_costs_nothing_more():
    def broken(user_id: int, notification: str) -> None:
        raise RuntimeError("stream gone")

    consumer = consumer_of(Notifier(notification_of), on_live=broken)

    consumer._on_live_message(Channel(), None, None, live_message(task_event(USER)))


def test_each_message_is_counted_by_its_outcome():
    registry = CollectorRegistry()
    event = task_event(USER)
    outcomes = iter([notification_of, lambda event: None, lambda event: db_error(OperationalError)])
    consumer = consumer_of(Notifier(lambda event: next(outcomes)(event)), registry=registry)
    channel = Channel()

    for tag in (1, 2, 3):
        deliver(consumer, channel, event, tag=tag)
    deliver(consumer, channel, b"not a task event", tag=4)

    counted = {
        outcome: registry.get_sample_value("notification_events_consumed_total", {"outcome": outcome})
        for outcome in ("stored", "duplicate", "requeued", "dead_lettered")
    }
    assert counted == {"stored": 1, "duplicate": 1, "requeued": 1, "dead_lettered": 1}
    assert channel.settled == [("ack", 1), ("ack", 2), ("requeue", 3), ("dead-letter", 4)]
