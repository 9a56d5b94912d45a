"""Create what the default settings name on the local servers, when it is missing.

PostgreSQL: the auth database. MariaDB: the task and notification databases and their users.
RabbitMQ: the `admin` user as administrator, its virtual host, and (for development) the
management UI. Every step is idempotent. A server that cannot be reached is named, with how
to start it, and the script exits non-zero.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys

import pika
import psycopg2
import pymysql
from psycopg2 import sql

START_HINT = "start it, e.g. `docker compose up -d postgres_db mysql_db rabbitmq`"

PROFILES = {
    "dev": {
        "postgres_databases": ["task_manager"],
        "mysql_databases": {
            "task_manager": ("taskuser", "taskpassword"),
            "notifications": ("notifyuser", "notifypassword"),
        },
        "rabbitmq_vhost": "/",
        "management_ui": True,
    },
    "test": {
        # The *_migrations_test databases are scratch space where tests build schemas from nothing.
        "postgres_databases": ["task_manager_test", "auth_migrations_test"],
        "mysql_databases": {
            "task_manager_test": ("taskuser", "taskpassword"),
            "notifications_test": ("notifyuser", "notifypassword"),
            "task_migrations_test": ("taskuser", "taskpassword"),
            "notifications_migrations_test": ("notifyuser", "notifypassword"),
        },
        "rabbitmq_vhost": "task_manager_test",
        "management_ui": False,
    },
}

HOST = os.environ.get("PROVISION_HOST", "127.0.0.1")
RABBITMQ_USER, RABBITMQ_PASSWORD = "admin", "admin123"


class ProvisionError(Exception):
    pass


def provision_postgres(databases: list[str]) -> None:
    try:
        connection = psycopg2.connect(
            host=HOST,
            port=5432,
            user="postgres",
            password=os.environ.get("POSTGRES_PASSWORD", "postgres"),
            dbname="postgres",
            connect_timeout=5,
        )
    except psycopg2.OperationalError as exc:
        raise ProvisionError(f"PostgreSQL is not reachable at {HOST}:5432 ({exc}); {START_HINT}") from exc
    connection.autocommit = True
    with connection.cursor() as cursor:
        for name in databases:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"PostgreSQL: created database {name}")
    connection.close()


def _mysql_root_connection() -> pymysql.Connection:
    # Local installs use an empty root password; the compose file sets `rootpassword`.
    candidates = [os.environ.get("MYSQL_ROOT_PASSWORD", ""), "rootpassword"]
    last_error: Exception | None = None
    for password in dict.fromkeys(candidates):
        try:
            return pymysql.connect(host=HOST, port=3306, user="root", password=password, connect_timeout=5)
        except pymysql.err.OperationalError as exc:
            last_error = exc
            if exc.args and exc.args[0] != 1045:  # anything but "access denied": the server is not there
                break
    if last_error.args and last_error.args[0] == 1045:
        raise ProvisionError(
            f"MariaDB/MySQL at {HOST}:3306 refuses root ({last_error}); set MYSQL_ROOT_PASSWORD to its root password"
        )
    raise ProvisionError(f"MariaDB/MySQL is not reachable at {HOST}:3306 ({last_error}); {START_HINT}")


def provision_mysql(databases: dict[str, tuple[str, str]]) -> None:
    connection = _mysql_root_connection()
    with connection, connection.cursor() as cursor:
        for database, (user, password) in databases.items():
            cursor.execute(
                f"CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
            for host in ("%", "localhost"):
                cursor.execute("CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s", (user, host, password))
                cursor.execute(f"GRANT ALL PRIVILEGES ON `{database}`.* TO %s@%s", (user, host))
        connection.commit()


def _rabbitmq_login_works(vhost: str) -> bool:
    parameters = pika.ConnectionParameters(
        host=HOST,
        port=5672,
        virtual_host=vhost,
        credentials=pika.PlainCredentials(RABBITMQ_USER, RABBITMQ_PASSWORD),
        connection_attempts=1,
        socket_timeout=5,
    )
    try:
        pika.BlockingConnection(parameters).close()
        return True
    except pika.exceptions.AMQPError:
        return False


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((HOST, port)) == 0


def _rabbitmqctl(*args: str, allow_failure: bool = False) -> None:
    result = subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True)
    if result.returncode != 0 and not allow_failure:
        raise ProvisionError(f"rabbitmqctl {' '.join(args)} failed: {result.stderr.strip() or result.stdout.strip()}")


def provision_rabbitmq(vhost: str, management_ui: bool) -> None:
    if not _port_open(5672):
        raise ProvisionError(f"RabbitMQ is not reachable at {HOST}:5672; {START_HINT}")
    if not _rabbitmq_login_works(vhost):
        if shutil.which("rabbitmqctl") is None:
            raise ProvisionError(
                f"RabbitMQ refuses {RABBITMQ_USER}/{RABBITMQ_PASSWORD} on vhost {vhost!r} and rabbitmqctl is not "
                "installed here to create them; use the compose broker or create the user and vhost yourself"
            )
        _rabbitmqctl("add_user", RABBITMQ_USER, RABBITMQ_PASSWORD, allow_failure=True)
        _rabbitmqctl("change_password", RABBITMQ_USER, RABBITMQ_PASSWORD)
        _rabbitmqctl("set_user_tags", RABBITMQ_USER, "administrator")
        _rabbitmqctl("add_vhost", vhost, allow_failure=True)
        _rabbitmqctl("set_permissions", "-p", vhost, RABBITMQ_USER, ".*", ".*", ".*")
        print(f"RabbitMQ: user {RABBITMQ_USER} can now use vhost {vhost!r}")
    if management_ui and not _port_open(15672):
        if shutil.which("rabbitmq-plugins") is None:
            print("RabbitMQ: management UI is off and rabbitmq-plugins is not here to turn it on", file=sys.stderr)
            return
        subprocess.run(["rabbitmq-plugins", "enable", "rabbitmq_management"], capture_output=True, check=False)
        print("RabbitMQ: management UI enabled on http://localhost:15672 (admin/admin123)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", choices=sorted(PROFILES))
    profile = PROFILES[parser.parse_args().profile]
    try:
        provision_postgres(profile["postgres_databases"])
        provision_mysql(profile["mysql_databases"])
        provision_rabbitmq(profile["rabbitmq_vhost"], profile["management_ui"])
    except ProvisionError as exc:
        print(f"provision: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
