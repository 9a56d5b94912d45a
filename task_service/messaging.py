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

import pika
from pika.exceptions import UnroutableError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from common.broker import BrokerWorker
from common.db import utcnow
from common.remote_auth import AuthenticatedUser
from common.request_id import current_request_id
from task_service.models import OutboxEvent, Task

logger = logging.getLogger(__name__)

EVENT_VERSION = 1
# Under half the 30 s heartbeat, however long OUTBOX_POLL_SECONDS is.
MAX_IDLE_SECONDS = 10.0


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
    )
    session.add(event)
    return event


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
        batch_size: int = 100,
    ) -> None:
        super().__init__(rabbitmq_url)
        self._session_factory = session_factory
        self._exchange = exchange
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._wake = threading.Event()
        self._waiting_for_queue = False

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

    def _relay_until_stopped(self, connection: pika.BlockingConnection, channel) -> None:
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

    def _publish_batch(self, channel) -> int:
        with self._session_factory() as session, session.begin():
            # SKIP LOCKED lets several replicas relay one outbox without publishing a row twice.
            events = session.scalars(
                select(OutboxEvent).order_by(OutboxEvent.id).limit(self._batch_size).with_for_update(skip_locked=True)
            ).all()
            for event in events:
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
                    ),
                    mandatory=True,
                )
                session.delete(event)
            if events:
                logger.info("Published %d task event(s)", len(events))
            return len(events)

    def _idle(self, connection: pika.BlockingConnection) -> None:
        # Waiting on the event costs nothing and ends the moment a request commits an event; the
        # connection is served after each wait (well within the heartbeat) to answer heartbeats.
        self._wake.wait(min(self._poll_seconds, MAX_IDLE_SECONDS))
        connection.process_data_events(time_limit=0)
