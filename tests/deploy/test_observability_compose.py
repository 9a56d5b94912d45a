"""The compose profile `observability` (Prometheus, Grafana, Jaeger) and what it mounts, checked statically."""

import importlib
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.deploy.files import APP_PORTS, ROOT, environment, port_pairs

PROFILE = "observability"
OBSERVABILITY = ROOT / "deploy" / "observability"
# Container -> the ports it publishes on 127.0.0.1: the UIs, and Jaeger's OTLP/HTTP receiver.
STACK_PORTS = {"jaeger": {16686, 4318}, "prometheus": {9090}, "grafana": {3000}}
OTLP_HTTP_PORT = 4318
START_COMMAND = "OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:4318 docker compose --profile observability up -d --build"
# A released version, never a moving tag such as `latest` or a bare major.
PINNED_IMAGE = re.compile(r"[\w./-]+:v?\d+\.\d+\.\d+")


def stack(services: dict) -> dict[str, dict]:
    return {name: service for name, service in services.items() if "profiles" in service}


def bind_mounts(service: dict) -> dict[str, tuple[Path, str]]:
    """Container path -> (host path, mode) of each bind mount from the repository."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target, *mode = volume.split(":")
        if source.startswith("./"):
            mounts[target] = (ROOT / source, mode[0] if mode else "rw")
    return mounts


def host_path(service: dict, container_path: str) -> Path:
    """Where a path inside the container comes from in the repository (through its bind mount)."""
    for target, (source, _) in bind_mounts(service).items():
        if container_path == target or container_path.startswith(target + "/"):
            return source / container_path.removeprefix(target).lstrip("/")
    raise AssertionError(f"{container_path} is not mounted from the repository")


# --- the profile ---


def test_the_stack_is_prometheus_grafana_and_jaeger_only_in_the_profile(services):
    assert set(stack(services)) == set(STACK_PORTS)
    for name, service in stack(services).items():
        assert service["profiles"] == [PROFILE], name


def test_nothing_started_without_the_profile_depends_on_the_stack(services):
    for name, service in services.items():
        if name not in stack(services):
            assert not set(service.get("depends_on", {})) & set(stack(services)), name


@pytest.mark.parametrize("name", sorted(STACK_PORTS))
def test_stack_image_is_pinned_to_a_release(services, name):
    assert PINNED_IMAGE.fullmatch(services[name]["image"]), services[name]["image"]


@pytest.mark.parametrize("name", sorted(STACK_PORTS))
def test_stack_container_is_hardened_like_the_others(services, name):
    service = services[name]
    assert service["container_name"] == name
    assert service["restart"] == "unless-stopped"
    assert service["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in service["security_opt"]
    # The images run as their own non-root users: no capability, and no user override to root.
    assert "cap_add" not in service and "user" not in service
    assert service["read_only"] is True
    assert re.fullmatch(r"\d+[mg]", service["mem_limit"])
    assert isinstance(service["pids_limit"], int) and 0 < service["pids_limit"] <= 1024


@pytest.mark.parametrize("name", sorted(STACK_PORTS))
def test_stack_publishes_its_ports_on_localhost_only(services, name):
    service = services[name]
    assert port_pairs(service) == {(port, port) for port in STACK_PORTS[name]}
    assert all(str(port).startswith("127.0.0.1:") for port in service["ports"])


@pytest.mark.parametrize("name", sorted(STACK_PORTS))
def test_stack_reads_its_configuration_read_only_and_writes_only_volumes(compose, services, name):
    service = services[name]
    for target, (source, mode) in bind_mounts(service).items():
        assert mode == "ro", f"{name} may write {target}"
        assert source.exists() and OBSERVABILITY in source.parents, f"{name} mounts {source}"
    named = [volume.split(":")[0] for volume in service.get("volumes", []) if not volume.startswith("./")]
    assert set(named) <= set(compose["volumes"])


def test_prometheus_reads_the_mounted_configuration(services):
    prometheus = services["prometheus"]
    options = dict(option.removeprefix("--").split("=", 1) for option in prometheus["command"])
    config = host_path(prometheus, options["config.file"])
    assert config == OBSERVABILITY / "prometheus" / "prometheus.yml"
    for rule_file in yaml.safe_load(config.read_text())["rule_files"]:
        # Relative to the configuration, inside the container as in the repository.
        assert (config.parent / rule_file).is_file(), rule_file
    assert f"prometheus_data:{options['storage.tsdb.path']}" in prometheus["volumes"]


# --- what Prometheus scrapes ---


def scrape_jobs() -> dict[str, list[str]]:
    config = yaml.safe_load((OBSERVABILITY / "prometheus" / "prometheus.yml").read_text())
    jobs = {}
    for job in config["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics", job["job_name"]
        jobs[job["job_name"]] = [target for static in job["static_configs"] for target in static["targets"]]
    return jobs


def test_prometheus_scrapes_every_service_as_one_job_named_like_its_traces(services):
    # Each job is named as the service is, in compose and in its traces.
    expected = {name: [f"{name}:{port}"] for name, port in APP_PORTS.items()}

    assert scrape_jobs() == expected
    for name in APP_PORTS:
        assert name in services and (APP_PORTS[name], APP_PORTS[name]) in port_pairs(services[name])


@pytest.mark.parametrize("service", sorted(APP_PORTS))
def test_each_scraped_service_serves_metrics(service):
    app = importlib.import_module(f"{service}.main").app

    assert "/metrics" in {getattr(route, "path", None) for route in app.routes}


# --- tracing ---


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_each_service_traces_only_when_asked(services, name):
    raw = services[name]["environment"]
    assert raw["OTEL_EXPORTER_OTLP_ENDPOINT"] == "${OTEL_EXPORTER_OTLP_ENDPOINT:-}"
    assert environment(services[name])["OTEL_EXPORTER_OTLP_ENDPOINT"] == ""


def test_make_observability_starts_everything_with_traces_going_to_jaeger(services):
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "-C", str(ROOT), "observability"],
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == START_COMMAND
    endpoint = urlsplit(START_COMMAND.split()[0].split("=", 1)[1])
    assert endpoint.hostname in stack(services)
    assert endpoint.port == OTLP_HTTP_PORT in STACK_PORTS[endpoint.hostname]
    assert "make observability" in (ROOT / "docs" / "observability.md").read_text()


# --- Grafana's provisioning ---

PROVISIONING = "/etc/grafana/provisioning"


def provisioning_files(services: dict, kind: str) -> list[dict]:
    folder = host_path(services["grafana"], f"{PROVISIONING}/{kind}")
    files = sorted(folder.glob("*.yml")) + sorted(folder.glob("*.yaml"))
    assert files, f"nothing in {folder}"
    return [yaml.safe_load(path.read_text()) for path in files]


def test_grafana_data_sources_are_the_stacks_prometheus_and_jaeger(services):
    (datasources,) = provisioning_files(services, "datasources")
    by_type = {source["type"]: source for source in datasources["datasources"]}
    expected = {"prometheus": ("prometheus", 9090), "jaeger": ("jaeger", 16686)}

    assert set(by_type) == set(expected)
    for kind, (container, port) in expected.items():
        url = urlsplit(by_type[kind]["url"])
        assert (url.hostname, url.port) == (container, port)
        assert container in stack(services)
    assert [source["name"] for source in datasources["datasources"] if source.get("isDefault")] == ["Prometheus"]


def test_grafana_dashboards_come_from_files_that_exist(services):
    (dashboards,) = provisioning_files(services, "dashboards")
    (provider,) = dashboards["providers"]
    folder = host_path(services["grafana"], provider["options"]["path"])

    assert provider["type"] == "file"
    assert [path.name for path in folder.iterdir()] == ["task-manager.json"]
