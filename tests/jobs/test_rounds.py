"""The job queue's parts in this process, on real PostgreSQL: the schedule every worker registers,
reading-partition upkeep run twice, the queue's schema applied by concurrent migrations, the queue
depth on /metrics, and a stalled round handed on."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from procrastinate.jobs import Status

from backend.core.config import Settings
from backend.db import job_schema, migrate, pool
from backend.jobs import queue, rounds
from backend.jobs.rounds import JobRuntime
from backend.notify import service as notify
from backend.readings import upkeep
from tests.db.fresh import empty_database


@pytest.fixture
async def app_pool(db_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    db = await pool.create_pool(db_dsn, min_size=1, max_size=2, role="ohconnect_app")
    yield db
    await db.close()


def test_every_round_is_a_periodic_task_with_its_own_locks() -> None:
    settings = Settings(environment="test", mail_poll_seconds=5)
    app = queue.build_app("postgresql://unused@127.0.0.1/unused", settings)
    periodic = {key[1]: task for key, task in app.periodic_registry.periodic_tasks.items()}
    assert set(periodic) == {r.name for r in rounds.ROUNDS} | {"job_housekeeping"}
    assert periodic["deliver_messages"].cron == "* * * * * */5"
    assert periodic["send_reminders"].cron == "* * * * *"
    assert periodic["partition_upkeep"].cron == "7 * * * *"
    assert periodic["retention"].cron == "23 2 * * *"
    for name, item in periodic.items():
        task = item.task
        assert task.name == f"ohconnect.{name}"
        assert (task.lock, task.queueing_lock, task.queue) == (name, name, queue.QUEUE)
        assert task.retry_strategy is None, "a queue retry would collide with the next run's queueing lock"


@pytest.mark.parametrize(
    ("seconds", "cron"),
    [
        (0.1, "* * * * * *"),
        (2, "* * * * * */2"),
        (7, "* * * * * */6"),
        (90, "* * * * *"),
        (600, "*/10 * * * *"),
    ],
)
def test_delivery_schedule_follows_the_poll_setting(seconds: float, cron: str) -> None:
    assert rounds.every(seconds) == cron


async def test_partition_upkeep_makes_the_coming_months_once(
    app_pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    at = datetime(2031, 11, 20, 23, 59, tzinfo=UTC)
    made = await upkeep.ensure_partitions(app_pool, at=at, months_ahead=3)
    assert made == ["reading_y2031m11", "reading_y2031m12", "reading_y2032m01", "reading_y2032m02"]
    before = await conn.fetch(
        "SELECT relname FROM pg_class WHERE relname LIKE 'reading_y20%' AND relkind = 'r' ORDER BY 1"
    )
    assert await upkeep.ensure_partitions(app_pool, at=at, months_ahead=3) == []
    assert await upkeep.ensure_partitions(app_pool, at=datetime(2031, 12, 1, tzinfo=UTC), months_ahead=3) == [
        "reading_y2032m03"
    ]
    after = await conn.fetch(
        "SELECT relname FROM pg_class WHERE relname LIKE 'reading_y20%' AND relkind = 'r' ORDER BY 1"
    )
    assert [r[0] for r in after] == sorted([*(r[0] for r in before), "reading_y2032m03"])
    bounds = await conn.fetchval(
        "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'reading_y2032m01'"
    )
    assert bounds == "FOR VALUES FROM ('2032-01-01 00:00:00+00') TO ('2032-02-01 00:00:00+00')"
    # The round (this month onwards) twice: the second run makes nothing.
    runtime = JobRuntime.build(app_pool, Settings(environment="test"))
    upkeep_round = next(r for r in rounds.ROUNDS if r.name == "partition_upkeep")
    await rounds.run_round(upkeep_round, runtime)
    assert await rounds.run_round(upkeep_round, runtime) == 0


async def test_the_queue_schema_comes_once_from_concurrent_migrations(pg_admin_dsn: str) -> None:
    async with empty_database(pg_admin_dsn, "ohc_jobs") as dsn:
        await asyncio.gather(*(migrate.migrate(dsn, app_role="ohconnect_app") for _ in range(3)))
        await migrate.migrate(dsn, app_role="ohconnect_app")
        conn = await asyncpg.connect(dsn)
        try:
            recorded = [r[0] for r in await conn.fetch("SELECT name FROM job_queue_migration ORDER BY 1")]
            tables = await conn.fetchval(
                "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'procrastinate_%'"
            )
            readable = await conn.fetchval(
                "SELECT has_table_privilege('ohconnect_app', 'procrastinate_jobs', 'SELECT')"
            )
        finally:
            await conn.close()
    assert recorded == list(job_schema.shipped_migrations())
    assert tables == 4
    assert readable is True


async def test_metrics_show_the_job_queue_depth(client: httpx.AsyncClient, db_dsn: str) -> None:
    settings = Settings(environment="test")
    app = queue.build_app(db_dsn, settings)
    async with app.open_async():
        await app.tasks["ohconnect.send_reminders"].defer_async(timestamp=0)
        await app.tasks["ohconnect.partition_upkeep"].defer_async(timestamp=0)
    text = (await client.get("/metrics")).text
    assert 'ohconnect_job_queue_jobs{status="todo"} 2.0' in text
    async with app.open_async():
        worker_id = await app.job_manager.register_worker()
        job = await app.job_manager.fetch_job(queues=[queue.QUEUE], worker_id=worker_id)
        assert job is not None
        assert job.id is not None
        await app.job_manager.finish_job_by_id_async(job.id, status=Status.SUCCEEDED, delete_job=True)
    text = (await client.get("/metrics")).text
    assert 'ohconnect_job_queue_jobs{status="todo"} 1.0' in text
    assert 'ohconnect_job_queue_jobs{status="doing"} 0.0' in text


async def test_a_round_left_running_by_a_silent_worker_is_aborted_and_frees_its_lock(
    db_dsn: str, conn: asyncpg.Connection
) -> None:
    app = queue.build_app(db_dsn, Settings(environment="test"))
    async with app.open_async():
        manager = app.job_manager
        await app.tasks["ohconnect.deliver_messages"].defer_async(timestamp=0)
        worker_id = await manager.register_worker()
        job = await manager.fetch_job(queues=[queue.QUEUE], worker_id=worker_id)
        assert job is not None
        assert await queue.hand_on_stalled(app, 30) == []  # the worker answers: left alone
        await conn.execute(
            "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 minute' WHERE id = $1",
            worker_id,
        )
        await app.tasks["ohconnect.deliver_messages"].defer_async(timestamp=1)  # the next run waits
        handed = await queue.hand_on_stalled(app, 30)
        assert [j.id for j in handed] == [job.id]
        assert await queue.hand_on_stalled(app, 30) == []
        status = await conn.fetchval("SELECT status::text FROM procrastinate_jobs WHERE id = $1", job.id)
        assert status == "aborted"
        fresh = await manager.register_worker()
        following = await manager.fetch_job(queues=[queue.QUEUE], worker_id=fresh)
        assert following is not None
        assert following.id != job.id
        assert following.lock == "deliver_messages"


async def test_a_queued_message_queues_a_delivery_round_at_once(
    db_dsn: str, conn: asyncpg.Connection
) -> None:
    """No worker and no schedule tick: only the outbox's notification (migration 0014) queues it."""
    app = queue.build_app(db_dsn, Settings(environment="test", mail_poll_seconds=300))
    async with app.open_async():
        waker = asyncio.create_task(queue.wake_rounds(app, db_dsn))
        try:
            await asyncio.sleep(0.5)  # listening
            assert await conn.fetchval("SELECT count(*) FROM procrastinate_jobs") == 0
            started = time.monotonic()
            async with conn.transaction():
                for n in range(3):
                    await notify.enqueue(conn, recipient=f"p{n}@employer.example", subject="S", body="B")
            for _ in range(100):
                jobs = await conn.fetch("SELECT task_name, status::text FROM procrastinate_jobs")
                if jobs:
                    break
                await asyncio.sleep(0.05)
            waited = time.monotonic() - started
            await asyncio.sleep(0.5)
            jobs = await conn.fetch("SELECT task_name, status::text FROM procrastinate_jobs")
        finally:
            waker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waker
    assert [(r["task_name"], r["status"]) for r in jobs] == [("ohconnect.deliver_messages", "todo")]
    print(f"\ndelivery round queued {waited * 1000:.0f} ms after three messages were committed")
