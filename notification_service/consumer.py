"""The RabbitMQ consumer: its own thread and connection, reconnecting whenever the broker goes away.

A message is acknowledged only after the notifier has recorded it. A message that can never be
processed (not JSON, not a task event) is rejected without requeue, so the queue's dead-letter
exchange keeps it instead of it looping forever. A message that fails for a passing reason (the
database is down) is requeued after a pause.
"""

import contextlib
import logging
import threading

import pika
from pika.exceptions import AMQPError
from pydantic import ValidationError

from notification_service.notifier import Notifier
from notification_service.schemas import TaskEvent

logger = logging.getLogger(__name__)

RECONNECT_DELAY_MAX_SECONDS = 30.0
CONNECTION_NAME = "notification_service consumer"
RETRY_PAUSE_SECONDS = 2.0
PREFETCH_COUNT = 20


class EventConsumer:
    def __init__(
        self,
        notifier: Notifier,
        rabbitmq_url: str,
        exchange: str,
        queue: str,
        dead_letter_exchange: str,
        dead_letter_queue: str,
    ) -> None:
        self._notifier = notifier
        self._parameters = pika.URLParameters(rabbitmq_url)
        self._parameters.heartbeat = 30
        self._parameters.blocked_connection_timeout = 30
        self._parameters.connection_attempts = 1
        self._parameters.socket_timeout = 5
        # Shown in the management UI's connection list, so an operator sees who is connected.
        self._parameters.client_properties = {"connection_name": CONNECTION_NAME}
        self._exchange = exchange
        self._queue = queue
        self._dead_letter_exchange = dead_letter_exchange
        self._dead_letter_queue = dead_letter_queue
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-consumer", daemon=True)
        self._connection: pika.BlockingConnection | None = None
        self.connected = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        delay = 1.0
        while not self._stop.is_set():
            try:
                self._connection = pika.BlockingConnection(self._parameters)
                channel = self._connection.channel()
                self._declare_topology(channel)
                channel.basic_qos(prefetch_count=PREFETCH_COUNT)
                channel.basic_consume(self._queue, self._on_message)
                self.connected = True
                delay = 1.0
                logger.info("Consuming task events from queue %r", self._queue)
                while not self._stop.is_set():
                    self._connection.process_data_events(time_limit=0.5)
            except (AMQPError, OSError) as exc:
                logger.warning(
                    "Event consumer disconnected (%s: %s); retrying in %.0f s", type(exc).__name__, exc, delay
                )
                self._stop.wait(delay)
                delay = min(delay * 2, RECONNECT_DELAY_MAX_SECONDS)
            finally:
                self.connected = False
                if self._connection is not None and self._connection.is_open:
                    with contextlib.suppress(AMQPError):
                        self._connection.close()

    def _declare_topology(self, channel) -> None:
        channel.exchange_declare(self._exchange, exchange_type="topic", durable=True)
        channel.exchange_declare(self._dead_letter_exchange, exchange_type="fanout", durable=True)
        channel.queue_declare(self._dead_letter_queue, durable=True)
        channel.queue_bind(self._dead_letter_queue, self._dead_letter_exchange)
        channel.queue_declare(
            self._queue, durable=True, arguments={"x-dead-letter-exchange": self._dead_letter_exchange}
        )
        channel.queue_bind(self._queue, self._exchange, routing_key="task.*")

    def _on_message(self, channel, method, properties, body: bytes) -> None:
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
            self._notifier.handle(event)
        except Exception:
            logger.exception("Could not record event %s; it will be redelivered", event.event_id)
            # Pausing inside pika keeps heartbeats going and stops a hot redelivery loop.
            self._connection.sleep(RETRY_PAUSE_SECONDS)
            channel.basic_nack(method.delivery_tag, requeue=True)
            return
        channel.basic_ack(method.delivery_tag)
