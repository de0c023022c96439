"""The OpenTelemetry side of tracing (imported only when an endpoint is set; see tracing.py).

Spans leave the process through ``PrivateSpanExporter``, which keeps an ALLOW-LIST of attributes:
method, route template, status, scheme and protocol, the request id (``X-Request-ID``), and for
database spans the system, database name, server address and the statement text (SQL with ``$n``
placeholders; parameter values are never captured). URLs, paths with ids, query strings, client
addresses, user agents, bodies, exception messages and status descriptions are dropped, so no
personal data reaches the collector. Only request and WebSocket spans start traces: queries
outside a request (background jobs, start-up) are not recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import FastAPI
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, SpanKind, Status, TraceState
from opentelemetry.util.types import Attributes

SERVICE = "ohconnect"
REQUEST_ID_HEADER = "x-request-id"

# Server spans (HTTP requests, WebSockets), under both the older and the stable semantic conventions.
# Not the peer's address or port: those are the client's.
HTTP_ATTRIBUTES = frozenset(
    {
        "http.method",
        "http.request.method",
        "http.route",
        "http.status_code",
        "http.response.status_code",
        "http.scheme",
        "url.scheme",
        "http.flavor",
        "network.protocol.version",
        "http.response.header.x_request_id",
        "error.type",
    }
)
# Database client spans: the peer is the database server.
DB_ATTRIBUTES = frozenset(
    {
        "db.system",
        "db.system.name",
        "db.name",
        "db.namespace",
        "db.statement",
        "db.query.text",
        "net.peer.name",
        "net.peer.port",
        "server.address",
        "server.port",
        "net.transport",
        "network.transport",
        "error.type",
    }
)
ALLOWED_EVENT_ATTRIBUTES = frozenset({"exception.type", "exception.escaped"})


def _kept(attributes: Attributes, allowed: frozenset[str]) -> dict[str, object]:
    return {key: value for key, value in (attributes or {}).items() if key in allowed}


def scrubbed(span: ReadableSpan) -> ReadableSpan:
    """The span with only allow-listed attributes, exception events reduced to their type and no
    status description (they can quote values)."""
    allowed = DB_ATTRIBUTES if span.kind == SpanKind.CLIENT else HTTP_ATTRIBUTES
    events = [
        Event(event.name, _kept(event.attributes, ALLOWED_EVENT_ATTRIBUTES), event.timestamp)  # type: ignore[arg-type]
        for event in span.events
    ]
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_kept(span.attributes, allowed),  # type: ignore[arg-type]
        events=events,
        links=[Link(link.context) for link in span.links],
        kind=span.kind,
        status=Status(span.status.status_code),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class PrivateSpanExporter(SpanExporter):
    """Hands the wrapped exporter scrubbed copies of each batch."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([scrubbed(span) for span in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


class RequestsOnly(Sampler):
    """Root sampler: a trace starts only at a server span (an HTTP request or a WebSocket)."""

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
        if kind == SpanKind.SERVER:
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, trace_state)
        return SamplingResult(Decision.DROP, None, trace_state)

    def get_description(self) -> str:
        return "RequestsOnly"


@dataclass
class Tracing:
    provider: TracerProvider

    @classmethod
    def install(cls, app: FastAPI, endpoint: str) -> Tracing:
        provider = TracerProvider(
            resource=Resource.create({SERVICE_NAME: SERVICE}),
            sampler=ParentBased(root=RequestsOnly()),
            shutdown_on_exit=False,  # the app's lifespan shuts it down
        )
        provider.add_span_processor(BatchSpanProcessor(PrivateSpanExporter(OTLPSpanExporter(endpoint))))
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=provider,
            http_capture_headers_server_response=[REQUEST_ID_HEADER],
            exclude_spans=["receive", "send"],  # one span per request, not per ASGI message
        )
        return cls(provider)

    def start(self) -> None:
        """Database spans (process-wide: asyncpg is patched until ``stop``)."""
        instrumentor = AsyncPGInstrumentor(capture_parameters=False)  # type: ignore[no-untyped-call]
        instrumentor.instrument(tracer_provider=self.provider)

    def stop(self) -> None:
        AsyncPGInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
        self.provider.shutdown()  # exports what is still queued
