"""Create what the services' settings name on the local servers, when it is missing.

`dev` reads the services' own settings (environment, then `.env`), `test` the test addresses
(tests/helpers.py: the TEST_* variables): PostgreSQL: the auth database; MariaDB: the task and
notification databases and their users; RabbitMQ: the broker user as administrator, its virtual
host, and (for development) the management UI. Every step is idempotent. A server that cannot be
reached is named, with how to start it, and the script exits non-zero.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pika
import psycopg2
import pymysql
from psycopg2 import sql
from sqlalchemy.engine import URL, make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

START_HINT = "start it, e.g. `docker compose up -d postgres_db mysql_db rabbitmq`"
# The superuser that creates databases and roles; its password is the URL's when a URL names it.
POSTGRES_ADMIN = "postgres"


class ProvisionError(Exception):
    pass


@dataclass(frozen=True)
class Database:
    """A database and the user that owns it, as a service's database URL names them."""

    backend: str
    host: str
    port: int
    name: str
    user: str
    password: str


@dataclass(frozen=True)
class BrokerAccount:
    """A RabbitMQ user and virtual host, as a service's broker URL names them."""

    host: str
    port: int
    user: str
    password: str
    vhost: str


@dataclass(frozen=True)
class Profile:
    databases: list[Database]
    rabbitmq: list[BrokerAccount]
    management_ui: bool


def _host(host: str | None) -> str:
    # PROVISION_HOST points every server elsewhere at once (the URLs' own hosts otherwise).
    return os.environ.get("PROVISION_HOST") or host or "127.0.0.1"


def database(url: str | URL) -> Database:
    parsed = make_url(url)
    if not (parsed.database and parsed.username):
        raise ProvisionError(f"{parsed.render_as_string(hide_password=True)} names no database or no user")
    backend = parsed.get_backend_name()
    return Database(
        backend,
        _host(parsed.host),
        parsed.port or (5432 if backend == "postgresql" else 3306),
        parsed.database,
        parsed.username,
        parsed.password or "",
    )


def broker_account(url: str) -> BrokerAccount:
    parsed = urlsplit(url)
    # amqp://host/ and amqp://host name the default virtual host "/"; amqp://host/%2F does so explicitly.
    vhost = unquote(parsed.path[1:]) if len(parsed.path) > 1 else "/"
    return BrokerAccount(
        _host(parsed.hostname),
        parsed.port or 5672,
        unquote(parsed.username or "guest"),
        unquote(parsed.password or "guest"),
        vhost,
    )


# Each profile imports only what it reads, so `dev` needs nothing of the tests.
def dev_profile() -> Profile:
    from auth_service.config import Settings as AuthSettings
    from notification_service.config import Settings as NotificationSettings
    from task_service.config import Settings as TaskSettings

    auth, task, notification = AuthSettings(), TaskSettings(), NotificationSettings()
    return Profile(
        databases=[database(settings.database_url) for settings in (auth, task, notification)],
        rabbitmq=[broker_account(task.rabbitmq_url), broker_account(notification.rabbitmq_url)],
        management_ui=True,
    )


def test_profile() -> Profile:
    from tests.helpers import (
        AUTH_DATABASE_URL,
        NOTIFICATION_DATABASE_URL,
        RABBITMQ_URL,
        SCRATCH_DATABASE_URLS,
        TASK_DATABASE_URL,
    )

    urls = [AUTH_DATABASE_URL, TASK_DATABASE_URL, NOTIFICATION_DATABASE_URL, *SCRATCH_DATABASE_URLS.values()]
    return Profile(
        databases=[database(url) for url in urls],
        rabbitmq=[broker_account(RABBITMQ_URL)],
        management_ui=False,
    )


PROFILES = {"dev": dev_profile, "test": test_profile}


def provision_postgres(databases: list[Database]) -> None:
    for target in databases:
        admin_password = (
            target.password if target.user == POSTGRES_ADMIN else os.environ.get("POSTGRES_PASSWORD", "postgres")
        )
        try:
            connection = psycopg2.connect(
                host=target.host,
                port=target.port,
                user=POSTGRES_ADMIN,
                password=admin_password,
                dbname="postgres",
                connect_timeout=5,
            )
        except psycopg2.OperationalError as exc:
            raise ProvisionError(
                f"PostgreSQL is not reachable at {target.host}:{target.port} ({exc}); {START_HINT}"
            ) from exc
        connection.autocommit = True
        with connection.cursor() as cursor:
            if target.user != POSTGRES_ADMIN:
                _create_if_missing(
                    cursor,
                    "SELECT 1 FROM pg_roles WHERE rolname = %s",
                    target.user,
                    sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                        sql.Identifier(target.user), sql.Literal(target.password)
                    ),
                    f"user {target.user}",
                )
            _create_if_missing(
                cursor,
                "SELECT 1 FROM pg_database WHERE datname = %s",
                target.name,
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(target.name), sql.Identifier(target.user)),
                f"database {target.name}",
            )
        connection.close()


