"""SQL for outbox_message only."""

from __future__ import annotations

from uuid import UUID

import asyncpg
from pydantic import AwareDatetime

from backend.notify.schemas import MailboxMessage, MessageSummary, NewMessage, OutboxMessage, Status

INSERT_MESSAGE = """
INSERT INTO outbox_message (channel, recipient, subject, body, provider_id, kind, calendar_ics)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
# Due: waiting for its (next) attempt, or claimed by a process whose lease has run out. A claim
# moves next_attempt_at to the lease's end, so one index serves both.
CLAIM_DUE = """
WITH due AS (
    SELECT id FROM outbox_message
    WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()
    ORDER BY next_attempt_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE outbox_message AS m
   SET status = 'sending', claim_id = $2, attempts = m.attempts + 1, last_attempt_at = now(),
       claimed_until = now() + make_interval(secs => $3),
       next_attempt_at = now() + make_interval(secs => $3)
  FROM due WHERE m.id = due.id
RETURNING m.id, m.channel, m.recipient, m.subject, m.body, m.kind, m.calendar_ics, m.attempts,
          coalesce(m.resent_at, m.created_at) AS queued_at
"""
_RELEASE = "claim_id = NULL, claimed_until = NULL"
MARK_SENT = f"""
UPDATE outbox_message SET status = 'sent', sent_at = now(), last_error = NULL, {_RELEASE}
WHERE id = $1 AND claim_id = $2
"""
MARK_RETRY = f"""
UPDATE outbox_message
   SET status = 'pending', next_attempt_at = now() + make_interval(secs => $3), last_error = $4, {_RELEASE}
 WHERE id = $1 AND claim_id = $2
"""
MARK_FAILED = f"""
UPDATE outbox_message SET status = 'failed', failed_at = now(), last_error = $3, {_RELEASE}
WHERE id = $1 AND claim_id = $2
"""
RELEASE = f"""
UPDATE outbox_message
   SET status = 'pending', next_attempt_at = now(), attempts = attempts - 1, {_RELEASE}
 WHERE claim_id = $1 AND id = ANY($2::uuid[]) AND status = 'sending'
"""
_SUMMARY_COLUMNS = """
id, channel, recipient, kind, subject, status, attempts, last_error, created_at, last_attempt_at,
failed_at, sent_at, resent_at, resend_count
"""
LIST_FOR_PROVIDER = f"""
SELECT {_SUMMARY_COLUMNS} FROM outbox_message
WHERE provider_id = $1 AND ($2::text IS NULL OR status = $2)
ORDER BY coalesce(failed_at, sent_at, created_at) DESC, id
LIMIT $3 OFFSET $4
"""
COUNT_FOR_PROVIDER = """
SELECT count(*) FROM outbox_message WHERE provider_id = $1 AND ($2::text IS NULL OR status = $2)
"""
STATUS_FOR_PROVIDER = "SELECT status FROM outbox_message WHERE id = $1 AND provider_id = $2"
RESEND = f"""
UPDATE outbox_message
   SET status = 'pending', next_attempt_at = now(), attempts = 0, failed_at = NULL,
       resent_at = now(), resend_count = resend_count + 1, {_RELEASE}
 WHERE id = $1 AND provider_id = $2 AND status = 'failed'
RETURNING {_SUMMARY_COLUMNS}
"""
MAILBOX = """
SELECT id, channel, recipient, kind, subject, body, status, calendar_ics IS NOT NULL AS has_calendar,
       created_at, sent_at
FROM outbox_message ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2
"""
MAILBOX_COUNT = "SELECT count(*) FROM outbox_message"
CALENDAR = "SELECT calendar_ics FROM outbox_message WHERE id = $1"


class ClaimedMessage(OutboxMessage):
    queued_at: AwareDatetime


async def insert_message(conn: asyncpg.Connection, message: NewMessage) -> None:
    await conn.execute(
        INSERT_MESSAGE,
        message.channel,
        message.recipient,
        message.subject,
        message.body,
        message.provider_id,
        message.kind,
        message.calendar_ics,
    )


async def claim_due(
    conn: asyncpg.Connection, *, limit: int, claim_id: UUID, lease_s: float
) -> list[ClaimedMessage]:
    rows = await conn.fetch(CLAIM_DUE, limit, claim_id, lease_s)
    return [ClaimedMessage.model_validate(dict(r)) for r in rows]


async def mark_sent(conn: asyncpg.Connection, message_id: UUID, claim_id: UUID) -> None:
    await conn.execute(MARK_SENT, message_id, claim_id)


async def mark_retry(
    conn: asyncpg.Connection, message_id: UUID, claim_id: UUID, *, delay_s: float, reason: str
) -> None:
    await conn.execute(MARK_RETRY, message_id, claim_id, delay_s, reason)


async def mark_failed(conn: asyncpg.Connection, message_id: UUID, claim_id: UUID, *, reason: str) -> None:
    await conn.execute(MARK_FAILED, message_id, claim_id, reason)


async def release(conn: asyncpg.Connection, claim_id: UUID, message_ids: list[UUID]) -> None:
    await conn.execute(RELEASE, claim_id, message_ids)


async def list_for_provider(
    conn: asyncpg.Connection, provider_id: UUID, *, status: Status | None, limit: int, offset: int
) -> tuple[list[MessageSummary], int]:
    rows = await conn.fetch(LIST_FOR_PROVIDER, provider_id, status, limit, offset)
    total: int = await conn.fetchval(COUNT_FOR_PROVIDER, provider_id, status)
    return [MessageSummary.model_validate(dict(r)) for r in rows], total


async def status_for_provider(conn: asyncpg.Connection, message_id: UUID, provider_id: UUID) -> str | None:
    status: str | None = await conn.fetchval(STATUS_FOR_PROVIDER, message_id, provider_id)
    return status


async def resend(conn: asyncpg.Connection, message_id: UUID, provider_id: UUID) -> MessageSummary | None:
    row = await conn.fetchrow(RESEND, message_id, provider_id)
    return MessageSummary.model_validate(dict(row)) if row else None


async def mailbox(conn: asyncpg.Connection, *, limit: int, offset: int) -> tuple[list[MailboxMessage], int]:
    rows = await conn.fetch(MAILBOX, limit, offset)
    total: int = await conn.fetchval(MAILBOX_COUNT)
    return [MailboxMessage.model_validate(dict(r)) for r in rows], total


async def calendar(conn: asyncpg.Connection, message_id: UUID) -> str | None:
    text: str | None = await conn.fetchval(CALENDAR, message_id)
    return text
