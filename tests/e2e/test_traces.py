"""One trace per client request, from the gateway through RabbitMQ to the notification log.

The stack exports its spans over OTLP to the suite's receiver (`traces`), as it would to Jaeger
or Tempo; these tests follow one request through every process by its trace id.
"""

import json
import re
import secrets

import httpx

from tests.e2e.otlp_receiver import OtlpReceiver, ReceivedSpan
from tests.e2e.stack import Stack
from tests.helpers import poll, register_and_login

SERVICES = {"api_gateway", "task_service", "auth_service", "notification_service"}


def new_traceparent() -> tuple[str, str, str]:
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


def whole_trace(traces: OtlpReceiver, trace_id: str) -> list[ReceivedSpan] | None:
    """The trace once the notification service has exported its part (the last hop)."""
    spans = traces.trace(trace_id)
    done = any(span.service == "notification_service" and span.kind == "consumer" for span in spans)
    return spans if done and {span.service for span in spans} >= SERVICES else None


def logged_line(stack: Stack, task_id: int) -> dict | None:
    if not stack.notification_log.exists():
        return None
    lines = map(json.loads, stack.notification_log.read_text().splitlines())
    return next((line for line in lines if line["task_id"] == task_id), None)


def test_a_created_task_is_one_trace_from_the_clients_traceparent_to_the_notification_log(
    stack: Stack, traces: OtlpReceiver
):
    user = register_and_login(stack.url("auth"))
    traceparent, trace_id, client_span_id = new_traceparent()

    response = httpx.post(
        f"{stack.url('gateway')}/tasks",
        headers={**user["headers"], "traceparent": traceparent},
        json={"title": "Traced all the way"},
    )

    assert response.status_code == 201
    spans = poll(lambda: whole_trace(traces, trace_id), timeout=15)
    by_id = {span.span_id: span for span in spans}
    [gateway_request] = [span for span in spans if span.service == "api_gateway" and span.kind == "server"]
    assert gateway_request.parent_span_id == client_span_id
    assert gateway_request.name == "POST /tasks"
    # The gateway's call is the parent of the task service's request, which checked the token
    # with the auth service inside it.
    [task_request] = [span for span in spans if span.service == "task_service" and span.kind == "server"]
    assert by_id[task_request.parent_span_id].service == "api_gateway"
    assert by_id[task_request.parent_span_id].kind == "client"
    [verify] = [span for span in spans if span.service == "auth_service" and span.kind == "server"]
    assert verify.name == "GET /auth/verify"
    assert task_request in _ancestors(verify, by_id)
    # The event: written with the task, published by the relay, consumed by the notification service.
    [publish] = [span for span in spans if span.kind == "producer"]
    assert publish.service == "task_service"
    assert publish.name == "publish task_events"
    assert publish.attributes["messaging.rabbitmq.destination.routing_key"] == "task.created"
    assert gateway_request in _ancestors(publish, by_id)
    [consume] = [span for span in spans if span.kind == "consumer"]
    assert consume.service == "notification_service"
    assert consume.parent_span_id == publish.span_id
    assert consume.attributes["task_manager.event.outcome"] == "stored"
    # Database statements appear inside the requests and the event that made them.
    statements = [span for span in spans if "db.system.name" in span.attributes or "db.system" in span.attributes]
    assert {span.service for span in statements} >= {"task_service", "auth_service", "notification_service"}
    assert not any(span.error for span in spans)
    # The log lines carry the trace id too, the notification log's included.
    line = poll(lambda: logged_line(stack, response.json()["id"]))
    assert line["trace_id"] == trace_id
    for service in ("api_gateway", "task", "auth"):
        stdout = stack.log_of("gateway" if service == "api_gateway" else service)
        assert trace_id in stdout, f"no {service} log line carries the trace id"


def _ancestors(span: ReceivedSpan, by_id: dict[str, ReceivedSpan]) -> list[ReceivedSpan]:
    """`span`'s parent, its parent's parent, and so on, as far as the trace holds them."""
    chain = []
    while span.parent_span_id in by_id:
        span = by_id[span.parent_span_id]
        chain.append(span)
    return chain


def test_without_a_traceparent_the_gateway_starts_the_trace_and_every_log_line_names_it(
    stack: Stack, traces: OtlpReceiver
):
    user = register_and_login(stack.url("auth"))

    response = httpx.post(f"{stack.url('gateway')}/tasks", headers=user["headers"], json={"title": "New trace"})

    assert response.status_code == 201
    line = poll(lambda: logged_line(stack, response.json()["id"]))
    assert re.fullmatch(r"[0-9a-f]{32}", line["trace_id"])
    spans = poll(lambda: whole_trace(traces, line["trace_id"]), timeout=15)
    [root] = [span for span in spans if not span.parent_span_id]
    assert (root.service, root.kind) == ("api_gateway", "server")


def test_a_broken_or_oversized_trace_context_from_a_client_is_no_error(stack: Stack, traces: OtlpReceiver):
    user = register_and_login(stack.url("auth"))
    traceparent, trace_id, _ = new_traceparent()
    # 32 entries of 250 characters: far more than the outbox keeps of a trace context.
    tracestate = ",".join(f"k{index}={'v' * 250}" for index in range(32))

    broken = httpx.post(
        f"{stack.url('gateway')}/tasks",
        headers={**user["headers"], "traceparent": "00-not-a-trace-01"},
        json={"title": "Broken context"},
    )
    oversized = httpx.post(
        f"{stack.url('gateway')}/tasks",
        headers={**user["headers"], "traceparent": traceparent, "tracestate": tracestate},
        json={"title": "Oversized context"},
    )

    assert (broken.status_code, oversized.status_code) == (201, 201)
    assert poll(lambda: logged_line(stack, broken.json()["id"]))["trace_id"] != "-"
    assert poll(lambda: logged_line(stack, oversized.json()["id"]))["trace_id"] == trace_id
    poll(lambda: whole_trace(traces, trace_id), timeout=15)


def test_no_password_token_or_api_key_reaches_a_span(stack: Stack, traces: OtlpReceiver):
    user = register_and_login(stack.url("auth"))
    gateway = stack.url("gateway")
    key = httpx.post(f"{gateway}/auth/api-keys", headers=user["headers"], json={"name": "traced"}).json()["key"]
    traceparent, trace_id, _ = new_traceparent()

    created = httpx.post(
        f"{gateway}/tasks", headers={"X-API-Key": key, "traceparent": traceparent}, json={"title": "With a key"}
    )

    assert created.status_code == 201
    poll(lambda: whole_trace(traces, trace_id), timeout=15)
    exported = repr(traces.spans)
    for secret in (user["password"], user["token"], key):
        assert secret not in exported
