"""The whole system as real processes on test ports, against the test databases and vhost.

Every service runs as E2E_REPLICAS replicas (two by default), the gateway spreading requests
over them, so the suite also proves what several replicas share: the outbox, the event queue,
live streams across replicas, the migration lock and token revocation.

Run it by hand to poke at a test stack (`.venv/bin/python -m tests.e2e.stack`, Ctrl-C stops it);
the e2e suite starts it once per session.
"""

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import (
    AUTH_DATABASE_URL,
    E2E_STACK_PORT,
    NOTIFICATION_DATABASE_URL,
    RABBITMQ_URL,
    REDIS_URL,
    ROOT,
    TASK_DATABASE_URL,
    RunningService,
    auth_service_env,
    migrate,
)

REPLICAS = int(os.environ.get("E2E_REPLICAS", "2"))
# The first replica of each on E2E_STACK_PORT + 0..3, the second on E2E_STACK_PORT + 10..13, and so on.
OFFSETS = {"gateway": 0, "auth": 1, "task": 2, "notification": 3}
MODULES = {
    "gateway": "api_gateway.main",
    "auth": "auth_service.main",
    "task": "task_service.main",
    "notification": "notification_service.main",
}
LOCAL = "http://127.0.0.1"


def port_of(service: str, replica: int = 0) -> int:
    return E2E_STACK_PORT + 10 * replica + OFFSETS[service]


def urls_of(service: str) -> str:
    """Every replica's URL, as the gateway's settings take them."""
    return ",".join(f"{LOCAL}:{port_of(service, replica)}" for replica in range(REPLICAS))


@dataclass
class Stack:
    notification_log: Path
    services: dict[str, RunningService] = field(default_factory=dict)

    def url(self, service: str, replica: int = 0) -> str:
        """The base URL of one replica of `service` (the first unless told)."""
        return self.services[service if replica == 0 else f"{service}-{replica + 1}"].base_url

    def replica_urls(self, service: str) -> list[str]:
        return [self.url(service, replica) for replica in range(REPLICAS)]

    def log_of(self, service: str) -> str:
        """What every replica of `service` has written to stdout so far."""
        return "".join(
            running.log_path.read_text() for name, running in self.services.items() if name.split("-")[0] == service
        )

    def stop(self) -> None:
        for service in reversed(self.services.values()):
            service.stop()


def tracing_env(otlp_endpoint: str | None) -> dict[str, str]:
    if otlp_endpoint is None:
        return {}
    # Spans are sent every tenth of a second, so a test waits for them no longer than that.
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}


def environments(notification_log: Path, otlp_endpoint: str | None = None) -> dict[str, dict[str, str]]:
    auth_urls = urls_of("auth")
    services = {
        "auth": auth_service_env(),
        "task": {
            "TASK_DATABASE_URL": TASK_DATABASE_URL,
            "RABBITMQ_URL": RABBITMQ_URL,
            "REDIS_URL": REDIS_URL,
            # Each replica checks tokens with the first auth replica; the gateway spreads the rest.
            "AUTH_SERVICE_URL": auth_urls.split(",")[0],
            "OUTBOX_POLL_SECONDS": "0.5",
        },
        "notification": {
            "NOTIFICATION_DATABASE_URL": NOTIFICATION_DATABASE_URL,
            "RABBITMQ_URL": RABBITMQ_URL,
            "REDIS_URL": REDIS_URL,
            "AUTH_SERVICE_URL": auth_urls.split(",")[-1],
            "NOTIFICATION_LOG_FILE": str(notification_log),
        },
        "gateway": {
            "AUTH_SERVICE_URL": auth_urls,
            "TASK_SERVICE_URL": urls_of("task"),
            "NOTIFICATION_SERVICE_URL": urls_of("notification"),
            # Hundreds of users sign up and in from 127.0.0.1 here; the limits are proven on their own
            # (api_gateway/tests/test_rate_limits.py).
            "LOGIN_RATE_LIMIT": "100000/minute",
            "LOGIN_ACCOUNT_RATE_LIMIT": "100000/minute",
            "REGISTER_RATE_LIMIT": "100000/minute",
        },
    }
    return {name: {**env, **tracing_env(otlp_endpoint)} for name, env in services.items()}


def start_stack(otlp_endpoint: str | None = None) -> Stack:
    """The stack, its traces sent to `otlp_endpoint` when given (OTLP/HTTP)."""
    for service, url in [
        ("auth_service", AUTH_DATABASE_URL),
        ("task_service", TASK_DATABASE_URL),
        ("notification_service", NOTIFICATION_DATABASE_URL),
    ]:
        migrate(service, url)
    notification_log = ROOT / ".run" / f"e2e-{E2E_STACK_PORT}" / "notifications.log"
    notification_log.parent.mkdir(parents=True, exist_ok=True)
    notification_log.unlink(missing_ok=True)
    stack = Stack(notification_log)
    try:
        for name, env in environments(notification_log, otlp_endpoint).items():
            for replica in range(REPLICAS):
                key = name if replica == 0 else f"{name}-{replica + 1}"
                stack.services[key] = RunningService(
                    MODULES[name], port_of(name, replica), {"ENVIRONMENT": "test", **env}
                )
        for running in stack.services.values():
            running.wait_until_healthy()
    except BaseException:
        stack.stop()
        raise
    return stack


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    # `kill` stops the stack as cleanly as Ctrl-C, services included.
    signal.signal(signal.SIGTERM, _interrupt)
    running = start_stack()
    print(f"Gateway on {running.url('gateway')}; logs in {ROOT / '.run' / 'test-logs'}. Ctrl-C stops.", flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        running.stop()
