"""OpenTelemetry tracing, only when a collector is configured.

With ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_ENDPOINT`` set, each HTTP
request and WebSocket becomes a server span named by its route template, with the database queries
it made as child spans, exported over OTLP/HTTP (backend.observe.otel). Unset, nothing of
OpenTelemetry's SDK is imported: this module only decides, and imports the rest on demand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from backend.core.config import Settings

if TYPE_CHECKING:
    from backend.observe.otel import Tracing


def traces_endpoint(settings: Settings) -> str | None:
    """Where spans go: the traces address as given, else the collector's base address + /v1/traces."""
    if settings.otlp_traces_endpoint:
        return settings.otlp_traces_endpoint
    if settings.otlp_endpoint:
        return settings.otlp_endpoint.rstrip("/") + "/v1/traces"
    return None


def install(app: FastAPI, settings: Settings) -> Tracing | None:
    """Trace ``app``'s requests when an endpoint is configured; the lifespan starts and stops the
    database instrumentation and flushes what is left (``Tracing.start``/``stop``)."""
    endpoint = traces_endpoint(settings)
    if endpoint is None:
        return None
    from backend.observe import otel  # the SDK only when tracing is on

    return otel.Tracing.install(app, endpoint)
