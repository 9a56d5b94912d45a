"""Static checks of the Kubernetes manifests in deploy/k8s (no cluster is needed).

The schemas come from the kubernetes-validate package, offline; the rest checks what a schema cannot: that
Services reach their pods, that every reference resolves, and that each service gets exactly the settings it reads.
"""

import base64
import importlib.util
import re
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import all_versions
from pydantic import ValidationError
from pydantic_settings import SettingsError

from common.migrations import LOCK_TIMEOUT_SECONDS
from tests.deploy.files import APP_PORTS, DATABASE_SERVICES, KUBERNETES_VERSION, ROOT
from tests.deploy.service_settings import application_settings, env_name, setting_names, settings_class

MANIFESTS = ROOT / "deploy" / "k8s"
NAMESPACE = "task-manager"
# The gateway's /health reports every service behind it, so it would take the whole API out of the load balancer
# whenever one service is down: its readiness is the process alone.
READINESS_PATHS = {
    "api_gateway": "/metrics",
    "auth_service": "/health",
    "task_service": "/health",
    "notification_service": "/health",
}
APP_USER_ID = 1000  # `useradd --uid 1000` in every service's Dockerfile
# StatefulSet -> (the compose service it mirrors, where its volume is mounted).
SERVERS = {
    "postgres": ("postgres_db", "/var/lib/postgresql/data"),
    "mariadb": ("mysql_db", "/var/lib/mysql"),
    "rabbitmq": ("rabbitmq", "/var/lib/rabbitmq"),
}
# A connection URL in the Secret and the server settings it must agree with: (user, password, database/vhost).
CREDENTIALS = {
    "AUTH_DATABASE_URL": ("postgres", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"),
    "TASK_DATABASE_URL": ("mariadb", "MARIADB_USER", "MARIADB_PASSWORD", "MARIADB_DATABASE"),
    "NOTIFICATION_DATABASE_URL": (
        "mariadb",
        "NOTIFICATION_DB_USER",
        "NOTIFICATION_DB_PASSWORD",
        "NOTIFICATION_DB_NAME",
    ),
    "RABBITMQ_URL": ("rabbitmq", "RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS", None),
}


# The Secret is not shipped: `make k8s-secret` creates it from deploy/make_secrets.py's files. The checks below read
# the one that script writes, as a cluster would hold it.
SECRET_NAME = "task-manager-secrets"
SECRET_MOUNT = "/run/secrets/task-manager"


def load_make_secrets():
    spec = importlib.util.spec_from_file_location("make_secrets", ROOT / "deploy" / "make_secrets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generated_secret() -> dict[str, str]:
    with tempfile.TemporaryDirectory(prefix="k8s-secret-") as directory:
        load_make_secrets().main(Path(directory))
        return {path.name: path.read_text() for path in (Path(directory) / "kubernetes").iterdir()}


GENERATED_SECRET = generated_secret()


def load_documents() -> list[tuple[str, dict]]:
    return [
        (path.name, document)
        for path in sorted(MANIFESTS.glob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
        if document
    ]


DOCUMENTS = load_documents()
OBJECTS = [document for _, document in DOCUMENTS]


def objects(kind: str) -> dict[str, dict]:
    return {item["metadata"]["name"]: item for item in OBJECTS if item["kind"] == kind}


WORKLOADS = {**objects("Deployment"), **objects("StatefulSet")}


def kebab(service: str) -> str:
    return service.replace("_", "-")


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def pod_labels(workload: dict) -> dict:
    return workload["spec"]["template"]["metadata"]["labels"]


def containers(workload: dict) -> list[dict]:
    spec = pod_spec(workload)
    return spec.get("initContainers", []) + spec["containers"]


def app_container(service: str) -> dict:
    (container,) = pod_spec(WORKLOADS[kebab(service)])["containers"]
    return container


def data_of(kind: str, name: str) -> dict[str, str]:
    if (kind, name) == ("Secret", SECRET_NAME):
        return dict(GENERATED_SECRET)
    item = objects(kind)[name]
    data = dict(item.get("data") or {})
    if kind == "Secret":
        data = {key: base64.b64decode(value).decode() for key, value in data.items()}
        data |= item.get("stringData") or {}
    return data


def config(key: str) -> str:
    return data_of("ConfigMap", "task-manager-config")[key]


def secret(key: str) -> str:
    return data_of("Secret", "task-manager-secrets")[key]


def key_reference(entry: dict) -> tuple[str, str, str] | None:
    """(kind, name, key) when an `env` entry takes its value from a ConfigMap or Secret key."""
    value_from = entry.get("valueFrom", {})
    for field, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
        if field in value_from:
            return kind, value_from[field]["name"], value_from[field]["key"]
    return None


def object_reference(source: dict) -> tuple[str, str]:
    """(kind, name) of an `envFrom` source or a volume that reads a whole ConfigMap or Secret."""
    if "configMapRef" in source or "configMap" in source:
        return "ConfigMap", (source.get("configMapRef") or source["configMap"])["name"]
    return "Secret", source["secretRef"]["name"] if "secretRef" in source else source["secret"]["secretName"]


def references(workload: dict):
    """(kind, name, key or None) of every ConfigMap and Secret the pod reads."""
    for container in containers(workload):
        for source in container.get("envFrom", []):
            yield *object_reference(source), None
        for entry in container.get("env", []):
            if key_reference(entry):
                yield key_reference(entry)
    for volume in pod_spec(workload).get("volumes", []):
        if {"configMap", "secret"} & set(volume):
            yield *object_reference(volume), None
            for item in (volume.get("secret") or volume.get("configMap")).get("items", []):
                yield *object_reference(volume), item["key"]


def environment(container: dict) -> dict[str, str]:
    """What the container's environment holds, references resolved (downward-API values left out)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env |= {source.get("prefix", "") + key: value for key, value in data_of(*object_reference(source)).items()}
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = entry["value"]
        elif reference := key_reference(entry):
            kind, name, key = reference
            env[entry["name"]] = data_of(kind, name)[key]
    return env


def container_port(workload: dict, port: int | str) -> int:
    """A probe's or Service's port (a number or a container port's name) as a number the pod declares."""
    declared = {p.get("name"): p["containerPort"] for c in pod_spec(workload)["containers"] for p in c.get("ports", [])}
    assert port in declared or port in declared.values(), f"port {port} is not declared by the pod"
    return declared.get(port, port)


# --- every document ---


def test_directory_holds_only_manifests_and_their_readme():
    # `kubectl apply -f deploy/k8s/` applies every .yaml, .yml and .json there: all of them must be checked here.
    assert {path.suffix for path in MANIFESTS.iterdir() if path.name != "README.md"} == {".yaml"}


def test_pinned_kubernetes_version_is_shipped():
    assert KUBERNETES_VERSION in all_versions()


@pytest.mark.parametrize(
    "document", OBJECTS, ids=[f"{file}:{doc['kind']}/{doc['metadata']['name']}" for file, doc in DOCUMENTS]
)
def test_document_matches_the_kubernetes_schema(document):
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_everything_is_in_the_namespace():
    (namespace,) = objects("Namespace").values()
    assert namespace["metadata"]["name"] == NAMESPACE
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for item in OBJECTS:
        if item["kind"] != "Namespace":
            assert item["metadata"].get("namespace") == NAMESPACE, f"{item['kind']}/{item['metadata']['name']}"
    kinds_and_names = [(item["kind"], item["metadata"]["name"]) for item in OBJECTS]
    assert len(kinds_and_names) == len(set(kinds_and_names)), "an object is defined twice"


# --- the four services ---


@pytest.mark.parametrize("service", sorted(APP_PORTS))
def test_app_runs_replicas_of_its_image(service):
    deployment = objects("Deployment")[kebab(service)]
    container = app_container(service)
    assert deployment["spec"]["replicas"] >= 2
    assert container["image"] == f"task-manager/{kebab(service)}:1.0.0"
    assert all(init["image"] == container["image"] for init in pod_spec(deployment).get("initContainers", []))
    # The image's own CMD applies the migrations before uvicorn starts.
    assert "command" not in container and "args" not in container
    assert [port["containerPort"] for port in container["ports"]] == [APP_PORTS[service]]


@pytest.mark.parametrize("service", sorted(APP_PORTS))
def test_app_probes(service):
    deployment, container = WORKLOADS[kebab(service)], app_container(service)
    probes = {kind: container[f"{kind}Probe"] for kind in ("startup", "readiness", "liveness")}
    for probe in probes.values():
        assert container_port(deployment, probe["httpGet"]["port"]) == APP_PORTS[service]
    assert probes["readiness"]["httpGet"]["path"] == READINESS_PATHS[service]
    # /metrics needs no database: an outage must not get every pod restarted.
    assert probes["liveness"]["httpGet"]["path"] == "/metrics"
    assert probes["startup"]["httpGet"]["path"] == "/metrics"
    if service in DATABASE_SERVICES:
        startup = probes["startup"]
        assert startup["periodSeconds"] * startup["failureThreshold"] > LOCK_TIMEOUT_SECONDS, "no time to migrate"


@pytest.mark.parametrize("service", sorted(APP_PORTS))
def test_app_runs_as_the_image_user_on_a_read_only_filesystem(service):
    deployment = WORKLOADS[kebab(service)]
    security = pod_spec(deployment)["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == APP_USER_ID
    volumes = {volume["name"]: volume for volume in pod_spec(deployment)["volumes"]}
    for container in containers(deployment):
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert {"requests", "limits"} <= set(container["resources"])
        mounts = {mount["mountPath"]: volumes[mount["name"]] for mount in container.get("volumeMounts", [])}
        assert "emptyDir" in mounts["/tmp"]


def test_notification_log_directory_is_writable():
    container = app_container("notification_service")
    volumes = {volume["name"]: volume for volume in pod_spec(WORKLOADS["notification-service"])["volumes"]}
    mounts = {mount["mountPath"]: volumes[mount["name"]] for mount in container["volumeMounts"]}
    log_directory = str(Path(environment(container)["NOTIFICATION_LOG_FILE"]).parent)
    assert "emptyDir" in mounts[log_directory]


@pytest.mark.parametrize("service", sorted(APP_PORTS))
def test_app_has_a_disruption_budget(service):
    budget = objects("PodDisruptionBudget")[kebab(service)]
    deployment = WORKLOADS[kebab(service)]
    assert budget["spec"]["minAvailable"] == 1 < deployment["spec"]["replicas"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels(deployment).items()


@pytest.mark.parametrize("service", sorted(APP_PORTS))
def test_app_gets_only_settings_it_reads(service):
    readable = setting_names(service)
    for container in containers(WORKLOADS[kebab(service)]):
        unknown = application_settings(environment(container)) - readable
        assert not unknown, f"{container['name']}: {service} reads no {sorted(unknown)}"


@pytest.mark.parametrize("service", sorted(APP_PORTS))
def test_app_gets_every_development_secret_replaced_from_a_secret_file(service):
    settings = settings_class(service)
    env = environment(app_container(service))
    for field_name in settings.development_defaults:
        (variable,) = env_name(settings, field_name)
        assert variable not in env, f"{service}: {variable} should come as a file"
        assert env[f"{variable}_FILE"] == f"{SECRET_MOUNT}/{variable}"


def secret_files(tmp_path: Path, secret: dict[str, str]) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    for key, value in secret.items():
        (tmp_path / key).write_text(value)
    return tmp_path


def load_settings(service: str, monkeypatch, secret_directory: Path):
    """The service's Settings from the container's environment, the Secret's files under secret_directory."""
    for name in setting_names(service):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment(app_container(service)).items():
        monkeypatch.setenv(name, value.replace(SECRET_MOUNT, str(secret_directory)))
    return settings_class(service)(_env_file=None)


@pytest.mark.parametrize("service", sorted(APP_PORTS))
def test_app_starts_in_production_from_the_generated_secret(service, monkeypatch, tmp_path):
    settings = load_settings(service, monkeypatch, secret_files(tmp_path, GENERATED_SECRET))
    assert settings.environment == "production"


@pytest.mark.parametrize("service", sorted(DATABASE_SERVICES))
def test_app_refuses_development_defaults_and_a_missing_secret(service, monkeypatch, tmp_path):
    settings = settings_class(service)
    development = {
        env_name(settings, field)[0]: str(settings.model_fields[field].default)
        for field in settings.development_defaults
    }
    with pytest.raises(ValidationError, match="development defaults"):
        load_settings(service, monkeypatch, secret_files(tmp_path / "dev", GENERATED_SECRET | development))
    with pytest.raises(SettingsError, match="_FILE="):
        load_settings(service, monkeypatch, tmp_path / "absent")


def test_build_instructions_name_each_dockerfile_and_image():
    for service in APP_PORTS:
        (file,) = {name for name, doc in DOCUMENTS if doc["metadata"]["name"] == kebab(service)}
        builds = re.findall(r"docker build -f (\S+) -t (\S+) \.$", (MANIFESTS / file).read_text(), re.MULTILINE)
        assert builds == [(f"{service}/Dockerfile", app_container(service)["image"])]
        assert (ROOT / service / "Dockerfile").is_file()


# --- every pod ---


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_pod_meets_the_restricted_pod_security_standard(name):
    spec = pod_spec(WORKLOADS[name])
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    # Service links would put `<SERVICE>_PORT=tcp://...` into the environment, where a setting could read it.
    assert spec["enableServiceLinks"] is False
    assert spec["automountServiceAccountToken"] is False
    for container in containers(WORKLOADS[name]):
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    for container in spec["containers"]:
        assert "readinessProbe" in container, f"{container['name']} gets traffic before it is ready"


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_references_resolve(name):
    for kind, object_name, key in references(WORKLOADS[name]):
        known = set(objects(kind)) | ({SECRET_NAME} if kind == "Secret" else set())
        assert object_name in known, f"{name} reads missing {kind}/{object_name}"
        if key is not None:
            assert key in data_of(kind, object_name), f"{name} reads missing key {key} of {kind}/{object_name}"
    for container in containers(WORKLOADS[name]):
        for entry in container.get("env", []):
            if reference := key_reference(entry):
                assert reference[2] == entry["name"], "a key must have its variable's name"


@pytest.mark.parametrize(("kind", "name"), [("ConfigMap", "task-manager-config"), ("Secret", "task-manager-secrets")])
def test_every_setting_is_used(kind, name):
    used = {key for workload in WORKLOADS.values() for _, ref, key in references(workload) if ref == name}
    assert set(data_of(kind, name)) <= used


# --- Services ---


@pytest.mark.parametrize("name", sorted(objects("Service")))
def test_service_reaches_a_declared_port_of_its_pods(name):
    spec = objects("Service")[name]["spec"]
    selected = [w for w in WORKLOADS.values() if spec["selector"].items() <= pod_labels(w).items()]
    assert len(selected) == 1, f"selects {[w['metadata']['name'] for w in selected]}"
    for port in spec["ports"]:
        container_port(selected[0], port.get("targetPort", port["port"]))


def test_only_the_gateway_is_exposed():
    exposed = {
        name: s["spec"] for name, s in objects("Service").items() if s["spec"].get("type", "ClusterIP") != "ClusterIP"
    }
    assert list(exposed) == ["api-gateway"]
    assert exposed["api-gateway"]["type"] == "LoadBalancer"
    assert [port["port"] for port in exposed["api-gateway"]["ports"]] == [8000]
    for service, port in APP_PORTS.items():
        assert [p["port"] for p in objects("Service")[kebab(service)]["spec"]["ports"]] == [port]


def settings_and_secrets() -> dict[str, str]:
    return data_of("ConfigMap", "task-manager-config") | data_of("Secret", "task-manager-secrets")


@pytest.mark.parametrize("key", sorted(key for key in settings_and_secrets() if key.endswith("_URL")))
def test_url_names_an_in_cluster_service(key):
    url = urlsplit(settings_and_secrets()[key])
    assert url.hostname, f"{key}: no host"
    service = objects("Service").get(url.hostname)
    assert service is not None, f"{key}: no Service {url.hostname}"
    assert url.port in [port["port"] for port in service["spec"]["ports"]]


@pytest.mark.parametrize("url_key", sorted(CREDENTIALS))
def test_url_credentials_match_the_server(url_key):
    server, user_key, password_key, database_key = CREDENTIALS[url_key]
    url = urlsplit(secret(url_key))
    assert (url.hostname, url.username, url.password) == (server, config(user_key), secret(password_key))
    assert unquote(url.path[1:]) == (config(database_key) if database_key else "/")
    # ... and the server is given the same values.
    server_env = environment(pod_spec(WORKLOADS[server])["containers"][0])
    assert {user_key} | ({database_key} if database_key else set()) <= set(server_env)
    assert server_env[f"{password_key}_FILE"] == f"{SECRET_MOUNT}/{password_key}"


# --- PostgreSQL, MariaDB, RabbitMQ ---


@pytest.mark.parametrize("name", sorted(SERVERS))
def test_server_keeps_its_data_on_a_persistent_volume(name):
    compose_service, data_path = SERVERS[name]
    stateful_set = objects("StatefulSet")[name]
    (container,) = pod_spec(stateful_set)["containers"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert container["image"] == compose["services"][compose_service]["image"]
    (claim,) = stateful_set["spec"]["volumeClaimTemplates"]
    assert {"name": claim["metadata"]["name"], "mountPath": data_path} in container["volumeMounts"]
    governing = objects("Service")[stateful_set["spec"]["serviceName"]]["spec"]
    assert governing["clusterIP"] == "None"
    assert governing["selector"].items() <= pod_labels(stateful_set).items()


def test_rabbitmq_node_name_is_stable():
    (container,) = pod_spec(WORKLOADS["rabbitmq"])["containers"]
    env = {entry["name"]: entry for entry in container["env"]}
    # The StatefulSet keeps the pod's name (rabbitmq-0), and with it the node's name and data directory.
    assert env["RABBITMQ_NODENAME"]["value"] == "rabbit@$(POD_NAME)"
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert [port["port"] for port in objects("Service")["rabbitmq"]["spec"]["ports"]] == [5672, 15672]


def test_mariadb_runs_the_notification_database_script():
    script = (ROOT / "deploy" / "mysql-init" / "01-notifications.sh").read_text()
    assert data_of("ConfigMap", "mariadb-initdb") == {"01-notifications.sh": script}
    spec = pod_spec(WORKLOADS["mariadb"])
    (volume,) = [v for v in spec["volumes"] if v.get("configMap", {}).get("name") == "mariadb-initdb"]
    (container,) = spec["containers"]
    assert {"name": volume["name"], "mountPath": "/docker-entrypoint-initdb.d", "readOnly": True} in container[
        "volumeMounts"
    ]
    assert {"NOTIFICATION_DB_NAME", "NOTIFICATION_DB_USER", "NOTIFICATION_DB_PASSWORD_FILE"} <= set(
        environment(container)
    )


# --- production mode, no secret values shipped ---


def test_manifests_deploy_in_production_mode():
    assert config("ENVIRONMENT") == "production"


def test_no_secret_values_are_shipped():
    for file, document in DOCUMENTS:
        assert document["kind"] != "Secret", f"{file} ships a Secret: create it with `make k8s-secret` instead"
    text = "\n".join(path.read_text() for path in MANIFESTS.glob("*.yaml"))
    for service in APP_PORTS:
        settings = settings_class(service)
        for field, development in settings.development_defaults.items():
            assert str(settings.model_fields[field].default) not in text, f"{service}.{field}'s default is shipped"
            assert development not in text, f"{service}.{field}'s development password is shipped"
    # The init script keeps its own fallback for a bare `docker run`; Kubernetes gives it the file.
    shipped = text.replace("${NOTIFICATION_DB_PASSWORD:-notifypassword}", "")
    for password in ("admin123", "taskpassword", "notifypassword", "rootpassword"):
        assert password not in shipped, password


def test_the_secret_command_and_the_manifests_agree_on_its_keys():
    used = {key for workload in WORKLOADS.values() for kind, name, key in references(workload) if name == SECRET_NAME}
    assert set(GENERATED_SECRET) == used - {None}
    makefile = (ROOT / "Makefile").read_text()
    assert f"create secret generic {SECRET_NAME} --from-file=$(SECRETS_DIR)/kubernetes/" in makefile


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_secret_files_are_mounted_where_their_variables_point(name):
    spec = pod_spec(WORKLOADS[name])
    secret_volumes = {v["name"]: v["secret"] for v in spec.get("volumes", []) if "secret" in v}
    for container in containers(WORKLOADS[name]):
        for entry in container.get("env", []):
            reference = key_reference(entry)
            assert reference is None or reference[0] != "Secret", "a secret in the environment"
            if not entry["name"].endswith("_FILE") or not entry.get("value", "").startswith(SECRET_MOUNT):
                continue
            key = entry["value"].removeprefix(SECRET_MOUNT + "/")
            (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == SECRET_MOUNT]
            assert mount["readOnly"] is True
            volume = secret_volumes[mount["name"]]
            assert volume["secretName"] == SECRET_NAME
            assert {"key": key, "path": key} in volume["items"], f"{name} mounts no {key}"
            assert volume["defaultMode"] == 0o440


# --- NetworkPolicies ---

OUTSIDE = "outside"  # a client beyond the cluster (through the gateway's LoadBalancer)
# Every connection the design needs: (from, to, port). Nothing else is allowed.
FLOWS = {
    (OUTSIDE, "api-gateway", 8000),
    ("api-gateway", "auth-service", 8001),
    ("api-gateway", "task-service", 8002),
    ("api-gateway", "notification-service", 8003),
    ("task-service", "auth-service", 8001),
    ("notification-service", "auth-service", 8001),
    ("auth-service", "postgres", 5432),
    ("task-service", "mariadb", 3306),
    ("notification-service", "mariadb", 3306),
    ("task-service", "rabbitmq", 5672),
    ("notification-service", "rabbitmq", 5672),
    ("api-gateway", "redis", 6379),
    ("auth-service", "redis", 6379),
    ("task-service", "redis", 6379),
    ("notification-service", "redis", 6379),
}


def policies_for(workload: str, direction: str) -> list[dict]:
    labels = pod_labels(WORKLOADS[workload])
    return [
        policy["spec"]
        for policy in objects("NetworkPolicy").values()
        if policy["spec"]["podSelector"].get("matchLabels", {}).items() <= labels.items()
        and direction in policy["spec"]["policyTypes"]
    ]


def peer_matches(peer: dict, workload: str) -> bool:
    if workload == OUTSIDE:
        return "ipBlock" in peer
    if "ipBlock" in peer or "namespaceSelector" in peer:
        return False  # other namespaces, or addresses outside the cluster
    return peer["podSelector"].get("matchLabels", {}).items() <= pod_labels(WORKLOADS[workload]).items()


def resolved_port(workload: str, port: int | str) -> int | None:
    """A policy's port as a number: a named port resolved against the target pod's (None when it has no such name)."""
    if isinstance(port, int):
        return port
    declared = {
        p.get("name"): p["containerPort"] for c in pod_spec(WORKLOADS[workload])["containers"] for p in c["ports"]
    }
    return declared.get(port)


def rule_allows(rule: dict, peers_key: str, other: str, target: str, port: int) -> bool:
    peers = rule.get(peers_key)
    ports = rule.get("ports")
    peer_ok = peers is None or any(peer_matches(peer, other) for peer in peers)
    port_ok = ports is None or any(
        p.get("protocol", "TCP") == "TCP" and resolved_port(target, p["port"]) == port for p in ports
    )
    return peer_ok and port_ok


def allowed(source: str, target: str, port: int) -> bool:
    """Would the NetworkPolicies let `source` open a TCP connection to `target`'s `port`?"""
    ingress = policies_for(target, "Ingress")
    ingress_ok = any(rule_allows(rule, "from", source, target, port) for p in ingress for rule in p.get("ingress", []))
    if source == OUTSIDE:
        return ingress_ok
    egress_ok = any(
        rule_allows(rule, "to", target, target, port)
        for p in policies_for(source, "Egress")
        for rule in p.get("egress", [])
    )
    return ingress_ok and egress_ok


def test_every_pod_is_under_a_default_deny_in_both_directions():
    deny = objects("NetworkPolicy")["default-deny"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_every_pod_may_use_the_cluster_dns():
    (dns,) = [p["spec"] for p in objects("NetworkPolicy").values() if p["metadata"]["name"] == "allow-dns"]
    assert dns["podSelector"] == {} and dns["policyTypes"] == ["Egress"]
    (rule,) = dns["egress"]
    assert {(p["protocol"], p["port"]) for p in rule["ports"]} == {("UDP", 53), ("TCP", 53)}
    (peer,) = rule["to"]
    assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}


@pytest.mark.parametrize("name", sorted(set(objects("NetworkPolicy")) - {"default-deny", "allow-dns"}))
def test_each_policy_selects_one_workload(name):
    selector = objects("NetworkPolicy")[name]["spec"]["podSelector"]["matchLabels"]
    selected = [w for w, workload in WORKLOADS.items() if selector.items() <= pod_labels(workload).items()]
    assert selected == [name.removeprefix("allow-")]


def all_flows():
    for target, workload in WORKLOADS.items():
        ports = {p["containerPort"] for c in pod_spec(workload)["containers"] for p in c.get("ports", [])}
        for source in [OUTSIDE, *WORKLOADS]:
            for port in sorted(ports):
                yield source, target, port


@pytest.mark.parametrize(("source", "target", "port"), list(all_flows()), ids=lambda value: str(value))
def test_network_policies_allow_exactly_the_flows_the_design_needs(source, target, port):
    assert allowed(source, target, port) == ((source, target, port) in FLOWS)


def test_each_database_and_the_broker_are_reached_only_by_their_owners():
    owners = {
        "postgres": {"auth-service"},
        "mariadb": {"task-service", "notification-service"},
        "rabbitmq": {"task-service", "notification-service"},
    }
    for server, expected in owners.items():
        clients = {source for source, target, _ in all_flows() if target == server and allowed(source, target, 5432)}
        clients |= {
            source for source, target, port in all_flows() if target == server and allowed(source, target, port)
        }
        assert clients == expected, server


# --- Redis ---


def test_redis_serves_the_services_that_read_it():
    assert "redis" in WORKLOADS
    container = app_container("redis")
    assert container["image"] == "redis:7-alpine"
    assert container["args"] == ["redis-server", "--save", "", "--appendonly", "no"]
    assert "volumeClaimTemplates" not in WORKLOADS["redis"]["spec"]
    for service in ("auth_service", "task_service", "notification_service", "api_gateway"):
        assert environment(app_container(service))["REDIS_URL"] == "redis://redis:6379/0"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["redis"]["image"] == container["image"]


# --- scraping by Prometheus: the pods' prometheus.io annotations, and the NetworkPolicies that let it ---

# The namespace a cluster's Prometheus runs in, as its label `kubernetes.io/metadata.name` names it.
MONITORING_NAMESPACE = "monitoring"


def annotations(service: str) -> dict[str, str]:
    return WORKLOADS[kebab(service)]["spec"]["template"]["metadata"].get("annotations", {})


@pytest.mark.parametrize("service", sorted(APP_PORTS))
def test_pods_ask_to_be_scraped_on_their_port_and_metrics_path(service):
    container = app_container(service)

    assert annotations(service) == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(APP_PORTS[service]),
        "prometheus.io/path": "/metrics",
    }
    assert [port["containerPort"] for port in container["ports"]] == [APP_PORTS[service]]
    # The same endpoint the kubelet already probes for liveness: it is served whatever the databases do.
    assert container["livenessProbe"]["httpGet"]["path"] == annotations(service)["prometheus.io/path"]


def admits_from_monitoring(peer: dict) -> bool:
    if "ipBlock" in peer:
        return False  # addresses, not a namespace: a pod's address is no part of it here
    namespace = peer.get("namespaceSelector")
    pods = peer.get("podSelector", {})
    return (
        namespace is not None
        and namespace.get("matchLabels", {}).items() <= {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}.items()
        and not pods.get("matchLabels")
    )


def allows_monitoring(workload: str, direction: str, port: int) -> bool:
    """Would `workload`'s policies let a connection on `port` pass between it and any pod of the `monitoring`
    namespace, `Ingress` (from there) or `Egress` (to there)?"""
    peers_key = "from" if direction == "Ingress" else "to"
    for policy in policies_for(workload, direction):
        for rule in policy.get(direction.lower(), []):
            peers = rule.get(peers_key)
            ports = rule.get("ports")
            peer_ok = peers is None or any(admits_from_monitoring(peer) for peer in peers)
            port_ok = ports is None or any(resolved_port(workload, p["port"]) == port for p in ports)
            if peer_ok and port_ok:
                return True
    return False


def monitoring_may_reach(workload: str, port: int) -> bool:
    return allows_monitoring(workload, "Ingress", port)


@pytest.mark.parametrize("service", sorted(APP_PORTS))
def test_a_prometheus_in_the_monitoring_namespace_may_scrape_each_service(service):
    assert monitoring_may_reach(kebab(service), int(annotations(service)["prometheus.io/port"]))


@pytest.mark.parametrize("workload", sorted(set(WORKLOADS) - {kebab(service) for service in APP_PORTS}))
def test_the_monitoring_namespace_reaches_no_server(workload):
    ports = [
        port["containerPort"]
        for container in WORKLOADS[workload]["spec"]["template"]["spec"]["containers"]
        for port in container.get("ports", [])
    ]

    assert not any(monitoring_may_reach(workload, port) for port in ports)


OTLP_HTTP_PORT = 4318


def may_send_to_monitoring(workload: str, port: int) -> bool:
    return allows_monitoring(workload, "Egress", port)


@pytest.mark.parametrize("service", sorted(APP_PORTS))
def test_each_service_may_send_its_traces_to_a_collector_in_the_monitoring_namespace(service):
    env = {entry["name"]: key_reference(entry) for entry in app_container(service)["env"]}

    assert may_send_to_monitoring(kebab(service), OTLP_HTTP_PORT)
    assert config("OTEL_EXPORTER_OTLP_ENDPOINT") == ""  # off until a collector is named
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] is not None
    assert config("LOG_FORMAT") == "json"
    assert env["LOG_FORMAT"] is not None


@pytest.mark.parametrize("workload", sorted(set(WORKLOADS) - {kebab(service) for service in APP_PORTS}))
def test_no_server_may_send_to_the_monitoring_namespace(workload):
    assert not may_send_to_monitoring(workload, OTLP_HTTP_PORT)
