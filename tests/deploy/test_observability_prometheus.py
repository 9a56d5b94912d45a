"""The monitoring stack's Prometheus configuration, alert rules and Grafana dashboard, checked with promtool.

promtool comes from Debian's `prometheus` package (`make client-tools` installs it). Every metric the rules and the
dashboard query must be in METRICS, the names the services register (docs/observability.md lists them too).
"""

import ast
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
PROMETHEUS_CONFIG = OBSERVABILITY / "prometheus" / "prometheus.yml"
ALERT_RULES = OBSERVABILITY / "prometheus" / "alerts.yml"
ALERT_TESTS = OBSERVABILITY / "rules-tests" / "alerts_test.yml"
DASHBOARD = OBSERVABILITY / "grafana" / "dashboards" / "task-manager.json"
GUIDE = ROOT / "docs" / "observability.md"
# Where the services register their metrics (their own tests register throw-away ones).
SOURCE_FOLDERS = ["auth_service", "task_service", "notification_service", "api_gateway", "common"]

# The metrics the dashboard and the rules may use: name -> (type, labels), as exposed (a counter with `_total`).
# Prometheus adds `job` (the service) and `instance` to each; a histogram is queried as `<name>_bucket` (`le`).
METRICS = {
    "up": ("gauge", ()),
    "http_requests_total": ("counter", ("method", "route", "status")),
    "http_request_duration_seconds": ("histogram", ("method", "route")),
    "task_outbox_backlog": ("gauge", ()),
    "task_outbox_oldest_event_age_seconds": ("gauge", ()),
    "task_events_published_total": ("counter", ("routing_key",)),
    "task_event_relay_connected": ("gauge", ()),
    "notification_events_consumed_total": ("counter", ("outcome",)),
    "notification_event_consumer_connected": ("gauge", ()),
    "notification_dead_letter_queue_messages": ("gauge", ()),
    "notification_live_streams": ("gauge", ()),
    "token_checks_total": ("counter", ("source",)),
    "token_check_duration_seconds": ("histogram", ()),
    "gateway_rate_limited_total": ("counter", ("limit",)),
}
# Prometheus' own series, not registered by any service.
SCRAPE_SERIES = {"up"}
# Part of the work on tracing and metrics that lands separately: until its code registers them, their check is
# expected to fail. Once it passes (XPASS, reported as a failure), take the names out of this set.
TARGET_LABELS = {"job", "instance"}
SEVERITIES = {"critical", "warning", "info"}
# Grafana's variables, as the dashboard uses them, and what a check may put in their place.
GRAFANA_VARIABLES = {"$__rate_interval": "5m"}


def promtool(*arguments: str | Path) -> subprocess.CompletedProcess:
    executable = shutil.which("promtool")
    assert executable, "promtool missing: `make client-tools` installs it (Debian package prometheus)"
    return subprocess.run([executable, *map(str, arguments)], capture_output=True, text=True)


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def alert_rules() -> dict[str, dict]:
    return {rule["alert"]: rule for group in load_yaml(ALERT_RULES)["groups"] for rule in group["rules"]}


def dashboard_panels() -> list[dict]:
    return [panel for panel in json.loads(DASHBOARD.read_text())["panels"] if panel["type"] != "row"]


def dashboard_expressions() -> dict[str, str]:
    """`panel title / refId` -> its PromQL, Grafana's variables replaced."""
    expressions = {}
    for panel in dashboard_panels():
        for target in panel["targets"]:
            expression = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expression = expression.replace(variable, value)
            expressions[f"{panel['title']} / {target['refId']}"] = expression
    return expressions


def rule_expressions() -> dict[str, str]:
    return {name: rule["expr"] for name, rule in alert_rules().items()}


# --- what PromQL refers to ---

STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
MATCHERS = re.compile(r"\{([^}]*)\}")
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
IDENTIFIER = re.compile(r"(?<![\w:.])([a-zA-Z_:][\w:]*)\b(?!\s*\()")
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def series_names(expression: str) -> set[str]:
    """The metric names an expression selects (functions, keywords, labels and durations left out)."""
    text = STRING.sub('""', expression)
    text = MATCHERS.sub("", text)
    text = GROUPING.sub("", text)
    return {name for name in IDENTIFIER.findall(text) if name not in KEYWORDS}


def metric_of(series: str) -> str:
    """The METRICS entry a series belongs to: a histogram's `_bucket`, `_sum` and `_count` are its own."""
    for suffix in HISTOGRAM_SUFFIXES:
        base = series.removesuffix(suffix)
        if base != series and METRICS.get(base, ("",))[0] == "histogram":
            return base
    return series


def labels_of(series: str) -> set[str]:
    labels = set(METRICS[metric_of(series)][1]) | TARGET_LABELS
    return labels | {"le"} if series.endswith("_bucket") else labels


