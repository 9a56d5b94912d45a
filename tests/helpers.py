"""What every test suite here shares: the test servers' addresses and a way to run real services."""

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import httpx
from alembic import command
from alembic.config import Config
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import make_url
from starlette.applications import Starlette
from starlette.datastructures import State

from common.db import Database

if TYPE_CHECKING:
    # Imported for its type only: importing it warns of httpx's deprecation in Starlette's test client.
    from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent

# Test runs get their own databases and virtual host (see `scripts/provision.py test`), so they
# never touch what `make dev` serves.
AUTH_DATABASE_URL = os.environ.get(
    "TEST_AUTH_DATABASE_URL", "postgresql+psycopg2://postgres:postgres@127.0.0.1:5432/task_manager_test"
)
TASK_DATABASE_URL = os.environ.get(
    "TEST_TASK_DATABASE_URL", "mysql+pymysql://taskuser:taskpassword@127.0.0.1:3306/task_manager_test"
)
NOTIFICATION_DATABASE_URL = os.environ.get(
    "TEST_NOTIFICATION_DATABASE_URL", "mysql+pymysql://notifyuser:notifypassword@127.0.0.1:3306/notifications_test"
)
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://admin:admin123@127.0.0.1:5672/task_manager_test")
# Database 1, apart from development's 0; only revocation counters live there, so suites may share it.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


def _beside(url: str, database: str) -> str:
    """The URL of another database on the same server, for the same user."""
    return make_url(url).set(database=database).render_as_string(hide_password=False)


# Scratch databases beside the suites' own, where migrations and restores build schemas from nothing.
SCRATCH_DATABASE_URLS = {
    "auth_service": _beside(AUTH_DATABASE_URL, "auth_migrations_test"),
    "task_service": _beside(TASK_DATABASE_URL, "task_migrations_test"),
    "notification_service": _beside(NOTIFICATION_DATABASE_URL, "notifications_migrations_test"),
}
# The setting each service reads its database URL from.
DATABASE_URL_VARIABLES = {
    "auth_service": "AUTH_DATABASE_URL",
    "task_service": "TASK_DATABASE_URL",
    "notification_service": "NOTIFICATION_DATABASE_URL",
}

# Every port a suite listens on (or counts on being closed) is PORT_BASE plus an offset from this one table,
# so E2E_PORT_BASE moves them all, e.g. for a second checkout running its suites beside the first.
PORT_BASE = int(os.environ.get("E2E_PORT_BASE", "18000"))
# tests/e2e/stack.py: PORT_BASE + 0-3 for each replica, ten apart; + 99 for a spare notification service.
E2E_STACK_PORT = PORT_BASE
E2E_SPARE_NOTIFICATION_PORT = PORT_BASE + 99
# The suite's OTLP receiver (tests/e2e/otlp_receiver.py), and the services at LOG_LEVEL=DEBUG beside the stack.
E2E_OTLP_PORT = PORT_BASE + 97
DEBUG_GATEWAY_PORT, DEBUG_AUTH_PORT, DEBUG_TASK_PORT = PORT_BASE + 90, PORT_BASE + 91, PORT_BASE + 92
# The real auth service each service suite checks tokens with.
TASK_SUITE_AUTH_PORT = PORT_BASE + 101
NOTIFICATION_SUITE_AUTH_PORT = PORT_BASE + 201
GATEWAY_SUITE_AUTH_PORT = PORT_BASE + 301
# Stand-in mail servers of notification_service/tests.
EMAIL_SMTP_PORT = PORT_BASE + 25
HOSTILE_MESSAGES_SMTP_PORT = PORT_BASE + 425
# api_gateway/tests/test_rate_limits.py: its stand-in auth service, then two gateways on the next two ports.
RATE_LIMIT_PORT = int(os.environ.get("RATE_LIMIT_TEST_PORT", PORT_BASE + 1050))
CLOSED_REDIS_PORT = PORT_BASE + 1097
# tests/test_https.py: the HTTPS gateway, one started without a certificate, and a plain one.
HTTPS_GATEWAY_PORT = PORT_BASE + 1243
IDLE_HTTPS_GATEWAY_PORT = PORT_BASE + 1244
HTTP_GATEWAY_PORT = PORT_BASE + 1280
# Nothing listens there: a gateway pointed at it starts without its services.
NOWHERE_URL = f"http://127.0.0.1:{PORT_BASE + 1299}"

# Fast hashing keeps suites that register many users quick; production keeps the default 12.
TEST_BCRYPT_ROUNDS = 4

T = TypeVar("T")


