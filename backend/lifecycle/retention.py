"""Retention: each record class's period applied in bounded batches, each pass audited.

``run_retention`` is one run over every class of ``policy.CLASSES``. Deletions go in batches of
``batch_size`` rows, each batch its own transaction (no long locks, no huge WAL bursts), and at
most ``max_batches`` per class per run: what is left is done by the next run. Each class ends
with one ``retention_pass`` row (class, action, cutoff, count) and one audit row naming it, in
one transaction; neither holds anything about a person, and nothing is logged about one.

A dry run counts what is due and changes nothing but its own pass and audit rows.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import cast
from uuid import UUID

import asyncpg

from backend.audit import service as audit
from backend.lifecycle import policy, queries
from backend.lifecycle.schemas import ClassCount, RetentionReport

logger = logging.getLogger("ohconnect.retention")

BATCH_SIZE = 1000
MAX_BATCHES = 1000


@asynccontextmanager
async def _connection(pool_or_conn: asyncpg.Pool | asyncpg.Connection) -> AsyncIterator[asyncpg.Connection]:
    if isinstance(pool_or_conn, asyncpg.Pool):
        async with pool_or_conn.acquire() as conn:
            yield cast(asyncpg.Connection, conn)
    else:
        yield pool_or_conn


async def run_retention(
    pool_or_conn: asyncpg.Pool | asyncpg.Connection,
    *,
    now: datetime,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    max_batches: int = MAX_BATCHES,
) -> RetentionReport:
    """Apply every record class's retention period as of ``now`` (timezone-aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    run_id = uuid.uuid4()
    counts: list[ClassCount] = []
    async with _connection(pool_or_conn) as conn:
        for record_class in policy.CLASSES:
            cutoff = policy.cutoff(record_class.name, now)
            if dry_run or record_class.action == "review":
                affected = await _count(conn, record_class, cutoff)
            else:
                affected = await _apply(
                    conn, record_class, cutoff, batch_size=batch_size, max_batches=max_batches
                )
            pass_id = await _record(
                conn, run_id, record_class, cutoff=cutoff, affected=affected, dry_run=dry_run, now=now
            )
            counts.append(
                ClassCount(
                    record_class=record_class.name, action=record_class.action,
                    cutoff=cutoff, affected=affected, pass_id=pass_id,
                )
            )  # fmt: skip
            logger.info("retention pass %s: %s %d", record_class.name, record_class.action, affected)
    return RetentionReport(run_id=run_id, now=now, dry_run=dry_run, classes=counts)


async def _count(conn: asyncpg.Connection, record_class: policy.RecordClass, cutoff: datetime) -> int:
    if record_class.action == "drop_partition":
        return len(await queries.drop_partitions(conn, cutoff, dry_run=True))
    return await queries.count_due(conn, record_class.name, cutoff)


async def _apply(
    conn: asyncpg.Connection,
    record_class: policy.RecordClass,
    cutoff: datetime,
    *,
    batch_size: int,
    max_batches: int,
) -> int:
    if record_class.action == "drop_partition":
        async with conn.transaction():
            return len(await queries.drop_partitions(conn, cutoff, dry_run=False))
    total = 0
    for _ in range(max_batches):
        async with conn.transaction():
            done = await queries.delete_batch(conn, record_class.name, cutoff, limit=batch_size)
        total += sum(done)
        if max(done) < batch_size:
            break
    return total


async def _record(  # one pass's row and its audit row, together
    conn: asyncpg.Connection,
    run_id: UUID,
    record_class: policy.RecordClass,
    *,
    cutoff: datetime,
    affected: int,
    dry_run: bool,
    now: datetime,
) -> UUID:
    async with conn.transaction():
        pass_id = await queries.insert_pass(
            conn, run_id, record_class=record_class.name, action=record_class.action,
            cutoff=cutoff, affected=affected, dry_run=dry_run, at=now,
        )  # fmt: skip
        action = f"retention.{record_class.action}" + (".dry_run" if dry_run else "")
        await audit.record(conn, None, action, "retention_pass", pass_id, subject=audit.NoSubject)
    return pass_id
