"""The RabbitMQ consumer: its own thread and connection, reconnecting whenever the broker goes away.

A message is acknowledged only after the notifier has recorded it. What no retry can fix is
rejected without requeue, so the queue's dead-letter exchange keeps it instead of it looping:
a body that is too large, not JSON, not a task event of a known version and type, or holds values
the database refuses. A message that fails while the database or the log file is unavailable is
requeued after a pause, as often as it takes (every message would fail alike). Any other failure
is retried after a pause at most `MAX_ATTEMPTS` times, then dead-lettered too.

Each new notification is then broadcast on the `notifications.live` fanout exchange, which every
replica reads through its own temporary queue, so a user's live stream hears of it whichever
replica they are connected to. A live message that is not one is dropped. Whatever a message
holds, it costs one log line and never the consumer thread.
"""

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from enum import StrEnum

import pika
from opentelemetry.trace import SpanKind, StatusCode
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPError
from pika.spec import Basic, BasicProperties
from prometheus_client import CollectorRegistry, Counter, Gauge
from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError

from common.broker import BrokerWorker
from common.logging import describe_exception
from common.request_id import NO_REQUEST, current_request_id, usable
from common.telemetry import context_from, message_attributes, tracer
from notification_service.models import Notification
from notification_service.notifier import Notifier
from notification_service.schemas import LiveNotification, NotificationRead, TaskEvent

logger = logging.getLogger(__name__)

RETRY_PAUSE_SECONDS = 2.0
PREFETCH_COUNT = 20
# The largest task event is about 45 KB (10,000 characters of description); nothing near this is one.
MAX_MESSAGE_BYTES = 256 * 1024
# Tries of one event that fails for a reason of its own, before it is dead-lettered.
MAX_ATTEMPTS = 5
# Failures that say the service cannot record anything just now, rather than anything about the event.
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError, OSError)
# Events being retried, at most this many remembered at once (the oldest are forgotten first).
MAX_TRACKED_EVENTS = 10_000
# How often the dead-letter queue's depth is read from the broker for the metric.
DEAD_LETTER_DEPTH_EVERY_SECONDS = 15.0


class Outcome(StrEnum):
    """What became of a consumed message, as counted in `notification_events_consumed_total`."""

    STORED = "stored"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"
    REQUEUED = "requeued"


