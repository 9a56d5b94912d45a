"""Every metric the dashboard and the alert rules read is one the running services expose."""

import re

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.stack import Stack
from tests.helpers import ROOT

# Prometheus makes this one itself, for each scraped target.
SCRAPE_SERIES = {"up"}


def documented_metrics() -> set[str]:
    """The metric names of the table in docs/observability.md, which the dashboard and rules keep to."""
    text = (ROOT / "docs" / "observability.md").read_text()
    return set(re.findall(r"^\| `([a-z_]+)` \| (?:counter|gauge|histogram) \|", text, flags=re.MULTILINE))


def exposed_metrics(stack: Stack) -> set[str]:
    exposed = set()
    for service in ("gateway", "auth", "task", "notification"):
        response = httpx.get(f"{stack.url(service)}/metrics", timeout=10)
        assert response.status_code == 200
        for family in text_string_to_metric_families(response.text):
            # A counter's family is named without the `_total` its samples carry.
            exposed.add(family.name + "_total" if family.type == "counter" else family.name)
    return exposed


def test_each_documented_metric_is_exposed_by_a_running_service(stack: Stack):
    documented = documented_metrics()

    assert len(documented) > 10, "the table in docs/observability.md was not found"
    assert documented - SCRAPE_SERIES - exposed_metrics(stack) == set()
