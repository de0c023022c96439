"""Batches of different streams sent at the same time are stored together (one statement, one
commit; ``backend.db.grouped``), and each still gets everything a batch stored alone gets: its row
once, its readings, its stream's summary, its own audit row and its own live event."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from backend.auth.schemas import Role
from backend.readings.service import channel
from sensors.simulator import simulate_ppg
from tests.factories import login, make_user, make_world
from tests.readings.helpers import now, post, ppg_runs, start_stream

FS = 50.0
STREAMS = 8
SECONDS = 10


async def _phone(client: httpx.AsyncClient, device: dict[str, str], batches: list[dict[str, Any]]) -> None:
    for batch in batches:
        response = await post(client, device, batch)
        assert response.status_code == 201, response.text


def _store_figures(metrics: str) -> dict[str, float]:
    found = re.findall(r'^ohconnect_reading_store_writes\{kind="(\w+)"\} (\S+)$', metrics, re.MULTILINE)
    return {kind: float(value) for kind, value in found}


async def test_batches_sent_together_are_stored_together_each_whole(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    phones = []
    for i in range(STREAMS):
        employee = await login(client, await make_user(conn, world.employer, Role.employee))
        stream_id, device = await start_stream(client, employee, "camera")
        signal = simulate_ppg(60 + 5 * i, SECONDS, FS, seed=i, noise=0.03).signal.tolist()
        started = now() - timedelta(seconds=SECONDS + 5)
        phones.append((stream_id, device, list(ppg_runs(stream_id, signal, FS, started_at=started, per=50))))
    events: dict[str, list[int]] = {channel(stream_id): [] for stream_id, _, _ in phones}

    def heard(_conn: object, _pid: int, name: str, payload: object) -> None:
        events[name].append(json.loads(str(payload))["seq"])

    for name in events:
        await conn.add_listener(name, heard)
    before = _store_figures((await client.get("/metrics")).text)

    await asyncio.gather(*(_phone(client, device, batches) for _, device, batches in phones))

    after = _store_figures((await client.get("/metrics")).text)
    statements = after["statements"] - before.get("statements", 0)
    stored = after["batches"] - before.get("batches", 0)
    assert stored == STREAMS * SECONDS
    assert statements < stored, (statements, stored)  # some statements stored several batches
    for stream_id, _, batches in phones:
        seqs = [
            r["seq"]
            for r in await conn.fetch("SELECT seq FROM reading_batch WHERE stream_id = $1", stream_id)
        ]
        assert sorted(seqs) == [b["seq"] for b in batches]
        summary = await conn.fetchrow(
            "SELECT batches, samples, hr_count, readings FROM reading_stream WHERE id = $1", stream_id
        )
        readings = await conn.fetchval("SELECT count(*) FROM reading WHERE stream_id = $1", stream_id)
        assert summary is not None
        assert (summary["batches"], summary["samples"]) == (SECONDS, SECONDS * 50)
        assert summary["readings"] == readings > 0
        audited = await conn.fetchval(
            "SELECT count(*) FROM audit_event WHERE action = 'readings.batch.ingest' AND entity_id = $1",
            str(stream_id),
        )
        assert audited == SECONDS
    for _ in range(100):  # notifications arrive on commit, a moment after the replies
        if all(len(seqs) == SECONDS for seqs in events.values()):
            break
        await asyncio.sleep(0.05)
    assert all(sorted(seqs) == list(range(SECONDS)) for seqs in events.values()), events
