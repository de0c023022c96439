"""Partition upkeep: readings are partitioned by UTC month (migration 0002); this makes the
partitions of the coming months before any reading needs them. Idempotent: a partition that
exists is left as it is, so running it twice has the effect of running it once. Run by the
background jobs (``backend.jobs``); ingestion still makes a missing partition on demand."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import cast

import asyncpg

from backend.readings import queries

logger = logging.getLogger(__name__)

MONTHS_AHEAD = 3


async def ensure_partitions(
    pool: asyncpg.Pool, *, at: datetime, months_ahead: int = MONTHS_AHEAD
) -> list[str]:
    """Make the partitions of ``at``'s month and the ``months_ahead`` after it; returns those made now."""
    async with pool.acquire() as proxy:
        conn = cast(asyncpg.Connection, proxy)
        before = set(await queries.list_partitions(conn))
        wanted = await queries.ensure_partitions_ahead(conn, at, months_ahead)
    made = [name for name in wanted if name not in before]
    if made:
        logger.info("made reading partitions %s", ", ".join(made))
    return made
