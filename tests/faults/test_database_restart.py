"""Fault: PostgreSQL restarted (``pg_ctl restart -m fast``) while 50 simulated phones stream
readings to a real app process. Every batch is stored exactly once after the phones retry.

The database is a private cluster on its own port (tests/faults/cluster.py), never the shared
one other tests use; the app is a uvicorn subprocess on it; the phones are ``sensors.phone``
(on-disk buffer, retries on 5xx and connection errors, idempotent on (stream_id, seq)).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from backend.core.config import Settings
from backend.db import migrate
from sensors import phone
from sensors.protocol import DeviceKind
from tests.factories import login, make_world
from tests.faults.cluster import private_cluster
from tests.processes import app_process

PHONES = 50
SECONDS = 12  # one batch a second per phone
RESTART_WHEN = PHONES * 3  # batches stored: every phone is streaming


async def _wait_for(check, what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


@pytest.mark.timeout(180)
async def test_every_batch_is_stored_once_across_a_database_restart(tmp_path: Path) -> None:
    async with private_cluster() as cluster:
        dsn = cluster.dsn("ohconnect")
        await migrate.migrate(dsn, app_role=Settings().db_app_role)
        seed = await asyncpg.connect(dsn)
        try:
            world = await make_world(seed)
        finally:
            await seed.close()
        async with app_process(dsn, {"OHCONNECT_DB_POOL_MAX": "10"}) as (url, _process):
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                token = (await login(client, world.users["employee"]))["Authorization"].removeprefix(
                    "Bearer "
                )
            devices: tuple[DeviceKind, ...] = ("ble-hr", "ble-plx")
            runs = [
                asyncio.create_task(
                    phone.run(
                        phone.Options(
                            server=url,
                            token=token,
                            seconds=SECONDS,
                            device=devices[i % 2],
                            seed=i,
                            bpm=60 + i % 40,
                            buffer_dir=tmp_path / f"phone-{i}",
                        )
                    )
                )
                for i in range(PHONES)
            ]
            watch = await asyncpg.connect(dsn)
            try:
                started = time.monotonic()
                await _wait_for(
                    lambda: _count(watch, "SELECT count(*) FROM reading_batch", RESTART_WHEN),
                    f"{RESTART_WHEN} batches stored",
                    timeout_s=60,
                )
                before = await watch.fetchval("SELECT count(*) FROM reading_batch")
                booted = await watch.fetchval("SELECT pg_postmaster_start_time()")
            finally:
                await watch.close()
            restart_at = time.monotonic() - started
            down_s = await cluster.restart()
            reports = await asyncio.wait_for(asyncio.gather(*runs), timeout=120)
            took = time.monotonic() - started

        check = await asyncpg.connect(dsn)
        try:
            stored = await _stored(check)
            rebooted = await check.fetchval("SELECT pg_postmaster_start_time()")
        finally:
            await check.close()

    expected = PHONES * SECONDS
    retries = sum(r.retries for r in reports)
    repeats = sum(r.repeats for r in reports)
    print(
        f"\ntried: {PHONES} phones x {SECONDS} one-second batches ({expected}) to a uvicorn process; "
        f"PostgreSQL restarted (pg_ctl restart -m fast) at {restart_at:.1f} s, with {before} batches "
        f"stored, back after {down_s:.1f} s"
        f"\nsurvived: {stored['batches']} batches stored, {stored['distinct']} distinct (stream, seq), "
        f"lost {expected - stored['distinct']}, duplicated {stored['batches'] - stored['distinct']}; "
        f"{stored['duplicate_readings']} duplicated readings; stream summaries agree: "
        f"{stored['summaries_agree']}; phones retried {retries} times ({repeats} resent after a lost "
        f"reply), {sum(r.pending for r in reports)} left buffered, {took:.1f} s in all"
    )
    assert [r.rejected for r in reports if r.rejected] == []
    assert all(r.acknowledged == SECONDS and r.pending == 0 for r in reports), [r.line() for r in reports]
    assert stored["streams"] == PHONES
    assert stored["distinct"] == expected, "lost batches"
    assert stored["batches"] == expected, "duplicated batches"
    assert stored["complete_streams"] == PHONES, "every stream holds seq 0 to SECONDS - 1"
    assert stored["duplicate_readings"] == 0
    assert stored["summaries_agree"]
    assert 0 < before < expected, "the restart came mid-stream"
    assert rebooted > booted, "PostgreSQL really restarted mid-stream"
    # On a quiet machine a fast restart can be absorbed by the app (requests wait for a fresh
    # connection) without any phone seeing an error; on a busy one the phones retry. Either way
    # nothing may be lost or duplicated, which is what is asserted above.


async def _count(conn: asyncpg.Connection, sql: str, wanted: int) -> bool:
    return bool(await conn.fetchval(sql) >= wanted)


async def _stored(conn: asyncpg.Connection) -> dict[str, int | bool]:
    row = await conn.fetchrow(
        """
        SELECT (SELECT count(*) FROM reading_stream) AS streams,
               (SELECT count(*) FROM reading_batch) AS batches,
               (SELECT count(*) FROM (SELECT DISTINCT stream_id, seq FROM reading_batch) d) AS distinct,
               (SELECT count(*) FROM (
                    SELECT stream_id FROM reading_batch GROUP BY stream_id
                    HAVING array_agg(seq ORDER BY seq)
                         = (SELECT array_agg(g) FROM generate_series(0, $1 - 1) g)
               ) c) AS complete_streams,
               (SELECT count(*) FROM (
                    SELECT 1 FROM reading GROUP BY stream_id, seq, offset_s, source HAVING count(*) > 1
               ) r) AS duplicate_readings,
               (SELECT bool_and(s.batches = b.n AND s.readings = coalesce(r.n, 0))
                  FROM reading_stream s
                  JOIN (SELECT stream_id, count(*) AS n FROM reading_batch GROUP BY stream_id) b
                       ON b.stream_id = s.id
                  LEFT JOIN (SELECT stream_id, count(*) AS n FROM reading GROUP BY stream_id) r
                       ON r.stream_id = s.id) AS summaries_agree
        """,
        SECONDS,
    )
    assert row is not None
    return dict(row)
