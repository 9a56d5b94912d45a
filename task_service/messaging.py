"""Task events: written to the outbox with the change, relayed to RabbitMQ by a background thread.

The outbox makes "the task changed" and "an event will be published" one database commit, so a
broker outage delays events but never loses them. The relay publishes with publisher confirms
and `mandatory`, and deletes a row only after the broker has taken responsibility for it; a
crash in between republishes it, which the consumer's `event_id` check makes harmless.
"""

import json
import logging
import threading
import uuid
from datetime import datetime

import pika
from opentelemetry.trace import SpanKind
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import UnroutableError
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from common.broker import BrokerWorker
from common.db import Database, utcnow
from common.remote_auth import AuthenticatedUser
from common.request_id import current_request_id
from common.telemetry import context_from, current_trace_context, message_attributes, tracer
from task_service.models import OutboxEvent, Task

logger = logging.getLogger(__name__)

EVENT_VERSION = 1
# Under half the 30 s heartbeat, however long OUTBOX_POLL_SECONDS is.
MAX_IDLE_SECONDS = 10.0
# The outbox column's size; a caller's `tracestate` that would not fit is dropped, its `traceparent` kept.
MAX_TRACE_CONTEXT_CHARS = 1024


def record_event(session: Session, event_type: str, task: Task, user: AuthenticatedUser) -> OutboxEvent:
    """Add `event_type` ("task_created", ...) for `task` to the session's transaction."""
    event_id = str(uuid.uuid4())
    envelope = {
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": utcnow().isoformat(),
        "version": EVENT_VERSION,
        "data": {
            "task_id": task.id,
            "title": task.title,
            "description": task.description,
            "status": task.status.value,
            "user_id": user.id,
            "username": user.username,
            "email": user.email,
        },
    }
    event = OutboxEvent(
        event_id=event_id,
        routing_key="task." + event_type.removeprefix("task_"),
        # As UTF-8, not \u escapes: an emoji is 4 bytes rather than 12, so the largest task (10,000
        # characters of description) stays well inside the payload column's 65,535 bytes.
        payload=json.dumps(envelope, ensure_ascii=False),
        request_id=current_request_id.get(),
        trace_context=_storable_trace_context(),
    )
    session.add(event)
    return event


def _storable_trace_context() -> str | None:
    carrier = current_trace_context()
    if not carrier:
        return None
    stored = json.dumps(carrier)
    if len(stored) > MAX_TRACE_CONTEXT_CHARS:
        stored = json.dumps({"traceparent": carrier["traceparent"]})
    return stored


class OutboxRelay(BrokerWorker):
    """Moves outbox rows to the `task_events` exchange from one thread with its own connection."""

    connection_name = "task_service outbox relay"
    retryable_errors = (*BrokerWorker.retryable_errors, SQLAlchemyError)

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        rabbitmq_url: str,
        exchange: str,
        poll_seconds: float,
        registry: CollectorRegistry,
        batch_size: int = 100,
    ) -> None:
        super().__init__(rabbitmq_url)
        self._session_factory = session_factory
        self._exchange = exchange
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._wake = threading.Event()
        self._waiting_for_queue = False
        self._published = Counter(
            "task_events_published", "Task events the broker confirmed", ["routing_key"], registry=registry
        )

    def stop(self) -> None:
        self._wake.set()
        super().stop()

    def wake(self) -> None:
        """Publish now rather than at the next poll: a request has just committed an event."""
        self._wake.set()

    def serve(self, connection: pika.BlockingConnection) -> None:
        channel = connection.channel()
        channel.exchange_declare(self._exchange, exchange_type="topic", durable=True)
        channel.confirm_delivery()
        logger.info("Outbox relay connected to RabbitMQ")
        self._relay_until_stopped(connection, channel)

    def _relay_until_stopped(self, connection: pika.BlockingConnection, channel: BlockingChannel) -> None:
        while not self.stopping.is_set():
            self._wake.clear()
            try:
                published = self._publish_batch(channel)
            except UnroutableError:
                # No queue is bound yet (the notification service has never started): the events
                # stay in the outbox until one is, rather than vanish into an unbound exchange.
                if not self._waiting_for_queue:
                    logger.warning("No queue is bound to %r yet; task events wait in the outbox", self._exchange)
                self._waiting_for_queue = True
                published = 0
            else:
                self._waiting_for_queue = False
            if published < self._batch_size:
                self._idle(connection)

    def _publish_batch(self, channel: BlockingChannel) -> int:
        with self._session_factory() as session, session.begin():
            # SKIP LOCKED lets several replicas relay one outbox without publishing a row twice.
            events = session.scalars(
                select(OutboxEvent).order_by(OutboxEvent.id).limit(self._batch_size).with_for_update(skip_locked=True)
            ).all()
            for event in events:
                self._publish(channel, event)
                session.delete(event)
            if events:
                logger.info("Published %d task event(s)", len(events))
            return len(events)

    def _publish(self, channel: BlockingChannel, event: OutboxEvent) -> None:
        """One event, inside the trace of the request that made it (its headers carry the trace on)."""
        request_trace = context_from(json.loads(event.trace_context) if event.trace_context else None)
        with tracer().start_as_current_span(
            f"publish {self._exchange}",
            context=request_trace,
            kind=SpanKind.PRODUCER,
            attributes=message_attributes("send", self._exchange, event.routing_key, event.event_id),
        ):
            channel.basic_publish(
                exchange=self._exchange,
                routing_key=event.routing_key,
                body=event.payload.encode(),
                properties=pika.BasicProperties(
                    content_type="application/json",
                    delivery_mode=pika.DeliveryMode.Persistent,
                    message_id=event.event_id,
                    correlation_id=event.request_id,
                    type=event.routing_key,
                    timestamp=int(event.created_at.timestamp()),
                    headers=current_trace_context() or None,
                ),
                mandatory=True,
            )
        self._published.labels(event.routing_key).inc()

    def _idle(self, connection: pika.BlockingConnection) -> None:
        # Waiting on the event costs nothing and ends the moment a request commits an event; the
        # connection is served after each wait (well within the heartbeat) to answer heartbeats.
        self._wake.wait(min(self._poll_seconds, MAX_IDLE_SECONDS))
        connection.process_data_events(time_limit=0)


class OutboxGauges:
    """How many events wait in the outbox and for how long, measured at each scrape.

    Measured from the database, not by the relay: while the broker is away the relay is not
    running, and that is when the backlog matters.
    """

    def __init__(self, database: Database, registry: CollectorRegistry) -> None:
        self._database = database
        self._backlog = Gauge("task_outbox_backlog", "Task events not yet published", registry=registry)
        self._oldest_age = Gauge(
            "task_outbox_oldest_event_age_seconds",
            "Age of the oldest task event not yet published (0 when none waits)",
            registry=registry,
        )

    async def measure(self) -> None:
        try:
            backlog, oldest = await self._database.run_in_thread(_outbox_backlog, read_only=True)
        except SQLAlchemyError as exc:
            # The gauges keep their last values; the health check reports the database itself.
            logger.warning("Could not measure the outbox backlog: %s", type(exc).__name__)
            return
        self._backlog.set(backlog)
        self._oldest_age.set((utcnow() - oldest).total_seconds() if oldest is not None else 0)


def _outbox_backlog(session: Session) -> tuple[int, datetime | None]:
    backlog = session.scalar(select(func.count()).select_from(OutboxEvent)) or 0
    # Ids grow with time, so the first by id is the oldest, read from the primary key.
    oldest = session.scalar(select(OutboxEvent.created_at).order_by(OutboxEvent.id).limit(1))
    return backlog, oldest
