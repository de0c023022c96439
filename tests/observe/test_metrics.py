"""GET /metrics: route templates (never raw ids), sockets, batches, outbox, pool; operators only."""

from __future__ import annotations

import asyncio
import re

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from backend.observe import queries
from tests.conftest import Server
from tests.factories import login, make_world
from tests.readings.helpers import post, simulated, start_stream

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TOKEN = "metrics-test-token-0123456789"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_requests_are_counted_by_route_template_and_status(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    employee = await login(client, world.users["employee"])
    stream_id, device = await start_stream(client, employee, "ble-hr")
    route = "/api/v1/readings/streams/{stream_id}"
    before = await scrape(client)
    for _ in range(3):
        assert (
            await client.get(f"/api/v1/readings/streams/{stream_id}", headers=employee)
        ).status_code == 200
    unknown = "/api/v1/readings/streams/00000000-0000-4000-8000-000000000000"
    assert (await client.get(unknown, headers=employee)).status_code == 404
    batches = simulated("ble-hr", stream_id, seconds=2, bpm=70)
    for batch in batches:
        assert (await post(client, device, batch)).status_code == 201
    assert (await post(client, device, batches[0])).status_code == 200
    after = await scrape(client)
    name = "ohconnect_http_request_duration_seconds_count"
    grew = value(after, name, method="GET", route=route, status="200") - value(
        before, name, method="GET", route=route, status="200"
    )
    assert grew == 3
    assert value(after, name, method="GET", route=route, status="404") >= 1
    assert value(after, "ohconnect_reading_batches_total", outcome="stored") - value(
        before, "ohconnect_reading_batches_total", outcome="stored"
    ) == len(batches)
    assert value(after, "ohconnect_reading_batches_total", outcome="repeat") >= 1
    assert not UUID_RE.search(after), "a raw path with an id reached a label"
    assert value(after, "ohconnect_db_pool_connections", state="max") == 4
    assert value(after, "ohconnect_db_pool_connections", state="size") >= 1


INSERT = """
INSERT INTO outbox_message (recipient, subject, body, status, attempts, created_at)
VALUES ('nobody@example.test', 's', 'b', $1, $2, now() - make_interval(secs => $3))
"""


async def test_outbox_figures_by_delivery_status(conn: asyncpg.Connection) -> None:
    rows = (
        ("pending", 0, 90),
        ("pending", 2, 10),
        ("sending", 1, 30),
        ("failed", 10, 600),
        ("sent", 1, 5000),
    )
    for status, attempts, age in rows:
        await conn.execute(INSERT, status, attempts, age)
    outbox = await queries.outbox(conn)
    assert {r.status: r.n for r in outbox.counts} == {"pending": 2, "sending": 1, "failed": 1}
    assert 89 < outbox.oldest_waiting_s < 120  # neither the failed nor the sent message is waiting


async def test_failed_messages_are_scraped_as_failed(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    for _ in range(2):
        await conn.execute(INSERT, "failed", 10, 60)
    text = await scrape(client)
    assert value(text, "ohconnect_outbox_messages", status="failed") == 2
    assert 'ohconnect_outbox_messages{status="failed"}' in text


async def test_open_websockets_are_counted_by_kind(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    employee = await login(client, world.users["employee"])
    stream_id, _device = await start_stream(client, employee, "ble-hr")
    url = server.url.replace("http://", "ws://") + f"/ws/readings/{stream_id}"
    before = value(await scrape(client), "ohconnect_websockets_open", kind="readings")
    async with connect(url, additional_headers=employee) as ws:
        await asyncio.wait_for(ws.recv(), 5)
        assert value(await scrape(client), "ohconnect_websockets_open", kind="readings") == before + 1
    for _ in range(100):
        if value(await scrape(client), "ohconnect_websockets_open", kind="readings") == before:
            break
        await asyncio.sleep(0.05)
    assert value(await scrape(client), "ohconnect_websockets_open", kind="readings") == before


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"metrics_token": TOKEN}


async def test_only_loopback_or_the_token_may_read_metrics(client: httpx.AsyncClient) -> None:
    missing = await client.get("/no-such-page")
    proxied = {"X-Forwarded-For": "203.0.113.9"}
    for headers in (
        proxied,
        {"Forwarded": "for=203.0.113.9"},
        {**proxied, "Authorization": "Bearer wrong-token"},
        {**proxied, "Authorization": f"Basic {TOKEN}"},
    ):
        refused = await client.get("/metrics", headers=headers)
        assert refused.status_code == 404, headers
        assert refused.text == missing.text
        assert refused.headers["content-type"] == missing.headers["content-type"]
    allowed = await client.get("/metrics", headers={**proxied, "Authorization": f"Bearer {TOKEN}"})
    assert allowed.status_code == 200
    assert "ohconnect_http_request_duration_seconds" in allowed.text
    assert (await client.get("/metrics")).status_code == 200  # loopback, no proxy in between
    document = (await client.get("/openapi.json")).json()
    assert "/metrics" not in document["paths"]
