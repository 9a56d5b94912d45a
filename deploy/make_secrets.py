"""`make secrets`: random passwords and the JWT key as files, for docker-compose.prod.yml and Kubernetes.

    python3 deploy/make_secrets.py [DIRECTORY]      (default: secrets/, git-ignored)

Writes one file per secret (its value, no line ending), and never changes a file that exists: running it again
keeps every value, and fills in only what is missing (a URL is rebuilt from the password file beside it). The
directory is made private (0700); the files in it are 0644 because compose bind-mounts each one into containers
whose users (postgres, mysql, the services' `app`) differ from yours, and a bind mount keeps the host's mode.

DIRECTORY/<name>            compose secrets (docker-compose.prod.yml), the URLs with compose service names as hosts
DIRECTORY/kubernetes/<KEY>  the Secret `task-manager-secrets` of deploy/k8s, the same passwords with in-cluster hosts:
    kubectl -n task-manager create secret generic task-manager-secrets --from-file=DIRECTORY/kubernetes/

Users and database names come from the same variables as docker-compose.yml (POSTGRES_USER, MYSQL_USER, ...),
with the same defaults. Standard library only: it runs before `make install`.
"""

import os
import secrets
import sys
from pathlib import Path

# Generated at random: URL-safe (letters, digits, - and _), since the URLs embed them as they are.
PASSWORDS = ["postgres_password", "mariadb_password", "mariadb_root_password", "notification_db_password"]
PASSWORDS += ["rabbitmq_password", "jwt_secret_key"]
# Created empty for you to fill in (or leave empty: an SMTP server without login).
EMPTY = ["smtp_password"]


def setting(name: str, default: str) -> str:
    return os.environ.get(name) or default


def urls(hosts: dict[str, str], password: dict[str, str]) -> dict[str, str]:
    """The services' connection URLs, built from the passwords (hosts: compose or Kubernetes names)."""
    postgres = f"{setting('POSTGRES_USER', 'postgres')}:{password['postgres_password']}"
    task = f"{setting('MYSQL_USER', 'taskuser')}:{password['mariadb_password']}"
    notification = f"{setting('NOTIFICATION_DB_USER', 'notifyuser')}:{password['notification_db_password']}"
    rabbitmq = f"{setting('RABBITMQ_DEFAULT_USER', 'admin')}:{password['rabbitmq_password']}"
    postgres_db = setting("POSTGRES_DB", "task_manager")
    task_db = setting("MYSQL_DATABASE", "task_manager")
    notification_db = setting("NOTIFICATION_DB_NAME", "notifications")
    return {
        "auth_database_url": f"postgresql+psycopg2://{postgres}@{hosts['postgres']}:5432/{postgres_db}",
        "task_database_url": f"mysql+pymysql://{task}@{hosts['mariadb']}:3306/{task_db}",
        "notification_database_url": f"mysql+pymysql://{notification}@{hosts['mariadb']}:3306/{notification_db}",
        # %2F is the default virtual host "/".
        "rabbitmq_url": f"amqp://{rabbitmq}@{hosts['rabbitmq']}:5672/%2F",
    }


COMPOSE_HOSTS = {"postgres": "postgres_db", "mariadb": "mysql_db", "rabbitmq": "rabbitmq"}
KUBERNETES_HOSTS = {"postgres": "postgres", "mariadb": "mariadb", "rabbitmq": "rabbitmq"}
# The Secret's keys are the variables' names; the servers' are those of their images.
KUBERNETES_KEYS = {
    "postgres_password": "POSTGRES_PASSWORD",
    "mariadb_password": "MARIADB_PASSWORD",
    "mariadb_root_password": "MARIADB_ROOT_PASSWORD",
    "notification_db_password": "NOTIFICATION_DB_PASSWORD",
    "rabbitmq_password": "RABBITMQ_DEFAULT_PASS",
    "jwt_secret_key": "JWT_SECRET_KEY",
    "smtp_password": "SMTP_PASSWORD",
    "auth_database_url": "AUTH_DATABASE_URL",
    "task_database_url": "TASK_DATABASE_URL",
    "notification_database_url": "NOTIFICATION_DATABASE_URL",
    "rabbitmq_url": "RABBITMQ_URL",
}


def keep_or_write(path: Path, value: str) -> str:
    """The file's value if it exists (never overwritten), else `value`, written."""
    if path.exists():
        return path.read_text().removesuffix("\n")
    path.write_text(value)
    path.chmod(0o644)
    print(f"created {path}")
    return value


def private_directory(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def main(directory: Path) -> None:
    compose = private_directory(directory)
    kubernetes = private_directory(directory / "kubernetes")
    values = {name: keep_or_write(compose / name, secrets.token_urlsafe(32)) for name in PASSWORDS}
    values |= {name: keep_or_write(compose / name, "") for name in EMPTY}
    for name, url in urls(COMPOSE_HOSTS, values).items():
        keep_or_write(compose / name, url)
    for name, value in (values | urls(KUBERNETES_HOSTS, values)).items():
        keep_or_write(kubernetes / KUBERNETES_KEYS[name], value)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "secrets"))