def migrate(service: str, database_url: str) -> None:
    config = Config(str(ROOT / service / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


@contextmanager
def migrated_database(service: str, url: str, background_workers: int = 0) -> Iterator[Database]:
    """`service`'s database at `url`, migrated to its head, as a small `common.db.Database`."""
    migrate(service, url)
    database = Database(url, worker_threads=2, background_workers=background_workers, tls_ca_file=None)
    try:
        yield database
    finally:
        database.dispose()


def start_service(module: str, port: int, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start `module:app` under uvicorn as its own process, the way `make dev` does."""
    # Otherwise a leftover server on the port would answer the health checks in this one's place.
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise RuntimeError(f"port {port} is already in use: stop whatever listens there first")
    log = open(log_path, "ab")  # noqa: SIM115  (the process owns it until it exits)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            f"{module}:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--timeout-keep-alive",
            "75",
            "--timeout-graceful-shutdown",
            "5",
            "--no-server-header",
            "--no-access-log",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_until_healthy(base_url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{base_url} exited with code {process.returncode} before becoming healthy")
        try:
            if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{base_url} did not become healthy within {timeout} s")


def stop_service(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def poll(probe: Callable[[], T | None], timeout: float = 10.0, interval: float = 0.05) -> T:
    """Return the first truthy result of `probe`, for results that arrive asynchronously."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing arrived within {timeout} s")
        time.sleep(interval)


LOG_DIR = ROOT / ".run" / "test-logs"


class RunningService:
    """A service started as a real uvicorn process for the length of a test session."""

    def __init__(self, module: str, port: int, env: dict[str, str]) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = LOG_DIR / f"{module.split('.')[0]}-{port}.log"
        self.process = start_service(module, port, env, self.log_path)

    def wait_until_healthy(self) -> "RunningService":
        wait_until_healthy(self.base_url, self.process)
        return self

    def stop(self) -> None:
        stop_service(self.process)


def auth_service_env() -> dict[str, str]:
    return {
        "AUTH_DATABASE_URL": AUTH_DATABASE_URL,
        "BCRYPT_ROUNDS": str(TEST_BCRYPT_ROUNDS),
        "REDIS_URL": REDIS_URL,
        "ENVIRONMENT": "test",
    }


@contextmanager
def running_auth_service(port: int) -> Iterator[RunningService]:
    """The real auth service, for suites whose service checks tokens by calling it."""
    migrate("auth_service", AUTH_DATABASE_URL)
    service = RunningService("auth_service.main", port, auth_service_env())
    try:
        yield service.wait_until_healthy()
    finally:
        service.stop()


def app_state(client: "TestClient") -> State:
    """The state of the app a TestClient drives (its services, consumer, limiter...)."""
    assert isinstance(client.app, Starlette)
    return client.app.state


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register_and_login(auth_url: str, prefix: str = "user") -> dict:
    """A new user on the auth service at `auth_url`, with its bearer token."""
    suffix = uuid.uuid4().hex[:10]
    user = {"username": f"{prefix}_{suffix}", "email": f"{prefix}_{suffix}@example.com", "password": "test123"}
    registered = httpx.post(f"{auth_url}/auth/register", json=user, timeout=10)
    registered.raise_for_status()
    login = httpx.post(f"{auth_url}/auth/login", data={"username": user["username"], "password": "test123"}, timeout=10)
    login.raise_for_status()
    token = login.json()["access_token"]
    return {**user, "id": registered.json()["id"], "token": token, "headers": bearer(token)}


def token_checks(service_url: str) -> dict[str, float]:
    """How many token checks the service has answered so far, by source (its /metrics)."""
    metrics = httpx.get(f"{service_url}/metrics").text
    return {
        source: float(value)
        for source, value in re.findall(r'^token_checks_total\{source="(\w+)"\} ([\d.e+]+)$', metrics, re.MULTILINE)
    }


def drop_broker_connections(connection_name: str) -> None:
    """Make RabbitMQ close the named client connections in the test vhost, as a broker restart would."""
    vhost = RABBITMQ_URL.rsplit("/", 1)[1]
    listing = subprocess.run(
        ["rabbitmqctl", "list_connections", "-p", vhost, "pid", "client_properties", "--no-table-headers", "-q"],
        check=True,
        capture_output=True,
        text=True,
    )
    pids = [line.split("\t", 1)[0] for line in listing.stdout.splitlines() if f'"{connection_name}"' in line]
    assert pids, f"no connection named {connection_name!r} in vhost {vhost!r}"
    for pid in pids:
        subprocess.run(["rabbitmqctl", "close_connection", pid, "closed by a test"], check=True, capture_output=True)


def scrape_metrics(client: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """A service's `/metrics` as a map: (sample name, sorted labels) -> value."""
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
