"""Delivery of queued messages, safe in any number of processes at once.

One round: claim due messages (``FOR UPDATE SKIP LOCKED``, marking them ``sending`` with a lease)
and commit; send each outside any transaction; record each outcome in its own short transaction.
A transient error is retried with exponential backoff and full jitter; a permanent error, too
many attempts or a message queued too long ago is marked ``failed`` with its reason (kept for the
provider's admins, who may resend it). If a process dies mid-send, its lease runs out and another
process claims the message again. Logs name the message id, kind and channel, never the
recipient, the body or a link.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import cast
from uuid import UUID, uuid4

import asyncpg

from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.notify import queries
from backend.notify.queries import ClaimedMessage
from backend.notify.schemas import DeliveryError
from backend.notify.senders import Sender

logger = logging.getLogger("ohconnect.delivery")

LEASE_S = 300.0  # longer than any send can take (SMTP and Notify time out after 30 s)
MAX_DELAY_S = 3600.0


@dataclass(frozen=True)
class Policy:
    max_attempts: int = 10
    give_up_after: timedelta = timedelta(hours=48)
    retry_base_s: float = 30.0
    lease_s: float = LEASE_S

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            max_attempts=settings.mail_max_attempts,
            give_up_after=timedelta(hours=settings.mail_give_up_hours),
            retry_base_s=settings.mail_retry_base_seconds,
            lease_s=settings.mail_lease_seconds,
        )

    def retry_delay(self, attempts: int) -> float:
        """Exponential backoff with full jitter: uniform in [base, base * 2^(attempts-1)], capped."""
        ceiling = min(MAX_DELAY_S, self.retry_base_s * 2 ** min(attempts - 1, 30))
        return random.uniform(min(self.retry_base_s, ceiling), ceiling)  # noqa: S311 (not secret)


async def deliver_pending(pool: asyncpg.Pool, sender: Sender, policy: Policy, *, batch: int = 20) -> int:
    """One round; returns how many messages were sent."""
    claim_id = uuid4()
    async with pool.acquire() as proxy:
        conn = cast(asyncpg.Connection, proxy)
        async with conn.transaction():
            claimed = await queries.claim_due(conn, limit=batch, claim_id=claim_id, lease_s=policy.lease_s)
    sent = 0
    for done, message in enumerate(claimed):
        try:
            sent += await _deliver_one(pool, sender, policy, message, claim_id)
        except asyncio.CancelledError:
            # Stopping: hand back the messages not yet tried (the one in flight waits for its lease).
            untried = [m.id for m in claimed[done + 1 :]]
            await asyncio.shield(_release(pool, claim_id, untried))
            raise
    return sent


async def _release(pool: asyncpg.Pool, claim_id: UUID, message_ids: list[UUID]) -> None:
    if not message_ids:
        return
    async with pool.acquire() as proxy:
        await queries.release(cast(asyncpg.Connection, proxy), claim_id, message_ids)


async def _deliver_one(
    pool: asyncpg.Pool, sender: Sender, policy: Policy, message: ClaimedMessage, claim_id: UUID
) -> int:
    if message.attempts > policy.max_attempts:  # claimed again after its leases ran out
        await _record(
            pool, message, claim_id, DeliveryError("delivery never finished", permanent=True), policy
        )
        return 0
    try:
        await sender(message)
    except DeliveryError as exc:
        await _record(pool, message, claim_id, exc, policy)
        return 0
    except Exception as exc:  # a defect in a sender: retried, never allowed to stop delivery
        # Only the exception's type: its text could hold the recipient or the message.
        logger.error(
            "sender failed unexpectedly (%s) on message %s (%s, %s)",
            type(exc).__name__, message.id, message.kind, message.channel,
        )  # fmt: skip
        error = DeliveryError(f"internal error ({type(exc).__name__})", permanent=False)
        await _record(pool, message, claim_id, error, policy)
        return 0
    await _record(pool, message, claim_id, None, policy)
    return 1


async def _record(
    pool: asyncpg.Pool, message: ClaimedMessage, claim_id: UUID, error: DeliveryError | None, policy: Policy
) -> None:
    where = f"message {message.id} ({message.kind}, {message.channel}, attempt {message.attempts})"
    async with pool.acquire() as proxy:
        conn = cast(asyncpg.Connection, proxy)
        if error is None:
            await queries.mark_sent(conn, message.id, claim_id)
            logger.info("delivered %s", where)
            return
        too_old = utc_now() - message.queued_at > policy.give_up_after
        if error.permanent or message.attempts >= policy.max_attempts or too_old:
            reason = (
                error.reason
                if error.permanent
                else f"gave up after {message.attempts} attempts: {error.reason}"
            )
            await queries.mark_failed(conn, message.id, claim_id, reason=reason)
            logger.warning("delivery failed for good: %s", where)
            return
        delay = policy.retry_delay(message.attempts)
        await queries.mark_retry(conn, message.id, claim_id, delay_s=delay, reason=error.reason)
        logger.info("delivery will be retried in %.0f s: %s", delay, where)
