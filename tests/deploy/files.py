"""What the deployment tests share: the files' places, the services' ports, and readers for compose YAML,
Dockerfiles and .dockerignore."""

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
APP_PORTS = {"api_gateway": 8000, "auth_service": 8001, "task_service": 8002, "notification_service": 8003}
DATABASE_SERVICES = ["auth_service", "task_service", "notification_service"]
# One of the versions kubernetes-validate ships; the manifests use only stable APIs, valid from 1.25 to 1.37.
KUBERNETES_VERSION = "1.33.0"
# Keep-alive outlasts the pooled clients' 30 s; open event streams must not hold a stop forever.
# No `Server: uvicorn` banner on any answer.
UVICORN_OPTIONS = "--timeout-keep-alive 75 --timeout-graceful-shutdown 5 --no-server-header"
# `${VAR}`, `${VAR:-default}`, `${VAR-default}`; `$${...}` is an escaped dollar, not a variable.
VARIABLE = re.compile(r"(?<!\$)\$\{(\w+)(?:(:?-)([^}]*))?\}")


def strings(node: Any) -> Iterator[str]:
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


def assert_matches_compose_specification(path: Path) -> None:
    """`path` is valid against the Compose specification's JSON schema (check-jsonschema's copy)."""
    check_jsonschema = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(check_jsonschema), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
