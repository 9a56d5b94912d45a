"""scripts/provision.py: what the settings name, idempotent, and clear about a server it cannot reach."""

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import closing

import pika
import psycopg2
import pymysql
import pytest
from sqlalchemy import make_url

from tests.helpers import AUTH_DATABASE_URL, RABBITMQ_URL, ROOT, TASK_DATABASE_URL

MYSQL_ROOT_PASSWORD = os.environ.get("MYSQL_ROOT_PASSWORD", "")


def provision(profile: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "scripts/provision.py", profile],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_second_run_changes_nothing_and_succeeds():
    provision("test")

    again = provision("test")

    assert again.returncode == 0, again.stderr
    assert again.stdout == ""


def closed_loopback_address() -> str:
    """A loopback address where nothing answers on PostgreSQL's port (the servers here bind 127.0.0.1)."""
    for last in range(2, 32):
        address = f"127.0.0.{last}"
        with socket.socket() as probe:
            probe.settimeout(1)
            if probe.connect_ex((address, 5432)) != 0:
                return address
    raise AssertionError("every 127.0.0.x answers on 5432: a server listens on all addresses")


def test_an_unreachable_server_is_named_with_how_to_start_it():
    address = closed_loopback_address()

    result = provision("dev", PROVISION_HOST=address)

    assert result.returncode == 1
    assert f"PostgreSQL is not reachable at {address}:5432" in result.stderr
    assert "docker compose up -d postgres_db mysql_db rabbitmq" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_dev_profile_reads_the_services_settings():
    address = closed_loopback_address()

    result = provision("dev", AUTH_DATABASE_URL=f"postgresql+psycopg2://someone:secret@{address}:5499/elsewhere")

    assert result.returncode == 1
    assert f"PostgreSQL is not reachable at {address}:5499" in result.stderr


@pytest.fixture
def unknown_names() -> Iterator[dict[str, str]]:
    """Test addresses naming a PostgreSQL user and database, a MariaDB one and a broker user and vhost
    that do not exist yet; all of them are removed afterwards."""
    name = f"provision_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    auth, task, broker = make_url(AUTH_DATABASE_URL), make_url(TASK_DATABASE_URL), make_url(RABBITMQ_URL)
    yield {
        "TEST_AUTH_DATABASE_URL": auth.set(username=name, password=password, database=name).render_as_string(
            hide_password=False
        ),
        "TEST_TASK_DATABASE_URL": task.set(username=name, password=password, database=name).render_as_string(
            hide_password=False
        ),
        "TEST_RABBITMQ_URL": f"amqp://{name}:{password}@{broker.host}:{broker.port or 5672}/{name}",
    }
    admin = psycopg2.connect(
        auth.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    )
    admin.autocommit = True
    with closing(admin), admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'DROP ROLE IF EXISTS "{name}"')
    root = pymysql.connect(host=task.host, port=task.port or 3306, user="root", password=MYSQL_ROOT_PASSWORD)
    with root, root.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"DROP USER IF EXISTS '{name}'@'%', '{name}'@'localhost'")
    subprocess.run(["rabbitmqctl", "delete_vhost", name], capture_output=True, check=False)
    subprocess.run(["rabbitmqctl", "delete_user", name], capture_output=True, check=False)


def test_the_test_profile_creates_what_the_test_addresses_name(unknown_names):
    created = provision("test", **unknown_names)
    again = provision("test", **unknown_names)

    assert created.returncode == 0, created.stderr
    assert again.returncode == 0, again.stderr
    assert again.stdout == ""
    auth, task = make_url(unknown_names["TEST_AUTH_DATABASE_URL"]), make_url(unknown_names["TEST_TASK_DATABASE_URL"])
    psycopg2.connect(auth.set(drivername="postgresql").render_as_string(hide_password=False)).close()
    pymysql.connect(
        host=task.host or "127.0.0.1",
        port=task.port or 3306,
        user=task.username,
        password=task.password or "",
        database=task.database,
    ).close()
    pika.BlockingConnection(pika.URLParameters(unknown_names["TEST_RABBITMQ_URL"])).close()
