"""SQL read at scrape time: outbox backlog and failures, and the job queue when it exists."""

from __future__ import annotations

import asyncpg
from pydantic import BaseModel

# Every delivery status but sent (pending, sending, failed: backend.notify's outbox states).
OUTBOX_BY_STATUS = """
SELECT status AS status, count(*)::bigint AS n FROM outbox_message
WHERE status <> 'sent' GROUP BY 1
"""
OLDEST_WAITING = """
SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
FROM outbox_message WHERE status IN ('pending', 'sending')
"""
HAS_JOB_TABLE = "SELECT to_regclass('procrastinate_jobs') IS NOT NULL"
JOBS_BY_STATUS = "SELECT status::text AS status, count(*)::bigint AS n FROM procrastinate_jobs GROUP BY 1"


class StatusCount(BaseModel):
    status: str
    n: int


class Outbox(BaseModel):
    counts: list[StatusCount]
    oldest_waiting_s: float


async def outbox(conn: asyncpg.Connection) -> Outbox:
    """Messages not (yet) sent by status, and the age of the oldest still waiting for delivery."""
    rows = await conn.fetch(OUTBOX_BY_STATUS)
    oldest = await conn.fetchval(OLDEST_WAITING)
    return Outbox(counts=[StatusCount.model_validate(dict(r)) for r in rows], oldest_waiting_s=float(oldest))


async def job_counts(conn: asyncpg.Connection) -> list[StatusCount] | None:
    """Jobs by status, or None when there is no job queue table (or the app may not read it)."""
    if not await conn.fetchval(HAS_JOB_TABLE):
        return None
    try:
        rows = await conn.fetch(JOBS_BY_STATUS)
    except asyncpg.InsufficientPrivilegeError:
        return None
    return [StatusCount.model_validate(dict(r)) for r in rows]
