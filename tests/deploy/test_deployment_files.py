"""Static checks of docker-compose.yml, the Dockerfiles and what they reference (no Docker engine is needed)."""

import fnmatch
import json
import os
import re
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from pydantic_settings import SettingsError

from tests.deploy.files import (
    APP_PORTS,
    COMPOSE_FILE,
    DATABASE_SERVICES,
    ROOT,
    UVICORN_OPTIONS,
    VARIABLE,
    assert_matches_compose_specification,
    command_text,
    dockerfile_instructions,
    dockerignore_patterns,
    environment,
    port_pairs,
    strings,
)
from tests.deploy.service_settings import application_settings, env_name, setting_names, settings_class

INFRASTRUCTURE_PORTS = {"postgres_db": [5432], "mysql_db": [3306], "rabbitmq": [5672, 15672], "redis": [6379]}
# The seven original containers, and the one added beside them.
ADDED_SERVICES = {"redis"}
# The services that read REDIS_URL (token revocations, rate-limit counters) and are given the compose Redis.
REDIS_CLIENTS = ["auth_service", "task_service", "notification_service", "api_gateway"]
# What each container gets when no `.env` overrides anything: the documented default credentials and settings
# (docs/configuration.md), with compose service names as hosts.
DEFAULT_ENVIRONMENT = {
    "postgres_db": {"POSTGRES_DB": "task_manager", "POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "postgres"},
    "mysql_db": {
        "MARIADB_DATABASE": "task_manager",
        "MARIADB_USER": "taskuser",
        "MARIADB_PASSWORD": "taskpassword",
        "MARIADB_ROOT_PASSWORD": "rootpassword",
    },
    "rabbitmq": {"RABBITMQ_DEFAULT_USER": "admin", "RABBITMQ_DEFAULT_PASS": "admin123"},
    "auth_service": {
        "ENVIRONMENT": "development",
        "AUTH_DATABASE_URL": "postgresql+psycopg2://postgres:postgres@postgres_db:5432/task_manager",
        "JWT_SECRET_KEY": "your-super-secret-key-change-this-in-production-123456789",
        "ACCESS_TOKEN_EXPIRE_MINUTES": "30",
    },
    "task_service": {
        "ENVIRONMENT": "development",
        "TASK_DATABASE_URL": "mysql+pymysql://taskuser:taskpassword@mysql_db:3306/task_manager",
        "AUTH_SERVICE_URL": "http://auth_service:8001",
        "RABBITMQ_URL": "amqp://admin:admin123@rabbitmq:5672/%2F",
    },
    "notification_service": {
        "ENVIRONMENT": "development",
        "NOTIFICATION_DATABASE_URL": "mysql+pymysql://notifyuser:notifypassword@mysql_db:3306/notifications",
        "AUTH_SERVICE_URL": "http://auth_service:8001",
        "RABBITMQ_URL": "amqp://admin:admin123@rabbitmq:5672/%2F",
        "NOTIFICATION_LOG_FILE": "/app/logs/notifications.log",
        "ENABLE_EMAIL_NOTIFICATIONS": "false",
    },
    "api_gateway": {
        "ENVIRONMENT": "development",
        "AUTH_SERVICE_URL": "http://auth_service:8001",
        "TASK_SERVICE_URL": "http://task_service:8002",
        "NOTIFICATION_SERVICE_URL": "http://notification_service:8003",
    },
}


# --- docker-compose.yml ---


def test_compose_file_matches_the_compose_specification():
    assert_matches_compose_specification(COMPOSE_FILE)


def test_the_original_services_keep_their_container_names(compose, services):
    assert "version" not in compose
    # The monitoring stack (profile `observability`) comes on top: tests/deploy/test_observability_compose.py.
    always_started = {name for name, service in services.items() if "profiles" not in service}
    assert always_started == set(DEFAULT_ENVIRONMENT) | ADDED_SERVICES
    for name, service in services.items():
        assert service["container_name"] == name


def test_the_documented_ports_are_published(services):
    for name, ports in {**INFRASTRUCTURE_PORTS, **{k: [v] for k, v in APP_PORTS.items()}}.items():
        for port in ports:
            assert (port, port) in port_pairs(services[name]), f"{name} does not publish {port}"


@pytest.mark.parametrize("name", sorted(DEFAULT_ENVIRONMENT))
def test_defaults_are_the_documented_values(services, name):
    env = environment(services[name])
    assert env | DEFAULT_ENVIRONMENT[name] == env


def test_depends_on_waits_for_healthy_services(services):
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs the long form with a condition"
        for target, options in depends_on.items():
            assert target in services, f"{name} depends on undefined {target}"
            assert options.get("condition") == "service_healthy", f"{name} -> {target}"
            target_service = services[target]
            if "healthcheck" not in target_service:
                dockerfile = ROOT / target_service["build"]["context"] / target_service["build"]["dockerfile"]
                instructions = [keyword for keyword, _ in dockerfile_instructions(dockerfile)]
                assert "HEALTHCHECK" in instructions, f"{target} has no health check for {name} to wait on"


def test_app_dependencies(services):
    expected = {
        "auth_service": {"postgres_db", "redis"},
        "task_service": {"mysql_db", "rabbitmq", "auth_service", "redis"},
        "notification_service": {"mysql_db", "rabbitmq", "auth_service", "redis"},
        "api_gateway": {"auth_service", "task_service", "notification_service", "redis"},
    }
    for name, dependencies in expected.items():
        assert set(services[name]["depends_on"]) == dependencies


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_app_is_built_from_the_repository_root(services, name):
    service = services[name]
    assert service["build"] == {"context": ".", "dockerfile": f"{name}/Dockerfile"}
    assert (ROOT / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
    assert service["restart"] == "unless-stopped"


def test_notification_log_is_bind_mounted(services):
    assert "./notification_logs:/app/logs" in services["notification_service"]["volumes"]
    assert (ROOT / "notification_logs").is_dir()


def test_named_volumes_are_declared(compose, services):
    declared = set(compose.get("volumes") or {})
    assert {"postgres_data", "mysql_data", "rabbitmq_data"} <= declared
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith((".", "/", "~")):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in declared, f"{name} uses undeclared volume {source}"


def test_every_variable_has_a_default_and_is_documented(compose):
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", example, re.MULTILINE))
    used = [match for text in strings(compose) for match in VARIABLE.findall(text)]
    assert used, "no ${VAR:-default} in docker-compose.yml"
    for name, operator, _ in used:
        assert operator == ":-", f"${{{name}}} has no default: the file must work without a .env"
        assert name in documented, f"{name} is missing from .env.example"


def test_rabbitmq_has_a_fixed_hostname(services):
    assert services["rabbitmq"]["hostname"] == "rabbitmq"


def test_mysql_init_script_creates_the_notification_database(services):
    mysql = services["mysql_db"]
    assert "./deploy/mysql-init:/docker-entrypoint-initdb.d:ro" in mysql["volumes"]
    script = ROOT / "deploy" / "mysql-init" / "01-notifications.sh"
    # The MariaDB entrypoint runs an executable *.sh and sources any other *.sh: either way it runs.
    assert script.suffix == ".sh"
    assert subprocess.run(["sh", "-n", str(script)]).returncode == 0
    text = script.read_text()
    for variable in ("NOTIFICATION_DB_NAME", "NOTIFICATION_DB_USER", "NOTIFICATION_DB_PASSWORD"):
        assert variable in text
        assert variable in mysql["environment"]
    assert "GRANT ALL PRIVILEGES" in text


# --- Dockerfiles ---


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_dockerfile(name):
    port = APP_PORTS[name]
    instructions = dockerfile_instructions(ROOT / name / "Dockerfile")
    keywords = [keyword for keyword, _ in instructions]
    arguments = {keyword: value for keyword, value in instructions}  # the last of each kind

    assert instructions[0] == ("FROM", "python:3.11-slim")
    assert arguments["EXPOSE"] == str(port)
    assert f"127.0.0.1:{port}/health" in command_text(arguments["HEALTHCHECK"].split(" CMD ", 1)[1])

    users = [value for keyword, value in instructions[: keywords.index("CMD")] if keyword == "USER"]
    assert users, "the image runs as root"
    assert users[-1].split(":")[0] not in ("root", "0")

    for keyword, value in instructions:
        if keyword in ("COPY", "ADD") and "--from=" not in value:
            sources = [part for part in value.split() if not part.startswith("--")][:-1]
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the build context"
                ignored = [pattern for pattern in dockerignore_patterns() if fnmatch.fnmatch(source, pattern)]
                assert not ignored, f"COPY {source} is excluded by .dockerignore {ignored}"

    command = command_text(arguments["CMD"])
    uvicorn = f"uvicorn {name}.main:app --host 0.0.0.0 --port {port}"
    assert uvicorn in command
    assert UVICORN_OPTIONS in command
    if name in DATABASE_SERVICES:
        migrate = f"alembic -c {name}/alembic.ini upgrade head"
        assert (ROOT / name / "alembic.ini").is_file()
        assert f"{migrate} && exec {uvicorn}" in command
    else:
        assert "alembic" not in command


@pytest.mark.parametrize(("name", "port"), APP_PORTS.items())
def test_make_dev_runs_each_service_on_its_port_with_the_same_options(name, port):
    lines = (ROOT / "Procfile").read_text().splitlines()
    [line] = [line for line in lines if f"uvicorn {name}.main:app" in line]

    assert f"--port {port} {UVICORN_OPTIONS}" in line


def test_notification_image_owns_its_log_directory():
    instructions = dockerfile_instructions(ROOT / "notification_service" / "Dockerfile")
    runs = [value for keyword, value in instructions if keyword == "RUN"]
    assert any("/app/logs" in run and "chown app" in run for run in runs)


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_compose_gives_each_service_only_settings_it_reads(services, name):
    assert application_settings(environment(services[name])) - setting_names(name) == set()


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_each_service_starts_from_the_compose_defaults(services, name, monkeypatch):
    for variable in setting_names(name):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environment(services[name]).items():
        monkeypatch.setenv(variable, value)

    settings = settings_class(name)(_env_file=None)

    assert settings.environment == "development"


# --- exposure and hardening ---

PRODUCTION_FILE = ROOT / "docker-compose.prod.yml"
# What the server images' entrypoints need to hand their data directory to their own user, and nothing more.
SERVER_CAPABILITIES = {"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"}
# The notification entrypoint's: hand the log directory over, then switch to its owner.
NOTIFICATION_CAPABILITIES = {"CHOWN", "SETGID", "SETUID"}


def host_addresses(service: dict) -> list[str | None]:
    """The host address each port is published on (None: every interface)."""
    addresses = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            addresses.append(port.get("host_ip"))
        else:
            parts = str(port).split("/")[0].split(":")
            addresses.append(":".join(parts[:-2]) or None)
    return addresses


def test_only_the_gateway_is_published_beyond_localhost(services):
    for name, service in services.items():
        addresses = host_addresses(service)
        assert addresses, f"{name} publishes nothing"
        if name == "api_gateway":
            assert addresses == [None]
        else:
            assert set(addresses) == {"127.0.0.1"}, f"{name} is published on {addresses}"


@pytest.mark.parametrize("name", sorted(DEFAULT_ENVIRONMENT) + sorted(ADDED_SERVICES))
def test_container_drops_capabilities_and_has_limits(services, name):
    service = services[name]
    assert service["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in service["security_opt"]
    assert re.fullmatch(r"\d+[mg]", service["mem_limit"])
    assert isinstance(service["pids_limit"], int) and 0 < service["pids_limit"] <= 1024
    added = set(service.get("cap_add", []))
    if name in INFRASTRUCTURE_PORTS and name != "redis":
        assert added == SERVER_CAPABILITIES
    elif name == "notification_service":
        assert added == NOTIFICATION_CAPABILITIES
    else:
        assert added == set(), f"{name} needs no capability"


@pytest.mark.parametrize("name", [*sorted(APP_PORTS), "redis"])
def test_app_runs_on_a_read_only_root_filesystem(services, name):
    service = services[name]
    assert service["read_only"] is True
    # The only places it writes: a tmpfs, and for the notification service its log's bind mount.
    writable = {entry.split(":")[0] for entry in service["tmpfs"]}
    assert writable == ({"/data"} if name == "redis" else {"/tmp"})
    mounts = [volume.split(":") for volume in service.get("volumes", [])]
    assert all(len(mount) == 3 and mount[2] == "ro" for mount in mounts if mount[1] != "/app/logs")


def test_only_the_notification_service_starts_as_root_and_only_for_its_entrypoint(services):
    for name in APP_PORTS:
        assert services[name].get("user") == ("0:0" if name == "notification_service" else None)
    instructions = dockerfile_instructions(ROOT / "notification_service" / "Dockerfile")
    arguments = {keyword: value for keyword, value in instructions}
    assert json.loads(arguments["ENTRYPOINT"]) == ["sh", "/app/notification_service/docker-entrypoint.sh"]
    script = ROOT / "notification_service" / "docker-entrypoint.sh"
    assert subprocess.run(["sh", "-n", str(script)]).returncode == 0
    text = script.read_text()
    # Every way out runs the command: as a non-root caller unchanged, as root only through setpriv to another uid.
    assert [line.strip() for line in text.splitlines() if line.strip().startswith("exec ")] == [
        'exec "$@"',
        'exec setpriv --reuid="$owner" --regid="$group" --clear-groups --inh-caps=-all -- "$@"',
    ]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root, as in the container")
def test_notification_entrypoint_runs_as_the_log_directorys_owner():
    # Outside pytest's private tmp directory, which the other user could not enter.
    with tempfile.TemporaryDirectory() as directory:
        os.chmod(directory, 0o755)
        check_entrypoint_as_owner(Path(directory) / "logs")


def check_entrypoint_as_owner(logs: Path) -> None:
    logs.mkdir()
    os.chown(logs, 4321, 4322)
    (logs / "notifications.log").write_text("from an earlier run as uid 1000\n")
    os.chown(logs / "notifications.log", 1000, 1000)
    script = ROOT / "notification_service" / "docker-entrypoint.sh"
    env = {"PATH": os.environ["PATH"], "NOTIFICATION_LOG_FILE": str(logs / "notifications.log")}
    command = 'id -u; id -g; grep CapEff /proc/self/status; touch "$NOTIFICATION_LOG_FILE"'

    result = subprocess.run(["sh", str(script), "sh", "-c", command], env=env, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["4321", "4322", "CapEff:", "0000000000000000"]
    assert (logs / "notifications.log").stat().st_uid == 4321  # the host user's file


def test_redis_is_local_healthy_and_keeps_nothing(services):
    redis = services["redis"]
    assert redis["image"] == "redis:7-alpine"
    assert redis["container_name"] == "redis"
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert redis["command"] == ["redis-server", "--save", "", "--appendonly", "no"]
    assert "volumes" not in redis
    assert redis["user"] == "redis"


@pytest.mark.parametrize("name", REDIS_CLIENTS)
def test_services_that_read_redis_get_the_compose_redis(services, name):
    assert environment(services[name])["REDIS_URL"] == "redis://redis:6379/0"
    assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}


# --- docker-compose.prod.yml: Docker secrets and production mode ---


@pytest.fixture(scope="module")
def production() -> dict:
    return yaml.safe_load(PRODUCTION_FILE.read_text())


def merged_environment(services: dict, production: dict, name: str) -> dict[str, str]:
    """What `-f docker-compose.yml -f docker-compose.prod.yml` gives the container (compose merges by key)."""
    return environment(services[name]) | environment(production["services"].get(name, {}))


def run_make_secrets(directory: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "secrets", f"SECRETS_DIR={directory}"],
        capture_output=True,
        text=True,
        check=True,
    )


def test_production_file_matches_the_compose_specification():
    assert_matches_compose_specification(PRODUCTION_FILE)


def test_production_overrides_only_existing_services_and_declares_its_secrets(services, production):
    assert set(production["services"]) <= set(services)
    declared = production["secrets"]
    for name, secret in declared.items():
        assert secret == {"file": f"./secrets/{name}"}
    used = {secret for service in production["services"].values() for secret in service.get("secrets", [])}
    assert used == set(declared)
    assert "/secrets/" in (ROOT / ".gitignore").read_text().splitlines()


def secret_paths(production: dict, name: str) -> dict[str, str]:
    """`<NAME>_FILE` variables of one service -> the secret each names (which the service must be given)."""
    env = environment(production["services"][name])
    given = production["services"][name].get("secrets", [])
    paths = {}
    for variable, path in env.items():
        if variable.endswith("_FILE"):
            secret = path.removeprefix("/run/secrets/")
            assert secret in given, f"{name}: {variable} names {path}, a secret it is not given"
            assert env[variable.removesuffix("_FILE")] == "", f"{name}: blank {variable.removesuffix('_FILE')}"
            paths[variable] = secret
    return paths


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_production_runs_each_service_in_production_mode_with_secrets_from_files(services, production, name):
    env = merged_environment(services, production, name)
    assert env["ENVIRONMENT"] == "production"
    settings = settings_class(name)
    paths = secret_paths(production, name)
    for field_name in settings.development_defaults:
        assert {f"{variable}_FILE" for variable in env_name(settings, field_name)} & set(paths), field_name
    # Every variable that holds a password in development is blanked, so no default reaches the service.
    for variable, value in environment(services[name]).items():
        if re.search(r"://[^/@]*:[^/@]+@", value):
            assert env[variable] == "" and f"{variable}_FILE" in paths, f"{name}: {variable} keeps a password"


def test_production_gives_the_servers_their_passwords_as_files(services, production):
    for name, variables in {
        "postgres_db": ["POSTGRES_PASSWORD"],
        "mysql_db": ["MARIADB_PASSWORD", "MARIADB_ROOT_PASSWORD", "NOTIFICATION_DB_PASSWORD"],
        "rabbitmq": ["RABBITMQ_DEFAULT_PASS"],
    }.items():
        paths = secret_paths(production, name)
        assert {f"{variable}_FILE" for variable in variables} == set(paths), name
    # The MariaDB init script reads NOTIFICATION_DB_PASSWORD_FILE; RabbitMQ's wrapper reads its file, then runs
    # the image's own entrypoint.
    assert "NOTIFICATION_DB_PASSWORD_FILE" in (ROOT / "deploy" / "mysql-init" / "01-notifications.sh").read_text()
    entrypoint = production["services"]["rabbitmq"]["entrypoint"]
    assert entrypoint[:2] == ["sh", "-c"]
    assert 'cat "$$RABBITMQ_DEFAULT_PASS_FILE"' in entrypoint[2]
    assert entrypoint[2].endswith("exec docker-entrypoint.sh rabbitmq-server")


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_each_service_starts_in_production_from_make_secrets(services, production, name, tmp_path, monkeypatch):
    run_make_secrets(tmp_path)
    for variable in setting_names(name):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in merged_environment(services, production, name).items():
        monkeypatch.setenv(variable, value.replace("/run/secrets/", f"{tmp_path}/"))

    settings = settings_class(name)(_env_file=None)

    assert settings.environment == "production"


@pytest.mark.parametrize("name", ["auth_service", "task_service", "notification_service"])
def test_each_service_refuses_to_start_without_its_secret_files(services, production, name, tmp_path, monkeypatch):
    for variable in setting_names(name):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in merged_environment(services, production, name).items():
        monkeypatch.setenv(variable, value.replace("/run/secrets/", f"{tmp_path}/"))

    with pytest.raises(SettingsError, match=r"_FILE=.*: cannot read the file"):
        settings_class(name)(_env_file=None)


# --- make secrets ---


def test_make_secrets_creates_random_private_files_and_keeps_them(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    run_make_secrets(first)
    files = {path.relative_to(first): path.read_text() for path in first.rglob("*") if path.is_file()}

    again = run_make_secrets(first)
    run_make_secrets(second)

    assert again.stdout.strip().endswith("secrets.py " + str(first)), "nothing created the second time"
    assert {path.relative_to(first): path.read_text() for path in first.rglob("*") if path.is_file()} == files
    assert (first / "jwt_secret_key").read_text() != (second / "jwt_secret_key").read_text()
    assert len((first / "jwt_secret_key").read_text()) >= 32
    assert stat.S_IMODE(first.stat().st_mode) == stat.S_IMODE((first / "kubernetes").stat().st_mode) == 0o700
    production = yaml.safe_load(PRODUCTION_FILE.read_text())
    assert {name for name in production["secrets"]} == {path.name for path in first.iterdir() if path.is_file()}


def test_make_secrets_fills_in_only_what_is_missing(tmp_path):
    run_make_secrets(tmp_path)
    password = (tmp_path / "mariadb_password").read_text()
    key = (tmp_path / "jwt_secret_key").read_text()
    (tmp_path / "task_database_url").unlink()
    (tmp_path / "kubernetes" / "TASK_DATABASE_URL").unlink()

    run_make_secrets(tmp_path)

    assert (tmp_path / "jwt_secret_key").read_text() == key
    assert (
        tmp_path / "task_database_url"
    ).read_text() == f"mysql+pymysql://taskuser:{password}@mysql_db:3306/task_manager"
    kubernetes_url = (tmp_path / "kubernetes" / "TASK_DATABASE_URL").read_text()
    assert kubernetes_url == f"mysql+pymysql://taskuser:{password}@mariadb:3306/task_manager"
