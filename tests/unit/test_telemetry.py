"""Tracing's switches and propagation, and the log records that carry a trace id.

Each test uses a tracer provider of its own: the process-wide one stays unset, as in a service
started without an OTLP endpoint.
"""

import io
import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased
from opentelemetry.trace import SpanKind, Tracer, format_span_id, format_trace_id

from common.logging import log_handler
from common.request_id import current_request_id
from common.telemetry import (
    NO_TRACE,
    EntryPointSampler,
    context_from,
    current_trace_context,
    export_configured,
    sampled_ratio,
    trace_id_of_current_span,
    tracing_enabled,
)


@pytest.fixture
def exported() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer(exported: InMemorySpanExporter) -> Tracer:
    provider = TracerProvider(sampler=ParentBased(root=EntryPointSampler()))
    provider.add_span_processor(SimpleSpanProcessor(exported))
    return provider.get_tracer("tests")


@pytest.mark.parametrize(
    ("environment", "configured"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ""}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://tempo:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
    ],
)
def test_traces_are_exported_only_when_the_standard_variables_name_an_endpoint(environment, configured):
    assert export_configured(environment) is configured


@pytest.mark.parametrize(
    ("environment", "variable"),
    [
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "jaeger:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "ftp://collector"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "console"}, "OTEL_TRACES_EXPORTER"),
    ],
)
def test_an_export_the_services_cannot_make_is_refused_with_the_variable_named(environment, variable):
    with pytest.raises(ValueError, match=variable):
        export_configured(environment)


def test_without_an_endpoint_no_sdk_is_installed_and_nothing_carries_a_trace():
    assert not tracing_enabled()
    assert current_trace_context() == {}
    assert trace_id_of_current_span() == NO_TRACE


def test_a_trace_starts_at_a_request_or_an_event_never_at_a_lone_query(tracer: Tracer, exported):
    with tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT):
        pass
    with (
        tracer.start_as_current_span("GET /tasks", kind=SpanKind.SERVER),
        tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT),
    ):
        pass
    with tracer.start_as_current_span("process notifications", kind=SpanKind.CONSUMER):
        pass

    assert [span.name for span in exported.get_finished_spans()] == ["SELECT", "GET /tasks", "process notifications"]
    [query, request, _] = exported.get_finished_spans()
    assert query.parent is not None and query.parent.span_id == request.context.span_id


def test_of_the_traces_that_may_start_the_configured_share_is_kept():
    kept = ParentBased(root=EntryPointSampler(0.25))
    decisions = [
        kept.should_sample(None, trace_id, "GET /tasks", SpanKind.SERVER).decision.is_sampled()
        for trace_id in range(1, 2**64, 2**64 // 1000)
    ]

    assert 0.2 < sum(decisions) / len(decisions) < 0.3
    assert (
        not ParentBased(root=EntryPointSampler(0.0))
        .should_sample(None, 1, "GET", SpanKind.SERVER)
        .decision.is_sampled()
    )


@pytest.mark.parametrize(("value", "ratio"), [(None, 1.0), ("", 1.0), ("0.1", 0.1), ("0", 0.0), ("1", 1.0)])
def test_the_kept_share_is_read_from_the_standard_variable(value, ratio):
    assert sampled_ratio({} if value is None else {"OTEL_TRACES_SAMPLER_ARG": value}) == ratio


@pytest.mark.parametrize("value", ["half", "1.5", "-0.1"])
def test_a_kept_share_out_of_range_is_refused_with_the_variable_named(value):
    with pytest.raises(ValueError, match="OTEL_TRACES_SAMPLER_ARG"):
        sampled_ratio({"OTEL_TRACES_SAMPLER_ARG": value})


def test_the_trace_context_travels_as_w3c_headers_and_back(tracer: Tracer, exported):
    with tracer.start_as_current_span("POST /tasks", kind=SpanKind.SERVER) as span:
        carrier = current_trace_context()
    trace_id = format_trace_id(span.get_span_context().trace_id)
    span_id = format_span_id(span.get_span_context().span_id)

    # The last field is the flags: sampled, and (W3C level 2) a random trace id.
    assert carrier["traceparent"].startswith(f"00-{trace_id}-{span_id}-")
    with tracer.start_as_current_span("process", context=context_from(carrier), kind=SpanKind.CONSUMER):
        assert trace_id_of_current_span() == trace_id
    [_, child] = exported.get_finished_spans()
    assert child.parent is not None and child.parent.span_id == span.get_span_context().span_id


@pytest.mark.parametrize(
    "carrier", [None, {}, {"traceparent": "00-not-a-trace-01"}, {"traceparent": b"bytes"}, {"traceparent": 5}]
)
def test_a_message_without_usable_trace_headers_starts_no_trace(tracer: Tracer, exported, carrier):
    with tracer.start_as_current_span("process", context=context_from(carrier), kind=SpanKind.CONSUMER):
        pass

    [span] = exported.get_finished_spans()
    assert span.parent is None


@pytest.fixture
def json_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = log_handler(stream, "json")
    logger = logging.getLogger("tests.json_log")
    logger.addHandler(handler)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_a_json_log_record_is_one_object_on_one_line_with_request_and_trace_ids(json_log, tracer: Tracer):
    logger, stream = json_log
    token = current_request_id.set("req-1")
    try:
        with tracer.start_as_current_span("GET /tasks", kind=SpanKind.SERVER) as span:
            try:
                raise ValueError("line one\nline two")
            except ValueError:
                logger.exception("Task %r\nfailed", "x\r\ny")
    finally:
        current_request_id.reset(token)

    [line] = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["message"] == "Task 'x\\r\\ny'\nfailed"
    assert record["level"] == "ERROR"
    assert record["logger"] == "tests.json_log"
    assert record["request_id"] == "req-1"
    assert record["trace_id"] == format_trace_id(span.get_span_context().trace_id)
    assert "ValueError: line one\nline two" in record["exception"]


def test_a_json_log_record_outside_a_request_names_no_trace(json_log):
    logger, stream = json_log

    logger.warning("Relay connected")

    record = json.loads(stream.getvalue())
    assert (record["request_id"], record["trace_id"]) == ("-", "-")