def matcher_labels(expression: str) -> dict[str, set[str]]:
    """series -> the label names its `{...}` matchers use."""
    text = STRING.sub('""', expression)
    found: dict[str, set[str]] = {}
    for series, matchers in re.findall(r"([a-zA-Z_:][\w:]*)\{([^}]*)\}", text):
        found.setdefault(series, set()).update(re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", matchers))
    return found


def grouping_labels(expression: str) -> set[str]:
    text = STRING.sub('""', expression)
    return {label.strip() for group in GROUPING.findall(text) for label in group.split(",") if label.strip()}


def test_series_names_finds_the_metrics_and_nothing_else():
    expression = (
        'histogram_quantile(0.95, sum by (job, le) (rate(http_request_duration_seconds_bucket{route="/x"}[5m])))'
        " / on (job) max(up offset 15m) > bool 0"
    )

    assert series_names(expression) == {"http_request_duration_seconds_bucket", "up"}
    assert grouping_labels(expression) == {"job", "le"}
    assert matcher_labels(expression) == {"http_request_duration_seconds_bucket": {"route"}}


# --- promtool ---


def test_prometheus_configuration_is_valid():
    result = promtool("check", "config", PROMETHEUS_CONFIG)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout


def test_alert_rules_are_valid():
    result = promtool("check", "rules", ALERT_RULES)

    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_pass_their_unit_tests():
    result = promtool("test", "rules", ALERT_TESTS)

    assert result.returncode == 0, result.stdout + result.stderr


def alert_unit_tests_with(tmp_path: Path, name: str, change) -> subprocess.CompletedProcess:
    """The unit tests run against the rules with one alert changed by `change(rule)`."""
    rules = load_yaml(ALERT_RULES)
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule["alert"] == name:
                change(rule)
    # The same layout, for the tests' relative `../prometheus/alerts.yml`.
    (tmp_path / "prometheus").mkdir()
    (tmp_path / "prometheus" / ALERT_RULES.name).write_text(yaml.safe_dump(rules))
    (tmp_path / "rules-tests").mkdir()
    shutil.copy(ALERT_TESTS, tmp_path / "rules-tests" / ALERT_TESTS.name)
    return promtool("test", "rules", tmp_path / "rules-tests" / ALERT_TESTS.name)


@pytest.mark.parametrize("name", sorted(alert_rules()))
def test_unit_tests_fail_when_an_alert_never_fires(tmp_path, name):
    def never_fire(rule):
        rule["expr"] = "vector(1) > 2"

    result = alert_unit_tests_with(tmp_path, name, never_fire)

    assert result.returncode != 0, f"no unit test expects {name} to fire"
    assert f"alertname: {name}" in result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(name for name, rule in alert_rules().items() if "for" in rule))
def test_unit_tests_fail_when_an_alert_fires_too_soon(tmp_path, name):
    def without_for(rule):
        del rule["for"]

    result = alert_unit_tests_with(tmp_path, name, without_for)

    assert result.returncode != 0, f"no unit test expects {name} to stay quiet before its `for`"
    assert f"alertname: {name}" in result.stdout + result.stderr


def test_every_dashboard_query_parses(tmp_path):
    expressions = dashboard_expressions()
    for where, expression in expressions.items():
        assert "$" not in expression, f"{where}: a Grafana variable this check does not know"
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{number}", "expr": expression}
                    for number, expression in enumerate(expressions.values())
                ],
            }
        ]
    }
    (tmp_path / "dashboard.yml").write_text(yaml.safe_dump(rules))

    result = promtool("check", "rules", tmp_path / "dashboard.yml")

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(expressions)} rules found" in result.stdout


# --- the alert rules ---


@pytest.mark.parametrize("name", sorted(alert_rules()))
def test_alert_says_how_bad_it_is_and_what_to_do(name):
    rule = alert_rules()[name]
    guide = GUIDE.read_text()

    assert rule["labels"]["severity"] in SEVERITIES
    assert rule["annotations"]["summary"] and rule["annotations"]["description"]
    assert rule["annotations"]["runbook"] == f"docs/observability.md#{name.lower()}"
    assert re.search(rf"^### {name}$", guide, re.MULTILINE), f"docs/observability.md has no section {name}"
    for document, anchor in re.findall(r"(docs/[\w-]+\.md)#([\w-]+)", rule["annotations"]["description"]):
        headings = re.findall(r"^#+ (.+)$", (ROOT / document).read_text(), re.MULTILINE)
        assert anchor in {github_anchor(heading) for heading in headings}, f"{document}#{anchor}"


