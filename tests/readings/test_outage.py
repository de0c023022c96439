"""A database outage while a phone sends: batches get 503 (retry), nothing half-stored, and the
same batches succeed when the database is back, each stored exactly once."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import asyncpg
import httpx

from tests.factories import login, make_world
from tests.readings.helpers import post, simulated, start_stream


async def _outage(admin_dsn: str, database: str, *, allow: bool) -> None:
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {"true" if allow else "false"}')
        if not allow:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = $1 AND pid <> pg_backend_pid()",
                database,
            )
    finally:
        await admin.close()


async def test_a_batch_during_an_outage_gets_503_and_succeeds_on_retry(
    client: httpx.AsyncClient, db_dsn: str, pg_admin_dsn: str
) -> None:
    database = urlsplit(db_dsn).path.lstrip("/")
    seed = await asyncpg.connect(db_dsn)
    try:
        world = await make_world(seed)
    finally:
        await seed.close()
    employee = await login(client, world.users["employee"])
    stream_id, device = await start_stream(client, employee, "camera")
    batches = simulated("camera", stream_id, seconds=12, bpm=70)
    for batch in batches[:4]:
        assert (await post(client, device, batch)).status_code == 201

    await _outage(pg_admin_dsn, database, allow=False)
    try:
        during = [await post(client, device, batch) for batch in batches[4:8]]
        assert [r.status_code for r in during] == [503] * 4, [r.text for r in during]
        assert all(r.json()["code"] == "unavailable" for r in during)
        reads = await client.get(f"/api/v1/readings/streams/{stream_id}", headers=employee)
        assert reads.status_code == 503
    finally:
        await _outage(pg_admin_dsn, database, allow=True)

    for batch in batches[4:]:  # the phone's queue resends what failed, then carries on
        for _attempt in range(50):
            response = await post(client, device, batch)
            if response.status_code != 503:
                break
            await asyncio.sleep(0.2)
        assert response.status_code == 201, response.text
    assert (await post(client, device, batches[5])).status_code == 200
    check = await asyncpg.connect(db_dsn)
    try:
        seqs = [
            r["seq"]
            for r in await check.fetch(
                "SELECT seq FROM reading_batch WHERE stream_id = $1 ORDER BY seq", stream_id
            )
        ]
        assert seqs == list(range(12))
        summary = await check.fetchrow("SELECT batches, samples FROM reading_stream WHERE id = $1", stream_id)
        assert summary is not None
        assert summary["batches"] == 12
        assert summary["samples"] == sum(len(b.ppg.samples) for b in batches if b.ppg)
    finally:
        await check.close()
