"""OpenTelemetry traces: one trace per client request, from the gateway to the notification log.

Tracing is on when the standard variables name an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), unless `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`;
the exporter reads the rest of the `OTEL_*` variables itself (protocol headers, timeouts, batch
sizes). Otherwise no SDK is installed: FastAPI's own telemetry then does nothing, and the services
make no spans at all.

Server spans come from FastAPI itself (`FastAPI(telemetry=...)`), which also honours a caller's
`traceparent`. The services add client spans to their HTTP calls (`common.http_client`), database
spans (`common.db`), and a producer and a consumer span around each event (`current_trace_context`
and `context_from` carry the context in the AMQP headers, and the outbox row keeps it until the
relay publishes).
"""

import functools
import os
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from fastapi.telemetry import TelemetryConfig
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult, TraceIdRatioBased
from opentelemetry.trace import Link, SpanKind, TraceState
from opentelemetry.util.types import Attributes

TRACER_NAME = "task_manager"
# Probes and scrapes arrive every few seconds: as traces they would bury the requests that matter.
UNTRACED_PATHS = frozenset({"/health", "/metrics"})
NO_TRACE = "-"


def _is_untraced(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in UNTRACED_PATHS


# FastAPI's request spans, for every service alike. They cost nothing while no SDK is installed.
FASTAPI_TELEMETRY: TelemetryConfig = {"exclude": _is_untraced, "auto_configure": False}


def export_configured(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the standard `OTEL_*` variables ask for traces to be exported over OTLP/HTTP.

    What this cannot do (another exporter, OTLP over gRPC, an endpoint that is no HTTP URL) is
    refused with the variable named, rather than left to fail at every export.
    """
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() or "otlp"
    if exporter == "none":
        return False
    if exporter != "otlp":
        raise ValueError(f"OTEL_TRACES_EXPORTER={exporter!r}: the services export traces with `otlp` only (or `none`)")
    endpoint_variable = next(
        (
            name
            for name in ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
            if environ.get(name, "").strip()
        ),
        None,
    )
    if endpoint_variable is None:
        return False
    endpoint = urlsplit(environ[endpoint_variable].strip())
    if endpoint.scheme not in ("http", "https") or not endpoint.hostname:
        raise ValueError(f"{endpoint_variable}={environ[endpoint_variable]!r}: give an http:// or https:// URL")
    for name in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        protocol = environ.get(name, "").strip()
        if protocol:
            if protocol != "http/protobuf":
                raise ValueError(f"{name}={protocol!r}: the services send OTLP over HTTP only (http/protobuf)")
            break
    return True


def start_tracing(service_name: str) -> bool:
    """Install the process's tracer provider when export is configured; say whether tracing is on.

    `service_name` names the service in the traces unless `OTEL_SERVICE_NAME` does. A process
    has one provider: a second call (another app in the same process, as in tests) keeps the first.
    """
    if tracing_enabled():
        return True
    if not export_configured():
        return False
    # Imported only when used: it brings protobuf and an HTTP client along.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service_name}
    sampler = ParentBased(root=EntryPointSampler(sampled_ratio()))
    provider = TracerProvider(resource=Resource.create(attributes), sampler=sampler)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return True


class EntryPointSampler(Sampler):
    """A trace starts where work enters the system: a request, or an event consumed or published.

    A database statement or an HTTP call with no trace around it (a health check's query, the
    outbox relay's polling) would otherwise be a trace of its own every few seconds. Of the traces
    that may start, `ratio` are kept, by trace id, so every service keeps the same ones.
    """

    _ENTRY_KINDS = frozenset({SpanKind.SERVER, SpanKind.CONSUMER, SpanKind.PRODUCER})

    def __init__(self, ratio: float = 1.0) -> None:
        self._ratio = TraceIdRatioBased(ratio)

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if kind not in self._ENTRY_KINDS:
            return SamplingResult(Decision.DROP)
        return self._ratio.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"EntryPointSampler{{{self._ratio.get_description()}}}"


def sampled_ratio(environ: Mapping[str, str] = os.environ) -> float:
    """The share of traces kept, from `OTEL_TRACES_SAMPLER_ARG` (0 to 1; all of them by default).

    A request that comes with a `traceparent` follows its caller's decision instead.
    """
    value = environ.get("OTEL_TRACES_SAMPLER_ARG", "").strip()
    if not value:
        return 1.0
    refused = ValueError(f"OTEL_TRACES_SAMPLER_ARG={value!r}: give the share of traces to keep, from 0 to 1")
    try:
        ratio = float(value)
    except ValueError:
        raise refused from None
    if not 0.0 <= ratio <= 1.0:
        raise refused
    return ratio


def tracing_enabled() -> bool:
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def flush_traces() -> None:
    """Export what is buffered, at shutdown (the provider also does so when the process exits)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.force_flush()


@functools.cache
def tracer() -> trace.Tracer:
    """The services' own tracer (events, statements), made once: before the provider is installed it is
    OpenTelemetry's proxy, which hands over to the provider once there is one."""
    return trace.get_tracer(TRACER_NAME)


def current_trace_context() -> dict[str, str]:
    """The current trace as W3C headers (`traceparent`, `tracestate`), empty outside any trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_from(carrier: Mapping[str, Any] | None) -> Context:
    """The trace context W3C headers carry; an empty context for a message without (or with broken) ones."""
    if not carrier:
        return otel_context.Context()
    return propagate.extract({key: value for key, value in carrier.items() if isinstance(value, str)})


def message_attributes(operation: str, destination: str, routing_key: str, message_id: str) -> dict[str, str]:
    """OpenTelemetry's messaging attributes for a span about one RabbitMQ message (`send` or `process`)."""
    return {
        "messaging.system": "rabbitmq",
        "messaging.operation.type": operation,
        "messaging.destination.name": destination,
        "messaging.rabbitmq.destination.routing_key": routing_key,
        "messaging.message.id": message_id,
    }


def trace_id_of_current_span() -> str:
    """The current trace's id as 32 hex digits, as trace backends show it, or `-` outside any trace."""
    span_context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(span_context.trace_id) if span_context.is_valid else NO_TRACE
