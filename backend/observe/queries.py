"""SQL read at scrape time: outbox backlog and failures, and the job queue when it exists."""

from __future__ import annotations

import asyncpg
from pydantic import BaseModel

HAS_OUTBOX_STATUS = """
SELECT EXISTS (
    SELECT 1 FROM information_schema.columns
    WHERE table_name = 'outbox_message' AND column_name = 'status' AND table_schema = current_schema()
)
"""
# With the delivery status column (pending, sending, sent, failed): every status but sent.
OUTBOX_BY_STATUS = """
SELECT status::text AS status, count(*)::bigint AS n FROM outbox_message
WHERE status::text <> 'sent' GROUP BY 1
"""
# Without it: unsent messages, by whether a delivery was tried and whether the sender gave up
# (backend.notify stops trying after 10 attempts).
OUTBOX_BY_ATTEMPTS = """
SELECT CASE WHEN attempts = 0 THEN 'pending' WHEN attempts < 10 THEN 'retrying' ELSE 'failed' END AS status,
       count(*)::bigint AS n
FROM outbox_message WHERE sent_at IS NULL GROUP BY 1
"""
OLDEST_WAITING = """
SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
FROM outbox_message WHERE status::text IN ('pending', 'sending')
"""
OLDEST_UNSENT = """
SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
FROM outbox_message WHERE sent_at IS NULL AND attempts < 10
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
    has_status = bool(await conn.fetchval(HAS_OUTBOX_STATUS))
    rows = await conn.fetch(OUTBOX_BY_STATUS if has_status else OUTBOX_BY_ATTEMPTS)
    oldest = await conn.fetchval(OLDEST_WAITING if has_status else OLDEST_UNSENT)
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
