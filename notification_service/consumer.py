"""The RabbitMQ consumer: its own thread and connection, reconnecting whenever the broker goes away.

A message is acknowledged only after the notifier has recorded it. A message that can never be
processed (not JSON, not a task event, values the database refuses) is rejected without requeue,
so the queue's dead-letter exchange keeps it instead of it looping forever. A message that fails
for a passing reason (the database or the log file is unavailable) is requeued after a pause.

Each new notification is then broadcast on the `notifications.live` fanout exchange, which every
replica reads through its own temporary queue, so a user's live stream hears of it whichever
replica they are connected to.
"""

import json
import logging
from collections.abc import Callable

import pika
from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError

from common.broker import BrokerWorker
from common.request_id import NO_REQUEST, current_request_id
from notification_service.notifier import Notifier
from notification_service.schemas import NotificationRead, TaskEvent

logger = logging.getLogger(__name__)

RETRY_PAUSE_SECONDS = 2.0
PREFETCH_COUNT = 20


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
    ) -> None:
        super().__init__(rabbitmq_url)
        self._notifier = notifier
        self._exchange = exchange
        self._queue = queue
        self._dead_letter_exchange = dead_letter_exchange
        self._dead_letter_queue = dead_letter_queue
        self._live_exchange = live_exchange
        self._on_live_notification = on_live_notification

    def serve(self, connection: pika.BlockingConnection) -> None:
        channel = connection.channel()
        self._declare_topology(channel)
        channel.basic_qos(prefetch_count=PREFETCH_COUNT)
        channel.basic_consume(self._queue, self._on_message)
        live_queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        channel.queue_bind(live_queue, self._live_exchange)
        channel.basic_consume(live_queue, self._on_live_message, auto_ack=True)
        logger.info("Consuming task events from queue %r", self._queue)
        while not self.stopping.is_set():
            connection.process_data_events(time_limit=0.5)

    def _declare_topology(self, channel) -> None:
        channel.exchange_declare(self._exchange, exchange_type="topic", durable=True)
        channel.exchange_declare(self._dead_letter_exchange, exchange_type="fanout", durable=True)
        channel.queue_declare(self._dead_letter_queue, durable=True)
        channel.queue_bind(self._dead_letter_queue, self._dead_letter_exchange)
        channel.queue_declare(
            self._queue, durable=True, arguments={"x-dead-letter-exchange": self._dead_letter_exchange}
        )
        channel.queue_bind(self._queue, self._exchange, routing_key="task.*")
        channel.exchange_declare(self._live_exchange, exchange_type="fanout", durable=True)

    def _on_message(self, channel, method, properties, body: bytes) -> None:
        # The request that caused the event, so this service's log lines about it carry its id.
        token = current_request_id.set(properties.correlation_id or NO_REQUEST)
        try:
            self._process(channel, method, properties, body)
        finally:
            current_request_id.reset(token)

    def _process(self, channel, method, properties, body: bytes) -> None:
        try:
            event = TaskEvent.model_validate_json(body)
        except ValidationError as exc:
            logger.error(
                "Dead-lettering message %s from %r: not a task event (%d error(s), first: %s)",
                properties.message_id,
                method.routing_key,
                exc.error_count(),
                exc.errors()[0]["msg"],
            )
            channel.basic_nack(method.delivery_tag, requeue=False)
            return
        try:
            notification = self._notifier.handle(event)
        except (DataError, IntegrityError) as exc:
            logger.error("Dead-lettering event %s: the database refuses it (%s)", event.event_id, type(exc).__name__)
            channel.basic_nack(method.delivery_tag, requeue=False)
            return
        except Exception:
            logger.exception("Could not record event %s; it will be redelivered", event.event_id)
            # Pausing inside pika keeps heartbeats going and stops a hot redelivery loop.
            channel.connection.sleep(RETRY_PAUSE_SECONDS)
            channel.basic_nack(method.delivery_tag, requeue=True)
            return
        channel.basic_ack(method.delivery_tag)
        if notification is not None:
            live = {
                "user_id": notification.user_id,
                "notification": NotificationRead.model_validate(notification).model_dump(mode="json"),
            }
            channel.basic_publish(self._live_exchange, "", json.dumps(live).encode())

    def _on_live_message(self, channel, method, properties, body: bytes) -> None:
        live = json.loads(body)
        self._on_live_notification(int(live["user_id"]), json.dumps(live["notification"]))
