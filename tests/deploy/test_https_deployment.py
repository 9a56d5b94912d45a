"""docker-compose.https.yml (the gateway over HTTPS with a mounted certificate), checked statically."""

import re
import textwrap
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.deploy.files import (
    COMPOSE_FILE,
    KUBERNETES_VERSION,
    ROOT,
    UVICORN_OPTIONS,
    VARIABLE,
    assert_matches_compose_specification,
    dockerfile_instructions,
    dockerignore_patterns,
    environment,
    interpolate,
    port_pairs,
    strings,
)
from tests.deploy.service_settings import application_settings, setting_names

HTTPS_FILE = ROOT / "docker-compose.https.yml"
TLS_SETTINGS = {"GATEWAY_HTTPS_PORT", "GATEWAY_TLS_CERT_FILE", "GATEWAY_TLS_KEY_FILE", "HSTS_MAX_AGE_SECONDS"}


@pytest.fixture(scope="module")
def gateway() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]["api_gateway"]


@pytest.fixture(scope="module")
def https() -> dict:
    services = yaml.safe_load(HTTPS_FILE.read_text())["services"]
    assert list(services) == ["api_gateway_https"]
    return services["api_gateway_https"]


def test_the_override_matches_the_compose_specification():
    assert_matches_compose_specification(HTTPS_FILE)


def test_every_variable_has_a_default_and_is_documented():
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", example, re.MULTILINE))
    used = [match for text in strings(yaml.safe_load(HTTPS_FILE.read_text())) for match in VARIABLE.findall(text)]
    for name, operator, _ in used:
        assert operator == ":-", f"${{{name}}} has no default"
        assert name in documented, f"{name} is missing from .env.example"


def test_it_is_the_gateway_image_with_the_gateway_settings_plus_tls(gateway, https):
    assert https["build"] == gateway["build"]
    assert https["depends_on"] == gateway["depends_on"]
    assert https["container_name"] == "api_gateway_https"
    env = environment(https)
    # Whatever the plain gateway is given, this one is too (keep them in step).
    assert {k: v for k, v in env.items() if k not in TLS_SETTINGS} == environment(gateway)
    assert application_settings(env) <= setting_names("api_gateway")


def test_it_serves_tls_on_the_https_port_from_the_mounted_files(https):
    env = environment(https)
    port = int(env["GATEWAY_HTTPS_PORT"])
    command = " ".join(https["command"])

    assert command.startswith("python -m api_gateway.serve_https --host 0.0.0.0")
    assert UVICORN_OPTIONS in command
    assert port_pairs(https) == {(port, port)}
    [volume] = https["volumes"]
    source, target, mode = interpolate(volume).split(":")
    assert source == "./tls"
    assert mode == "ro"
    for name in ("GATEWAY_TLS_CERT_FILE", "GATEWAY_TLS_KEY_FILE"):
        assert Path(env[name]).parent == Path(target)
    assert f"https://127.0.0.1:{port}/health" in " ".join(https["healthcheck"]["test"])


def test_the_launcher_is_in_the_gateway_image():
    copies = [
        value for keyword, value in dockerfile_instructions(ROOT / "api_gateway" / "Dockerfile") if keyword == "COPY"
    ]

    assert "api_gateway /app/api_gateway" in copies
    assert (ROOT / "api_gateway" / "serve_https.py").is_file()


def test_certificates_and_keys_stay_out_of_git_and_the_images():
    ignored = (ROOT / ".gitignore").read_text().splitlines()

    assert {"certs/", "tls/"} <= set(ignored)
    assert {"certs", "tls"} <= set(dockerignore_patterns())


def kubernetes_snippets() -> list:
    """The YAML blocks of docs/operations.md's "Kubernetes with a real certificate", parsed."""
    text = (ROOT / "docs" / "operations.md").read_text()
    section = text.split("### Kubernetes with a real certificate", 1)[1].split("\n## ", 1)[0]
    blocks = [block.split("```", 1)[0] for block in section.split("```yaml\n")[1:]]
    return [yaml.safe_load(textwrap.dedent(block)) for block in blocks]


def test_the_documented_kubernetes_tls_objects_match_the_schema():
    ingress, [container], [volume] = kubernetes_snippets()
    kubernetes_validate.validate(ingress, KUBERNETES_VERSION, strict=True)
    assert ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"] == {
        "name": "api-gateway",
        "port": {"number": 8000},
    }

    # The gateway's Deployment as shipped, with the documented container and volume added.
    documents = list(yaml.safe_load_all((ROOT / "deploy" / "k8s" / "23-api-gateway.yaml").read_text()))
    [deployment] = [document for document in documents if document["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    container["env"] = pod["containers"][0]["env"] + container["env"]
    pod["containers"].append(container)
    pod["volumes"].append(volume)
    kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)

    env = {variable["name"]: variable["value"] for variable in container["env"] if "value" in variable}
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    assert Path(env["GATEWAY_TLS_CERT_FILE"]).parent == Path(mounts[volume["name"]])
    assert Path(env["GATEWAY_TLS_KEY_FILE"]).parent == Path(mounts[volume["name"]])
    assert application_settings(variable["name"] for variable in container["env"]) <= setting_names("api_gateway")
    assert UVICORN_OPTIONS in " ".join(container["command"])
    assert container["ports"] == [{"name": "https", "containerPort": 8443}]
