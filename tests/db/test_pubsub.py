from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest

from backend.db.pubsub import RESYNC, Hub, publish


async def test_events_cross_connections_only_on_commit(db_dsn: str, conn: asyncpg.Connection) -> None:
    first, second = Hub(db_dsn), Hub(db_dsn)  # as in two app processes
    await first.start()
    await second.start()
    try:
        async with first.subscribe("room_x") as q1, second.subscribe("room_x") as q2:
            async with conn.transaction():
                await publish(conn, "room_x", {"n": 1})
                await asyncio.sleep(0.2)
                assert q1.empty(), "delivered before commit"
                assert q2.empty(), "delivered before commit"
            got = [json.loads(await asyncio.wait_for(q.get(), 5)) for q in (q1, q2)]
            assert got == [{"n": 1}, {"n": 1}]
            await _publish_then_roll_back(conn)
            await publish(conn, "room_x", {"n": 3})
            assert json.loads(await asyncio.wait_for(q1.get(), 5)) == {"n": 3}
    finally:
        await first.stop()
        await second.stop()


async def _publish_then_roll_back(conn: asyncpg.Connection) -> None:
    transaction = conn.transaction()
    await transaction.start()
    await publish(conn, "room_x", {"n": 2})
    await transaction.rollback()


async def test_hub_reconnects_and_asks_for_resync(db_dsn: str, conn: asyncpg.Connection) -> None:
    hub = Hub(db_dsn)
    await hub.start()
    try:
        async with hub.subscribe("room_y") as queue:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'ohconnect-listen'"
                " AND datname = current_database()"
            )
            assert await asyncio.wait_for(queue.get(), 10) == RESYNC
            await publish(conn, "room_y", {"after": "reconnect"})
            assert json.loads(await asyncio.wait_for(queue.get(), 5)) == {"after": "reconnect"}
    finally:
        await hub.stop()


async def test_bad_channels_and_oversized_payloads_are_refused(conn: asyncpg.Connection) -> None:
    with pytest.raises(ValueError, match="channel"):
        await publish(conn, "Robert'); DROP TABLE x;--", {})
    with pytest.raises(ValueError, match="too large"):
        await publish(conn, "room_z", {"blob": "x" * 9000})


async def test_a_slow_subscriber_is_told_to_resync(db_dsn: str, conn: asyncpg.Connection) -> None:
    hub = Hub(db_dsn, queue_size=3)
    await hub.start()
    try:
        async with hub.subscribe("room_s") as queue:
            for n in range(6):
                await publish(conn, "room_s", {"n": n})
            await asyncio.sleep(0.3)
            items = [queue.get_nowait() for _ in range(queue.qsize())]
            assert RESYNC in items
            assert json.loads(items[-1]) == {"n": 5}
    finally:
        await hub.stop()
