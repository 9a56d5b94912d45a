"""Scraping the services in Kubernetes: the pods' prometheus.io annotations, and the NetworkPolicies that let it."""

import pytest

from tests.deploy.test_kubernetes_manifests import (
    APP_PORTS,
    WORKLOADS,
    app_container,
    kebab,
    policies_for,
    resolved_port,
)

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


def monitoring_may_reach(workload: str, port: int) -> bool:
    """Would the ingress policies let any pod of the `monitoring` namespace connect to `workload` on `port`?"""
    for policy in policies_for(workload, "Ingress"):
        for rule in policy.get("ingress", []):
            peers = rule.get("from")
            ports = rule.get("ports")
            peer_ok = peers is None or any(admits_from_monitoring(peer) for peer in peers)
            port_ok = ports is None or any(resolved_port(workload, p["port"]) == port for p in ports)
            if peer_ok and port_ok:
                return True
    return False


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
