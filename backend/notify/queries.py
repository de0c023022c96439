"""SQL for outbox_message only."""

from __future__ import annotations

from uuid import UUID

import asyncpg
from pydantic import BaseModel


class OutboxMessage(BaseModel):
    id: UUID
    channel: str
    recipient: str
    subject: str
    body: str


INSERT_MESSAGE = """
INSERT INTO outbox_message (channel, recipient, subject, body, provider_id, kind, calendar_ics)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
CLAIM_UNSENT = """
SELECT id, channel, recipient, subject, body FROM outbox_message
WHERE sent_at IS NULL AND attempts < 10
ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED
"""
MARK_SENT = "UPDATE outbox_message SET sent_at = now(), attempts = attempts + 1 WHERE id = $1"
MARK_FAILED = "UPDATE outbox_message SET attempts = attempts + 1 WHERE id = $1"


class NewMessage(BaseModel):
    channel: str
    recipient: str
    subject: str
    body: str
    provider_id: UUID | None = None
    kind: str = "general"
    calendar_ics: str | None = None


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


async def claim_unsent(conn: asyncpg.Connection, limit: int) -> list[OutboxMessage]:
    return [OutboxMessage.model_validate(dict(r)) for r in await conn.fetch(CLAIM_UNSENT, limit)]


async def mark_sent(conn: asyncpg.Connection, message_id: UUID) -> None:
    await conn.execute(MARK_SENT, message_id)


async def mark_failed(conn: asyncpg.Connection, message_id: UUID) -> None:
    await conn.execute(MARK_FAILED, message_id)
