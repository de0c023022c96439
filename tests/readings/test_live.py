"""The nurse's live view: batches posted to one app process reach a WebSocket on another process
within a second, through PostgreSQL LISTEN/NOTIFY; only people who may see the stream may watch."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.conftest import Server
from tests.factories import login, make_world
from tests.processes import app_process
from tests.readings.helpers import post, simulated, start_stream


@pytest.fixture
async def process_b(server: Server, db_dsn: str) -> AsyncIterator[str]:
    """A second app process on the same database (the `server` fixture has migrated it)."""
    async with app_process(db_dsn) as (url, _process):
        yield url


def ws_url(http_url: str, stream_id: object) -> str:
    return http_url.replace("http://", "ws://") + f"/ws/readings/{stream_id}"


async def receive(ws: ClientConnection, within: float = 5.0) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), within))
    return message


async def test_live_events_cross_processes_within_a_second(
    server: Server, process_b: str, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    employee = await login(client, world.users["employee"])
    nurse = await login(client, world.users["clinician"])
    stream_id, device = await start_stream(client, employee, "camera")
    batches = simulated("camera", stream_id, seconds=10, bpm=78)
    for batch in batches[:2]:
        assert (await post(client, device, batch)).status_code == 201
    async with connect(ws_url(process_b, stream_id), additional_headers=nurse) as ws:
        snapshot = await receive(ws)
        assert snapshot["type"] == "snapshot"
        assert snapshot["summary"]["batches"] == 2
        delays, rates = [], []
        for batch in batches[2:]:
            sent = time.monotonic()
            assert (await post(client, device, batch)).status_code == 201  # to process A
            event = await receive(ws, within=1.0)
            delays.append(time.monotonic() - sent)
            rates.append(event)
            assert event["type"] == "batch"
            assert event["seq"] == batch.seq
            assert event["totals"]["batches"] == batch.seq + 1
            assert batch.ppg is not None
            assert event["wave"]["fs"] == pytest.approx(batch.ppg.fs)
            assert event["wave"]["samples"]
        assert max(delays) < 1.0, delays
        estimate = rates[-2]  # estimates come with every other 1 s batch
        assert abs(estimate["heart_rate_bpm"] - 78) <= 5
        assert 0 < estimate["quality"] <= 1
        closed = await client.post(f"/api/v1/readings/streams/{stream_id}/close", headers=device)
        assert closed.status_code == 200
        assert (await receive(ws))["type"] == "closed"
    watched = await conn.fetchval("SELECT count(*) FROM audit_event WHERE action = 'readings.live.watch'")
    assert watched == 1


async def test_only_those_who_may_see_a_stream_may_watch_it(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    employee = await login(client, world.users["employee"])
    stream_id, _device = await start_stream(client, employee, "ble-hr")
    async with connect(ws_url(server.url, stream_id), additional_headers=employee) as ws:
        assert (await receive(ws))["type"] == "snapshot"
    for name in ("manager", "client_admin", "other_clinician", "provider_admin", "other_employee"):
        headers = await login(client, world.users[name])
        async with connect(ws_url(server.url, stream_id), additional_headers=headers) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await receive(ws)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4404, name
    async with connect(ws_url(server.url, stream_id)) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await receive(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401
    foreign = {"Origin": "https://evil.example", **employee}
    with pytest.raises(InvalidStatus) as refused:
        async with connect(ws_url(server.url, stream_id), additional_headers=foreign) as ws:
            await receive(ws)
    assert refused.value.response.status_code == 403
