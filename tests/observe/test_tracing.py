"""OpenTelemetry tracing: with an OTLP endpoint set, a real app process sends its spans over
OTLP/HTTP (protobuf) to a loopback collector started here; without one, nothing is imported."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as SpanProto
from pydantic import ValidationError

from backend.core.config import Settings
from backend.observe.tracing import traces_endpoint
from backend.referrals.schemas import EXAMPLE_FORM
from tests.factories import PASSWORD, login, make_referral, make_world
from tests.processes import app_process

ROOT = Path(__file__).resolve().parents[2]
REFERRAL_ROUTE = "GET /api/v1/referrals/{referral_id}"
REQUEST_ID = "trace-test-request-1"
QUERY_MARKER = "query-value-must-not-travel"
WRONG_PASSWORD = "wrong-password-must-not-travel"
# Attributes the instrumentation sets and the exporter must drop (addresses, raw paths, queries).
DROPPED_KEYS = {
    "http.url",
    "http.target",
    "url.full",
    "url.query",
    "url.path",
    "http.host",
    "client.address",
    "net.peer.ip",
    "http.user_agent",
    "user_agent.original",
}


@dataclass
class Span:
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, Any]
    events: list[dict[str, Any]]
    status_message: str


@dataclass
class Collector:
    """What the loopback OTLP/HTTP receiver was sent."""

    url: str
    posts: list[tuple[str, str]] = field(default_factory=list)  # (path, content type)
    resources: list[dict[str, Any]] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> list[Span]:
        with self.lock:
            return list(self.spans)


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return tuple(_value(item) for item in value.array_value.values)
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


def _record(collector: Collector, request: ExportTraceServiceRequest) -> None:
    with collector.lock:
        for resource_spans in request.resource_spans:
            collector.resources.append(
                {kv.key: _value(kv.value) for kv in resource_spans.resource.attributes}
            )
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    collector.spans.append(
                        Span(
                            name=span.name,
                            kind=span.kind,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_id=span.parent_span_id.hex(),
                            attributes={kv.key: _value(kv.value) for kv in span.attributes},
                            events=[
                                {"name": e.name, **{kv.key: _value(kv.value) for kv in e.attributes}}
                                for e in span.events
                            ],
                            status_message=span.status.message,
                        )
                    )


@pytest.fixture
def collector() -> Iterator[Collector]:
    found = Collector(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            with found.lock:
                found.posts.append((self.path, self.headers.get("Content-Type", "")))
            _record(found, request)
            reply = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield found
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def _texts(span: Span) -> list[str]:
    """Everything a span carries as text: name, attribute keys and values, events, status."""
    return [
        span.name,
        span.status_message,
        json.dumps(span.attributes, default=str),
        json.dumps(span.events, default=str),
    ]


async def _wait_for(collector: Collector, name: str, request_id: str) -> Span:
    for _ in range(300):
        for span in collector.snapshot():
            if span.name == name and span.attributes.get("http.response.header.x_request_id") == (
                request_id,
            ):
                return span
        await asyncio.sleep(0.05)
    raise AssertionError(f"no span {name!r} for request {request_id} reached the collector")


async def test_requests_and_their_queries_reach_the_collector_without_personal_data(
    collector: Collector, conn: asyncpg.Connection, db_dsn: str
) -> None:
    world = await make_world(conn)
    manager = world.users["manager"]
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    async with (
        app_process(db_dsn, env) as (url, _),
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        refused = await client.post(
            "/api/v1/auth/login", json={"email": manager.email, "password": WRONG_PASSWORD}
        )
        assert refused.status_code == 401
        headers = await login(client, manager)
        referral_id = (await make_referral(client, headers))["id"]
        response = await client.get(
            f"/api/v1/referrals/{referral_id}",
            params={"email": EXAMPLE_FORM["employee"]["email"], "probe": QUERY_MARKER},
            headers={**headers, "X-Request-ID": REQUEST_ID},
        )
        assert response.status_code == 200, response.text
        server = await _wait_for(collector, REFERRAL_ROUTE, REQUEST_ID)
    # Shutting the process down flushed the rest.
    spans = collector.snapshot()
    assert collector.posts
    assert set(collector.posts) == {("/v1/traces", "application/x-protobuf")}
    assert all(resource.get("service.name") == "ohconnect" for resource in collector.resources)
    _assert_request_trace(server, spans)
    forbidden = [
        manager.email,
        world.users["employee"].email,
        EXAMPLE_FORM["employee"]["email"],
        EXAMPLE_FORM["employee"]["full_name"],
        EXAMPLE_FORM["employee"]["date_of_birth"],
        EXAMPLE_FORM["referrer"]["email"],
        PASSWORD,
        WRONG_PASSWORD,
        QUERY_MARKER,
        referral_id,  # raw paths never travel: only route templates
        "probe=",
        "127.0.0.1:" + url.rsplit(":", 1)[1],  # the app's own address, as in a full URL
    ]
    _assert_private(spans, forbidden)


def _assert_request_trace(server: Span, spans: list[Span]) -> None:
    """The referral GET is a root server span by route template, its queries its children."""
    assert server.kind == SpanProto.SPAN_KIND_SERVER
    assert server.parent_id == ""
    status = server.attributes.get("http.status_code", server.attributes.get("http.response.status_code"))
    assert status == 200
    assert server.attributes["http.route"] == "/api/v1/referrals/{referral_id}"
    queries = [s for s in spans if s.trace_id == server.trace_id and s.span_id != server.span_id]
    assert queries, "the request's database queries are not in its trace"
    for query in queries:
        assert query.kind == SpanProto.SPAN_KIND_CLIENT
        assert query.parent_id == server.span_id
        assert query.attributes["db.system"] == "postgresql"
        assert "db.statement.parameters" not in query.attributes
    statements = [q.attributes["db.statement"] for q in queries]
    assert any("referral" in s and "$1" in s for s in statements), statements
    names = {s.name for s in spans if s.kind == SpanProto.SPAN_KIND_SERVER}
    posts = {
        "POST /api/v1/auth/login",
        "POST /api/v1/referrals",
        "POST /api/v1/referrals/{referral_id}/submit",
    }
    assert posts <= names
    logins = [s for s in spans if s.name == "POST /api/v1/auth/login"]
    assert sorted(s.attributes.get("http.status_code", 0) for s in logins) == [200, 401]


def _assert_private(spans: list[Span], forbidden: list[str]) -> None:
    for span in spans:
        text = " ".join(_texts(span))
        leaked = [value for value in forbidden if value in text]
        assert not leaked, f"span {span.name!r} carries {leaked}"
        assert not DROPPED_KEYS & set(span.attributes), span.attributes
        if span.kind == SpanProto.SPAN_KIND_SERVER:  # the peer of a server span is the client
            assert not {"net.peer.port", "net.peer.name", "client.port"} & set(span.attributes)


def test_without_an_endpoint_no_opentelemetry_sdk_is_imported() -> None:
    script = (
        "import sys\n"
        "from backend.core.config import Settings\n"
        "from backend.main import create_app\n"
        "app = create_app(Settings(environment='test'))\n"
        "assert app.state.tracing is None\n"
        "loaded = [m for m in sys.modules if m.startswith(('opentelemetry.sdk', 'opentelemetry.exporter',"
        " 'opentelemetry.instrumentation', 'backend.observe.otel'))]\n"
        "print(sorted(loaded))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(  # noqa: S603  (this interpreter, a fixed script)
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_traces_address_comes_from_the_standard_variables() -> None:
    assert traces_endpoint(Settings(environment="test")) is None
    base = Settings(environment="test", OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4318/")
    assert traces_endpoint(base) == "http://collector:4318/v1/traces"
    both = Settings(
        environment="test",
        OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="https://traces.example/otlp/spans",
    )
    assert traces_endpoint(both) == "https://traces.example/otlp/spans"
    assert traces_endpoint(Settings(environment="test", OTEL_EXPORTER_OTLP_ENDPOINT="")) is None
    with pytest.raises(ValidationError, match="OTEL_EXPORTER_OTLP_ENDPOINT"):
        Settings(environment="test", OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318")
