"""Scrape-time figures: read the pool, this process's waiting rooms and the database, then render."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any, cast

import asyncpg
from prometheus_client import generate_latest
from starlette.datastructures import State

from backend.observe import metrics, queries

OUTBOX_STATUSES = ("pending", "retrying", "sending", "failed")
JOB_STATUSES = ("todo", "doing", "failed", "aborted", "cancelled")  # succeeded jobs are deleted
SEAT_KINDS = ("clinician", "employee", "guest")
DB_TIMEOUT_S = 5.0


def _pool_figures(pool: asyncpg.Pool) -> None:
    metrics.DB_POOL.labels("size").set(pool.get_size())
    metrics.DB_POOL.labels("idle").set(pool.get_idle_size())
    metrics.DB_POOL.labels("max").set(pool.get_max_size())


def _room_figures(rooms: Any) -> None:
    connections = list(getattr(rooms, "connections", []))
    kinds = Counter(str(c.seat.kind) for c in connections)
    for kind in (*SEAT_KINDS, *kinds):
        metrics.WAITING_ROOM_SOCKETS.labels(kind).set(kinds.get(kind, 0))
    metrics.WAITING_ROOMS.set(len({c.seat.session_id for c in connections}))


def _store_figures(ingestion: Any) -> None:
    groups = getattr(ingestion, "groups", None)
    if groups is not None:
        metrics.READING_STORES.labels("statements").set(groups.statements)
        metrics.READING_STORES.labels("batches").set(groups.items)


async def _database_figures(conn: asyncpg.Connection) -> None:
    outbox = await queries.outbox(conn)
    counted = {row.status: row.n for row in outbox.counts}
    for status in (*OUTBOX_STATUSES, *counted):
        metrics.OUTBOX_MESSAGES.labels(status).set(counted.get(status, 0))
    metrics.OUTBOX_OLDEST_PENDING.set(outbox.oldest_waiting_s)
    jobs = await queries.job_counts(conn)
    if jobs is not None:
        counted_jobs = {row.status: row.n for row in jobs}
        for status in (*JOB_STATUSES, *counted_jobs):  # a status with no job left reads 0
            metrics.JOBS.labels(status).set(counted_jobs.get(status, 0))


async def render(state: State) -> bytes:
    """The Prometheus text exposition of this process, with database figures read now."""
    pool: asyncpg.Pool = state.pool
    _pool_figures(pool)
    _room_figures(getattr(state, "clinic_rooms", None))
    _store_figures(getattr(state, "ingestion", None))
    try:
        async with asyncio.timeout(DB_TIMEOUT_S), pool.acquire() as proxy:
            await _database_figures(cast(asyncpg.Connection, proxy))
    except (OSError, TimeoutError, asyncpg.PostgresError):
        metrics.SCRAPE_ERRORS.inc()
    return generate_latest(metrics.REGISTRY)
