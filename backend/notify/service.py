"""Outgoing messages: queued in the caller's transaction, delivered after commit.

``enqueue`` is the only way features send a message. Delivery (``dispatcher``) happens in every
app process; provider admins list their provider's messages and resend failed ones here.
"""

from __future__ import annotations

from typing import cast
from uuid import UUID

import asyncpg

from backend.audit import service as audit
from backend.audit.schemas import Actor, NoSubject
from backend.core.config import Settings
from backend.notify import queries
from backend.notify.errors import MessageNotFailed, MessageNotFound
from backend.notify.schemas import Channel, MessagePage, MessageSummary, NewMessage, Status


def can_text(settings: Settings) -> bool:
    """Whether text messages can be delivered: through GOV.UK Notify (its key is set), or to the log
    in development. An SMTP-only deployment cannot send SMS, so callers send an e-mail instead."""
    return settings.mail_sender == "log" or settings.notify_api_key is not None


async def enqueue(
    conn: asyncpg.Connection,
    *,
    recipient: str,
    subject: str,
    body: str,
    channel: str = "email",
    provider_id: UUID | None = None,
    kind: str = "general",
    calendar_ics: str | None = None,
) -> None:
    """Queue one message in the caller's transaction.

    ``provider_id`` is the OH provider the message is sent for (its admins see failed deliveries);
    ``kind`` names the message for operators (e.g. ``referral.submitted``); ``calendar_ics`` is an
    iCalendar invitation or cancellation delivered with an e-mail.
    """
    message = NewMessage(
        channel=cast(Channel, channel),  # checked by the model: "email" or "sms"
        recipient=recipient,
        subject=subject,
        body=body,
        provider_id=provider_id,
        kind=kind,
        calendar_ics=calendar_ics,
    )
    await queries.insert_message(conn, message)


async def list_messages(
    conn: asyncpg.Connection,
    actor: Actor,
    provider_id: UUID,
    *,
    status: Status | None,
    limit: int,
    offset: int,
) -> MessagePage:
    """A provider's messages (no bodies), newest outcome first; the read is audited."""
    async with conn.transaction():
        items, total = await queries.list_for_provider(
            conn, provider_id, status=status, limit=limit, offset=offset
        )
        await audit.record(conn, actor, "message.list", "outbox_message", None, subject=NoSubject)
    return MessagePage(items=items, total=total, limit=limit, offset=offset)


async def resend(
    conn: asyncpg.Connection, actor: Actor, provider_id: UUID, message_id: UUID
) -> MessageSummary:
    """Queue a failed message again (attempts start afresh); audited, naming its recipient."""
    async with conn.transaction():
        resent = await queries.resend(conn, message_id, provider_id)
        if resent is None:
            status = await queries.status_for_provider(conn, message_id, provider_id)
            if status is None:
                raise MessageNotFound("No such message.")
            raise MessageNotFailed(f"Only a failed message can be resent; this one is {status}.")
        await audit.record(
            conn, actor, "message.resend", "outbox_message", message_id,
            subject_email=resent.recipient if resent.channel == "email" else None,
        )  # fmt: skip
    return resent
