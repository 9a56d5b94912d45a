"""The whole system as real processes on test ports, against the test databases and vhost.

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
    NOTIFICATION_DATABASE_URL,
    RABBITMQ_URL,
    ROOT,
    TASK_DATABASE_URL,
    RunningService,
    auth_service_env,
    migrate,
)

# E2E_PORT_BASE moves the whole stack, e.g. to run a second one beside the suite's.
PORT_BASE = int(os.environ.get("E2E_PORT_BASE", "18000"))
GATEWAY_PORT, AUTH_PORT, TASK_PORT, NOTIFICATION_PORT = PORT_BASE, PORT_BASE + 1, PORT_BASE + 2, PORT_BASE + 3


@dataclass
class Stack:
    notification_log: Path
    services: dict[str, RunningService] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return self.services[service].base_url

    def stop(self) -> None:
        for service in reversed(self.services.values()):
            service.stop()


def start_stack() -> Stack:
    for service, url in [
        ("auth_service", AUTH_DATABASE_URL),
        ("task_service", TASK_DATABASE_URL),
        ("notification_service", NOTIFICATION_DATABASE_URL),
    ]:
        migrate(service, url)
    notification_log = ROOT / ".run" / f"e2e-{PORT_BASE}" / "notifications.log"
    notification_log.parent.mkdir(parents=True, exist_ok=True)
    notification_log.unlink(missing_ok=True)
    local = "http://127.0.0.1"
    stack = Stack(notification_log)
    definitions = {
        "auth": ("auth_service.main", AUTH_PORT, auth_service_env()),
        "task": (
            "task_service.main",
            TASK_PORT,
            {
                "TASK_DATABASE_URL": TASK_DATABASE_URL,
                "RABBITMQ_URL": RABBITMQ_URL,
                "AUTH_SERVICE_URL": f"{local}:{AUTH_PORT}",
                "OUTBOX_POLL_SECONDS": "0.5",
            },
        ),
        "notification": (
            "notification_service.main",
            NOTIFICATION_PORT,
            {
                "NOTIFICATION_DATABASE_URL": NOTIFICATION_DATABASE_URL,
                "RABBITMQ_URL": RABBITMQ_URL,
                "AUTH_SERVICE_URL": f"{local}:{AUTH_PORT}",
                "NOTIFICATION_LOG_FILE": str(notification_log),
            },
        ),
        "gateway": (
            "api_gateway.main",
            GATEWAY_PORT,
            {
                "AUTH_SERVICE_URL": f"{local}:{AUTH_PORT}",
                "TASK_SERVICE_URL": f"{local}:{TASK_PORT}",
                "NOTIFICATION_SERVICE_URL": f"{local}:{NOTIFICATION_PORT}",
            },
        ),
    }
    try:
        for name, (module, port, env) in definitions.items():
            stack.services[name] = RunningService(module, port, {"ENVIRONMENT": "test", **env})
        for service in stack.services.values():
            service.wait_until_healthy()
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