def github_anchor(heading: str) -> str:
    """The fragment GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_alerts_cover_errors_the_event_pipeline_and_down_services():
    watched = {name: series_names(expression) for name, expression in rule_expressions().items()}

    assert watched["ServiceDown"] == {"up"}
    assert watched["HighServerErrorRatio"] == {"http_requests_total"}
    assert watched["OutboxEventsDelayed"] == {"task_outbox_oldest_event_age_seconds"}
    assert watched["OutboxRelayDisconnected"] == {"task_event_relay_connected"}
    assert watched["NotificationConsumerDown"] == {"notification_event_consumer_connected", "up"}
    assert watched["DeadLetterQueueNotEmpty"] == watched["DeadLetterQueueGrowing"]
    assert watched["DeadLetterQueueGrowing"] == {"notification_dead_letter_queue_messages"}


# --- the dashboard ---


def test_every_panel_queries_the_provisioned_prometheus():
    datasources = load_yaml(OBSERVABILITY / "grafana" / "provisioning" / "datasources" / "datasources.yml")
    (prometheus,) = [source for source in datasources["datasources"] if source["type"] == "prometheus"]
    for panel in dashboard_panels():
        assert panel["targets"], f"{panel['title']} shows nothing"
        for target in [panel, *panel["targets"]]:
            assert target["datasource"] == {"type": "prometheus", "uid": prometheus["uid"]}, panel["title"]


def test_panel_ids_are_unique():
    ids = [panel["id"] for panel in json.loads(DASHBOARD.read_text())["panels"]]
    assert len(ids) == len(set(ids))


def test_the_dashboard_shows_every_metric():
    shown = {
        metric_of(series) for expression in dashboard_expressions().values() for series in series_names(expression)
    }

    assert shown == set(METRICS)


# --- the metric names: what is queried, what is documented, what the services register ---


def queries() -> dict[str, str]:
    return {f"dashboard {where}": expr for where, expr in dashboard_expressions().items()} | {
        f"alert {name}": expr for name, expr in rule_expressions().items()
    }


@pytest.mark.parametrize("where", sorted(queries()))
def test_queries_use_only_known_metrics_and_their_labels(where):
    expression = queries()[where]
    used = series_names(expression)

    for series in used:
        assert metric_of(series) in METRICS, f"{series} is not a metric of the services"
        if series != metric_of(series):
            assert series.endswith(HISTOGRAM_SUFFIXES), series
    for series, labels in matcher_labels(expression).items():
        assert labels <= labels_of(series), f"{series} has no label {sorted(labels - labels_of(series))}"
    known = set().union(*(labels_of(series) for series in used))
    assert grouping_labels(expression) <= known, f"grouped by unknown {sorted(grouping_labels(expression) - known)}"


def documented_metrics() -> dict[str, tuple[str, tuple[str, ...]]]:
    """The table of docs/observability.md: | `name` | type | `label`, ... | who |."""
    rows = re.findall(r"^\| `(\w+)` \| (\w+) \| ([^|]*) \|", GUIDE.read_text(), re.MULTILINE)
    return {name: (kind, tuple(re.findall(r"`(\w+)`", labels))) for name, kind, labels in rows}


def test_the_guide_lists_exactly_these_metrics():
    assert documented_metrics() == METRICS


def registered_metrics() -> dict[str, tuple[str, tuple[str, ...] | None]]:
    """Every metric the services' code registers with prometheus_client: exposed name -> (type, labels).

    The labels are None where the code does not spell them out as a literal list.
    """
    registered = {}
    for folder in SOURCE_FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            if "tests" in path.relative_to(ROOT).parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and (metric := metric_registered_by(node)):
                    registered[metric[0]] = metric[1:]
    return registered


def metric_registered_by(call: ast.Call) -> tuple[str, str, tuple[str, ...] | None] | None:
    function = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
    if function == "report_connection":
        function = "Gauge"  # common.broker.BrokerWorker.report_connection(name, registry)
    if function not in {"Counter", "Gauge", "Histogram", "Summary"}:
        return None
    keywords = {keyword.arg: keyword.value for keyword in call.keywords}
    name = call.args[0] if call.args else keywords.get("name")
    if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
        return None
    exposed = name.value
    if function == "Counter" and not exposed.endswith("_total"):
        exposed += "_total"  # prometheus_client's naming
    label_node = call.args[2] if len(call.args) > 2 else keywords.get("labelnames")
    labels: tuple[str, ...] | None = ()
    if label_node is not None:
        labels = None
        if isinstance(label_node, ast.List | ast.Tuple):
            names = [
                element.value
                for element in label_node.elts
                if isinstance(element, ast.Constant) and isinstance(element.value, str)
            ]
            if len(names) == len(label_node.elts):
                labels = tuple(names)
    return exposed, function.lower(), labels


def test_metric_registered_by_reads_name_type_and_labels():
    calls = [
        'Counter("events", "help", ["outcome"], registry=r)',
        'Gauge(name="depth", documentation="help")',
        'prometheus_client.Histogram("seconds", "help", labelnames=("route",))',
        'Counter("total_made_total", "help", LABELS)',
        "Counter()",
    ]
    parsed = [ast.parse(call, mode="eval").body for call in calls]
    found = [metric_registered_by(call) for call in parsed if isinstance(call, ast.Call)]

    assert found == [
        ("events_total", "counter", ("outcome",)),
        ("depth", "gauge", ()),
        ("seconds", "histogram", ("route",)),
        ("total_made_total", "counter", None),
        None,
    ]


def test_every_registered_metric_is_in_the_list():
    assert set(registered_metrics()) <= set(METRICS)


@pytest.mark.parametrize("name", sorted(set(METRICS) - SCRAPE_SERIES))
def test_the_services_register_each_listed_metric(name):
    registered = registered_metrics()

    assert name in registered, f"no service registers {name}"
    assert registered[name] == METRICS[name]
