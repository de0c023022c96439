"""Outgoing messages: queued in the caller's transaction, delivered after commit by a sender.

The default sender only writes to the log (``ohconnect.outbox``), which is what a demo or a
development machine wants; a deployment plugs in an e-mail/SMS sender with the same signature.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import cast
from uuid import UUID

import asyncpg

from backend.notify import queries
from backend.notify.queries import OutboxMessage

logger = logging.getLogger("ohconnect.outbox")

Sender = Callable[[OutboxMessage], Awaitable[None]]


async def log_sender(message: OutboxMessage) -> None:
    """Development sink: the whole message (single-use links included) goes to the log."""
    logger.info("%s to %s: %s\n%s", message.channel, message.recipient, message.subject, message.body)


async def log_headers_sender(message: OutboxMessage) -> None:
    """Production stand-in until a real sender is configured: never logs message bodies."""
    logger.warning(
        "no e-mail/SMS sender configured; %s to %s not delivered: %s",
        message.channel,
        message.recipient,
        message.subject,
    )
    raise RuntimeError("no sender configured")


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
    message = queries.NewMessage(
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        provider_id=provider_id,
        kind=kind,
        calendar_ics=calendar_ics,
    )
    await queries.insert_message(conn, message)


async def deliver_pending(pool: asyncpg.Pool, sender: Sender, *, batch: int = 20) -> int:
    """Send what is waiting; safe to run in every process at once (rows are claimed with SKIP LOCKED)."""
    sent = 0
    async with pool.acquire() as proxy, proxy.transaction():
        conn = cast(asyncpg.Connection, proxy)
        for message in await queries.claim_unsent(conn, batch):
            try:
                await sender(message)
            except Exception:
                logger.exception("could not send message %s", message.id)
                await queries.mark_failed(conn, message.id)
            else:
                await queries.mark_sent(conn, message.id)
                sent += 1
    return sent


async def run_dispatcher(pool: asyncpg.Pool, sender: Sender, *, interval_s: float = 2.0) -> None:
    while True:
        with contextlib.suppress(OSError, asyncpg.PostgresError, TimeoutError):
            await deliver_pending(pool, sender)
        await asyncio.sleep(interval_s)
