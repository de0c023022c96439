"""The process's Prometheus metrics and the middleware that times requests and counts sockets.

Every label is bounded: routes are the path TEMPLATES FastAPI matched (never a raw path with ids),
statuses are numbers, socket kinds and states are fixed words. Each process keeps its own values;
Prometheus scrapes every process (see README, "Metrics").
"""

from __future__ import annotations

import logging
import secrets
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.http import request_id_var

logger = logging.getLogger("ohconnect.access")

REGISTRY = CollectorRegistry(auto_describe=True)

REQUEST_SECONDS = Histogram(
    "ohconnect_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
WEBSOCKETS_OPEN = Gauge(
    "ohconnect_websockets_open",
    "WebSockets this process has accepted and not yet closed, by kind (clinic, readings).",
    ["kind"],
    registry=REGISTRY,
)
READING_BATCHES = Counter(
    "ohconnect_reading_batches",
    "Pulse reading batches answered by this process, by outcome (stored, repeat, refused).",
    ["outcome"],
    registry=REGISTRY,
)
WAITING_ROOM_SOCKETS = Gauge(
    "ohconnect_waiting_room_sockets",
    "People in the waiting rooms this process serves, by kind (clinician, employee, guest).",
    ["kind"],
    registry=REGISTRY,
)
WAITING_ROOMS = Gauge(
    "ohconnect_waiting_rooms_open",
    "Clinic sessions with at least one socket on this process.",
    registry=REGISTRY,
)
OUTBOX_MESSAGES = Gauge(
    "ohconnect_outbox_messages",
    "Outgoing messages in the outbox by status (pending, retrying, sending, failed), read at scrape time.",
    ["status"],
    registry=REGISTRY,
)
OUTBOX_OLDEST_PENDING = Gauge(
    "ohconnect_outbox_oldest_pending_seconds",
    "Age of the oldest message not yet sent (0 when none), read at scrape time.",
    registry=REGISTRY,
)
JOBS = Gauge(
    "ohconnect_job_queue_jobs",
    "Background jobs by status, when the job queue table exists, read at scrape time.",
    ["status"],
    registry=REGISTRY,
)
DB_POOL = Gauge(
    "ohconnect_db_pool_connections",
    "This process's database pool: connections open (size), idle, and the most it may open (max).",
    ["state"],
    registry=REGISTRY,
)
READING_STORES = Gauge(
    "ohconnect_reading_store_writes",
    "Since this process started: statements storing pulse reading batches (statements), and the "
    "batches they stored together (batches); batches per statement is the mean group size.",
    ["kind"],
    registry=REGISTRY,
)
SCRAPE_ERRORS = Counter(
    "ohconnect_metrics_database_errors",
    "Scrapes whose database figures could not be read (the previous values are kept).",
    registry=REGISTRY,
)

KNOWN_BATCH_ROUTE = "/api/v1/readings/batches"


def route_template(scope: Scope) -> str:
    """The matched route's template; requests no route matched (static pages, 404s) share one label."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) else "(unmatched)"


def socket_kind(path: str) -> str:
    if path.startswith("/ws/clinic"):
        return "clinic"
    if path.startswith("/ws/readings"):
        return "readings"
    return "other"


def _batch_outcome(status: int) -> str:
    return {201: "stored", 200: "repeat"}.get(status, "refused")


class MetricsMiddleware:
    """Times each HTTP request by route template and status, writes one access-log line without
    the client's address or the raw path, and counts open WebSockets."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._socket(scope, receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            seconds = time.perf_counter() - started
            route, method = route_template(scope), str(scope.get("method", ""))
            REQUEST_SECONDS.labels(method, route, str(status)).observe(seconds)
            if route == KNOWN_BATCH_ROUTE and method == "POST":
                READING_BATCHES.labels(_batch_outcome(status)).inc()
            logger.info(
                "%s %s %d %.1f ms",
                method,
                route,
                status,
                seconds * 1000,
                extra={
                    "http_method": method,
                    "route": route,
                    "status": status,
                    "ms": round(seconds * 1000, 1),
                },
            )

    async def _socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        gauge = WEBSOCKETS_OPEN.labels(socket_kind(str(scope.get("path", ""))))
        accepted: float | None = None
        # A socket's log lines share one id, as a request's do (set for HTTP by SecurityHeadersMiddleware).
        token = request_id_var.set(secrets.token_hex(8))

        async def counted_send(message: Message) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept" and accepted is None:
                accepted = time.perf_counter()
                gauge.inc()
                logger.info(
                    "WebSocket %s accepted", route_template(scope), extra={"route": route_template(scope)}
                )
            await send(message)

        try:
            await self.app(scope, receive, counted_send)
        finally:
            if accepted is not None:
                gauge.dec()
                seconds = time.perf_counter() - accepted
                route = route_template(scope)
                logger.info("WebSocket %s closed after %.1f s", route, seconds, extra={"route": route})
            request_id_var.reset(token)