def _create_if_missing(
    cursor: psycopg2.extensions.cursor, lookup: str, name: str, create: sql.Composed, created: str
) -> None:
    cursor.execute(lookup, (name,))
    if cursor.fetchone() is None:
        cursor.execute(create)
        print(f"PostgreSQL: created {created}")


def _mysql_root_connection(host: str, port: int) -> pymysql.Connection:
    # Local installs use an empty root password; the compose file sets `rootpassword`.
    candidates = [os.environ.get("MYSQL_ROOT_PASSWORD", ""), "rootpassword"]
    access_denied: pymysql.err.OperationalError | None = None
    for password in dict.fromkeys(candidates):
        try:
            return pymysql.connect(host=host, port=port, user="root", password=password, connect_timeout=5)
        except pymysql.err.OperationalError as exc:
            if not exc.args or exc.args[0] != 1045:  # anything but "access denied": the server is not there
                raise ProvisionError(f"MariaDB/MySQL is not reachable at {host}:{port} ({exc}); {START_HINT}") from exc
            access_denied = exc
    raise ProvisionError(
        f"MariaDB/MySQL at {host}:{port} refuses root ({access_denied}); set MYSQL_ROOT_PASSWORD to its root password"
    )


def provision_mysql(databases: list[Database]) -> None:
    for target in databases:
        connection = _mysql_root_connection(target.host, target.port)
        with connection, connection.cursor() as cursor:
            cursor.execute(
                f"CREATE DATABASE IF NOT EXISTS `{target.name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
            for host in ("%", "localhost"):
                cursor.execute("CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s", (target.user, host, target.password))
                cursor.execute(f"GRANT ALL PRIVILEGES ON `{target.name}`.* TO %s@%s", (target.user, host))
            connection.commit()


def _rabbitmq_login_works(account: BrokerAccount) -> bool:
    parameters = pika.ConnectionParameters(
        host=account.host,
        port=account.port,
        virtual_host=account.vhost,
        credentials=pika.PlainCredentials(account.user, account.password),
        connection_attempts=1,
        socket_timeout=5,
    )
    try:
        pika.BlockingConnection(parameters).close()
        return True
    except pika.exceptions.AMQPError:
        return False


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((host, port)) == 0


def _rabbitmqctl(*args: str, allow_failure: bool = False) -> None:
    result = subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True)
    if result.returncode != 0 and not allow_failure:
        raise ProvisionError(f"rabbitmqctl {' '.join(args)} failed: {result.stderr.strip() or result.stdout.strip()}")


def provision_rabbitmq(accounts: list[BrokerAccount], management_ui: bool) -> None:
    for account in dict.fromkeys(accounts):
        if not _port_open(account.host, account.port):
            raise ProvisionError(f"RabbitMQ is not reachable at {account.host}:{account.port}; {START_HINT}")
        if _rabbitmq_login_works(account):
            continue
        if shutil.which("rabbitmqctl") is None:
            raise ProvisionError(
                f"RabbitMQ refuses {account.user}/{account.password} on vhost {account.vhost!r} and rabbitmqctl is "
                "not installed here to create them; use the compose broker or create the user and vhost yourself"
            )
        _rabbitmqctl("add_user", account.user, account.password, allow_failure=True)
        _rabbitmqctl("change_password", account.user, account.password)
        _rabbitmqctl("set_user_tags", account.user, "administrator")
        _rabbitmqctl("add_vhost", account.vhost, allow_failure=True)
        _rabbitmqctl("set_permissions", "-p", account.vhost, account.user, ".*", ".*", ".*")
        print(f"RabbitMQ: user {account.user} can now use vhost {account.vhost!r}")
    if management_ui:
        enable_management_ui(accounts[0])


def enable_management_ui(account: BrokerAccount) -> None:
    if _port_open(account.host, 15672):
        return
    if shutil.which("rabbitmq-plugins") is None:
        print("RabbitMQ: management UI is off and rabbitmq-plugins is not here to turn it on", file=sys.stderr)
        return
    subprocess.run(["rabbitmq-plugins", "enable", "rabbitmq_management"], capture_output=True, check=False)
    print(f"RabbitMQ: management UI enabled on http://localhost:15672 ({account.user}/{account.password})")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("profile", choices=sorted(PROFILES))
    try:
        profile = PROFILES[parser.parse_args().profile]()
        provision_postgres([db for db in profile.databases if db.backend == "postgresql"])
        provision_mysql([db for db in profile.databases if db.backend != "postgresql"])
        provision_rabbitmq(profile.rabbitmq, profile.management_ui)
    except ProvisionError as exc:
        print(f"provision: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