class EventConsumer(BrokerWorker):
    connection_name = "notification_service consumer"

    def __init__(
        self,
        notifier: Notifier,
        rabbitmq_url: str,
        exchange: str,
        queue: str,
        dead_letter_exchange: str,
        dead_letter_queue: str,
        live_exchange: str,
        on_live_notification: Callable[[int, str], None],
        registry: CollectorRegistry,
        retry_pause_seconds: float = RETRY_PAUSE_SECONDS,
    ) -> None:
        super().__init__(rabbitmq_url)
        self._notifier = notifier
        self._exchange = exchange
        self._queue = queue
        self._dead_letter_exchange = dead_letter_exchange
        self._dead_letter_queue = dead_letter_queue
        self._live_exchange = live_exchange
        self._on_live_notification = on_live_notification
        self._retry_pause_seconds = retry_pause_seconds
        # Failed attempts per event id, for events that failed for a reason of their own.
        self._attempts: OrderedDict[str, int] = OrderedDict()
        consumed = Counter(
            "notification_events_consumed",
            "Task events consumed, by what became of them",
            ["outcome"],
            registry=registry,
        )
        self._consumed = {outcome: consumed.labels(outcome.value) for outcome in Outcome}
        self._dead_letter_depth = Gauge(
            "notification_dead_letter_queue_messages",
            "Messages waiting in the dead-letter queue, as last read from the broker",
            registry=registry,
        )

    def serve(self, connection: pika.BlockingConnection) -> None:
        channel = connection.channel()
        self._declare_topology(channel)
        channel.basic_qos(prefetch_count=PREFETCH_COUNT)
        channel.basic_consume(self._queue, self._on_message)
        live_queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        channel.queue_bind(live_queue, self._live_exchange)
        channel.basic_consume(live_queue, self._on_live_message, auto_ack=True)
        logger.info("Consuming task events from queue %r", self._queue)
        depth_read_at = 0.0
        while not self.stopping.is_set():
            if time.monotonic() - depth_read_at >= DEAD_LETTER_DEPTH_EVERY_SECONDS:
                depth = channel.queue_declare(self._dead_letter_queue, passive=True).method.message_count
                self._dead_letter_depth.set(depth)
                depth_read_at = time.monotonic()
            connection.process_data_events(time_limit=0.5)

    def _declare_topology(self, channel: BlockingChannel) -> None:
        channel.exchange_declare(self._exchange, exchange_type="topic", durable=True)
        channel.exchange_declare(self._dead_letter_exchange, exchange_type="fanout", durable=True)
        channel.queue_declare(self._dead_letter_queue, durable=True)
        channel.queue_bind(self._dead_letter_queue, self._dead_letter_exchange)
        channel.queue_declare(
            self._queue, durable=True, arguments={"x-dead-letter-exchange": self._dead_letter_exchange}
        )
        channel.queue_bind(self._queue, self._exchange, routing_key="task.*")
        channel.exchange_declare(self._live_exchange, exchange_type="fanout", durable=True)

    def _on_message(
        self, channel: BlockingChannel, method: Basic.Deliver, properties: BasicProperties, body: bytes
    ) -> None:
        # The request that caused the event, so this service's log lines about it carry its id
        # (only when it is a sane one: it lands in every log line).
        correlation_id = properties.correlation_id
        sane = isinstance(correlation_id, str) and usable(correlation_id) == correlation_id
        token = current_request_id.set(correlation_id if sane else NO_REQUEST)
        # The message's headers carry the trace of the request that made the event.
        with tracer().start_as_current_span(
            f"process {self._queue}",
            context=context_from(properties.headers),
            kind=SpanKind.CONSUMER,
            attributes=message_attributes(
                "process",
                method.exchange,
                method.routing_key,
                properties.message_id[:64] if isinstance(properties.message_id, str) else "",
            ),
        ) as span:
            try:
                outcome = self._process(channel, method, properties, body)
            except AMQPError:
                raise  # The channel or connection is gone: the worker reconnects, the broker redelivers.
            except Exception as exc:
                # A last resort: nothing a message holds may stop this thread.
                logger.error("Dead-lettering message %s: %s", _message_id(properties), describe_exception(exc))
                channel.basic_nack(method.delivery_tag, requeue=False)
                outcome = Outcome.DEAD_LETTERED
            finally:
                current_request_id.reset(token)
            span.set_attribute("task_manager.event.outcome", outcome.value)
            if outcome is Outcome.DEAD_LETTERED:
                span.set_status(StatusCode.ERROR, "dead-lettered")
            self._consumed[outcome].inc()

    def _process(
        self, channel: BlockingChannel, method: Basic.Deliver, properties: BasicProperties, body: bytes
    ) -> Outcome:
        if len(body) > MAX_MESSAGE_BYTES:
            logger.error(
                "Dead-lettering message %s from %r: %d bytes, more than any task event (%d)",
                _message_id(properties),
                method.routing_key,
                len(body),
                MAX_MESSAGE_BYTES,
            )
            channel.basic_nack(method.delivery_tag, requeue=False)
            return Outcome.DEAD_LETTERED
        try:
            event = TaskEvent.model_validate_json(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            logger.error(
                "Dead-lettering message %s from %r: not a task event (%d error(s), first: %s at %s)",
                _message_id(properties),
                method.routing_key,
                exc.error_count(),
                first["msg"],
                ".".join(str(part) for part in first["loc"]) or "the body",
            )
            channel.basic_nack(method.delivery_tag, requeue=False)
            return Outcome.DEAD_LETTERED
        event_id = str(event.event_id)
        try:
            notification = self._notifier.handle(event)
        except (DataError, IntegrityError) as exc:
            logger.error("Dead-lettering event %s: the database refuses it (%s)", event_id, type(exc).__name__)
            self._attempts.pop(event_id, None)
            channel.basic_nack(method.delivery_tag, requeue=False)
            return Outcome.DEAD_LETTERED
        except UNAVAILABLE_ERRORS as exc:
            logger.error("Could not record event %s; it will be redelivered (%s)", event_id, describe_exception(exc))
            # Pausing inside pika keeps heartbeats going and stops a hot redelivery loop.
            channel.connection.sleep(self._retry_pause_seconds)
            channel.basic_nack(method.delivery_tag, requeue=True)
            return Outcome.REQUEUED
        except Exception as exc:
            return self._retry_or_dead_letter(channel, method, event_id, exc)
        self._attempts.pop(event_id, None)
        channel.basic_ack(method.delivery_tag)
        if notification is None:
            return Outcome.DUPLICATE
        self._announce(channel, notification)
        return Outcome.STORED

    def _announce(self, channel: BlockingChannel, notification: Notification) -> None:
        """Tell every replica's live streams; the event is settled already, whatever happens here."""
        try:
            live = {
                "user_id": notification.user_id,
                "notification": NotificationRead.model_validate(notification).model_dump(mode="json"),
            }
            body = json.dumps(live).encode()
        except (ValidationError, ValueError, TypeError) as exc:
            logger.error("Not announcing notification %s live: %s", notification.id, describe_exception(exc))
            return
        channel.basic_publish(self._live_exchange, "", body)

    def _retry_or_dead_letter(
        self, channel: BlockingChannel, method: Basic.Deliver, event_id: str, exc: Exception
    ) -> Outcome:
        attempts = self._attempts.pop(event_id, 0) + 1
        if attempts >= MAX_ATTEMPTS:
            logger.error("Dead-lettering event %s: failed %d times (%s)", event_id, attempts, describe_exception(exc))
            channel.basic_nack(method.delivery_tag, requeue=False)
            return Outcome.DEAD_LETTERED
        self._attempts[event_id] = attempts
        while len(self._attempts) > MAX_TRACKED_EVENTS:
            self._attempts.popitem(last=False)
        logger.error(
            "Could not record event %s (attempt %d of %d); it will be redelivered (%s)",
            event_id,
            attempts,
            MAX_ATTEMPTS,
            describe_exception(exc),
        )
        channel.connection.sleep(self._retry_pause_seconds)
        channel.basic_nack(method.delivery_tag, requeue=True)
        return Outcome.REQUEUED

    def _on_live_message(
        self, channel: BlockingChannel, method: Basic.Deliver, properties: BasicProperties, body: bytes
    ) -> None:
        # Auto-acknowledged: a live message that is not one is simply dropped, with one log line.
        try:
            if len(body) > MAX_MESSAGE_BYTES:
                raise ValueError(f"{len(body)} bytes")
            live = LiveNotification.model_validate_json(body)
        except (ValidationError, ValueError) as exc:
            detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            logger.error("Dropped a message on %r: not a live notification (%s)", self._live_exchange, detail)
            return
        try:
            self._on_live_notification(live.user_id, json.dumps(live.notification.model_dump(mode="json")))
        except Exception as exc:
            logger.error("Dropped a live notification for user %s: %s", live.user_id, describe_exception(exc))


def _message_id(properties: BasicProperties) -> str:
    return repr(properties.message_id[:64]) if isinstance(properties.message_id, str) else "without an id"
