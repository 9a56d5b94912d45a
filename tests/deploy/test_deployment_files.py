"""Static checks of docker-compose.yml, the Dockerfiles and what they reference (no Docker engine is needed)."""

import fnmatch
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy.service_settings import setting_names, settings_class

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
APP_PORTS = {"api_gateway": 8000, "auth_service": 8001, "task_service": 8002, "notification_service": 8003}
DATABASE_SERVICES = ["auth_service", "task_service", "notification_service"]
# Keep-alive outlasts the pooled clients' 30 s; open event streams must not hold a stop forever.
# No `Server: uvicorn` banner on any answer.
UVICORN_OPTIONS = "--timeout-keep-alive 75 --timeout-graceful-shutdown 5 --no-server-header"
INFRASTRUCTURE_PORTS = {"postgres_db": [5432], "mysql_db": [3306], "rabbitmq": [5672, 15672]}
# `${VAR}`, `${VAR:-default}`, `${VAR-default}`; `$${...}` is an escaped dollar, not a variable.
VARIABLE = re.compile(r"(?<!\$)\$\{(\w+)(?:(:?-)([^}]*))?\}")

# What each container gets when no `.env` overrides anything: the seed's values, with compose service names as hosts.
SEED_ENVIRONMENT = {
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


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def strings(node):
    """Every string value (and mapping key) in the loaded YAML, so comments never count."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif isinstance(node, str):
        yield node


def interpolate(value: str) -> str:
    """Compose's substitution with an empty environment: every variable takes its default."""
    return VARIABLE.sub(lambda match: match.group(3) or "", value).replace("$$", "$")


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: interpolate(str(value)) for key, value in env.items()}


def port_pairs(service: dict) -> set[tuple[int, int]]:
    """(published, container) for each port, short syntax (`[ip:]published:target[/proto]`) or long."""
    pairs = set()
    for port in service.get("ports", []):
        if isinstance(port, dict):
            pairs.add((int(port["published"]), int(port["target"])))
        else:
            parts = str(port).split("/")[0].split(":")
            pairs.add((int(parts[-2]), int(parts[-1])))
    return pairs


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, with `\\` continuations joined and comments dropped."""
    instructions, pending = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    assert not pending, f"{path}: a continuation runs off the end of the file"
    return instructions


def command_text(arguments: str) -> str:
    """CMD/HEALTHCHECK arguments as one string, from exec (JSON) form or shell form."""
    return " ".join(json.loads(arguments)) if arguments.startswith("[") else arguments


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith(("#", "!"))]


# --- docker-compose.yml ---


def test_compose_file_matches_the_compose_specification():
    check_jsonschema = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(check_jsonschema), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_seed_services_with_their_container_names(compose, services):
    assert "version" not in compose
    assert set(services) == set(SEED_ENVIRONMENT)
    for name, service in services.items():
        assert service["container_name"] == name


def test_seed_ports_are_published(services):
    for name, ports in {**INFRASTRUCTURE_PORTS, **{k: [v] for k, v in APP_PORTS.items()}}.items():
        for port in ports:
            assert (port, port) in port_pairs(services[name]), f"{name} does not publish {port}"


@pytest.mark.parametrize("name", sorted(SEED_ENVIRONMENT))
def test_defaults_are_the_seed_values(services, name):
    env = environment(services[name])
    assert env | SEED_ENVIRONMENT[name] == env


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
        "auth_service": {"postgres_db"},
        "task_service": {"mysql_db", "rabbitmq", "auth_service"},
        "notification_service": {"mysql_db", "rabbitmq", "auth_service"},
        "api_gateway": {"auth_service", "task_service", "notification_service"},
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
    given = set(environment(services[name]))

    assert given - setting_names(name) == set()


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_each_service_starts_from_the_compose_defaults(services, name, monkeypatch):
    for variable in setting_names(name):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environment(services[name]).items():
        monkeypatch.setenv(variable, value)

    settings = settings_class(name)(_env_file=None)

    assert settings.environment == "development"
