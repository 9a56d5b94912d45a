"""A thread that owns one RabbitMQ connection and opens it again whenever it is lost.

pika's BlockingConnection is not thread-safe, so each worker keeps its connection to its own
thread, and serves it (heartbeats included) only from there.
"""

import contextlib
import logging
import threading

import pika
from pika.exceptions import AMQPError
from prometheus_client import CollectorRegistry, Gauge

from common.logging import describe_exception

logger = logging.getLogger(__name__)

RECONNECT_DELAY_MAX_SECONDS = 30.0


def connection_parameters(rabbitmq_url: str, connection_name: str) -> pika.URLParameters:
    parameters = pika.URLParameters(rabbitmq_url)
    parameters.heartbeat = 30
    # A broker under a memory or disk alarm blocks publishers: give up rather than hang forever.
    parameters.blocked_connection_timeout = 30
    parameters.connection_attempts = 1
    parameters.socket_timeout = 5
    # Shown in the management UI's connection list, so an operator sees who is connected.
    parameters.client_properties = {"connection_name": connection_name}
    return parameters


class BrokerWorker:
    """Subclasses implement `serve(connection)`, which runs until `stopping` is set or an error escapes."""

    connection_name = "worker"
    # Errors after which the worker waits and starts over with a new connection.
    retryable_errors: tuple[type[BaseException], ...] = (AMQPError, OSError)

    def __init__(self, rabbitmq_url: str) -> None:
        self._parameters = connection_parameters(rabbitmq_url, self.connection_name)
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.connection_name, daemon=True)
        self.connected = False

    def start(self) -> None:
        self._thread.start()

    def report_connection(self, metric_name: str, registry: CollectorRegistry) -> None:
        """A gauge, 1 while the worker holds a connection to the broker and 0 otherwise."""
        Gauge(
            metric_name, f"1 while the {self.connection_name} is connected to RabbitMQ", registry=registry
        ).set_function(lambda: float(self.connected))

    def stop(self) -> None:
        self.stopping.set()
        self._thread.join(timeout=10)

    def serve(self, connection: pika.BlockingConnection) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        delay = 1.0
        while not self.stopping.is_set():
            connection = None
            try:
                connection = pika.BlockingConnection(self._parameters)
                self.connected = True
                delay = 1.0
                self.serve(connection)
            except self.retryable_errors as exc:
                logger.warning(
                    "%s lost its connection (%s: %s); retrying in %.0f s",
                    self.connection_name,
                    type(exc).__name__,
                    exc,
                    delay,
                )
                self.stopping.wait(delay)
                delay = min(delay * 2, RECONNECT_DELAY_MAX_SECONDS)
            except Exception as exc:
                # Never a reason to stop for good: the worker would be gone until the process restarts.
                logger.error(
                    "%s failed (%s); starting over in %.0f s", self.connection_name, describe_exception(exc), delay
                )
                self.stopping.wait(delay)
                delay = min(delay * 2, RECONNECT_DELAY_MAX_SECONDS)
            finally:
                self.connected = False
                if connection is not None and connection.is_open:
                    with contextlib.suppress(AMQPError):
                        connection.close()
