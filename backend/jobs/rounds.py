"""The rounds the background jobs run, how often, and the registry of them (``ROUNDS``).

A round is an ``async def (runtime) -> int`` (how much it did) that is idempotent: the work it
picks is claimed in the database (the outbox's leases, reminders marked in the same transaction,
partitions made if missing), so a round run twice, or cut off and run again, has the effect of
one run. The job queue (``backend.jobs.queue``) runs each round on its schedule, never two runs of
the same round at once, whichever worker takes it.

To add a round: write the round function
in the feature, then add a ``Round`` to ``ROUNDS`` below with a stable name and a cron schedule.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from backend.booking import reminders
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.lifecycle import retention
from backend.notify import dispatcher, senders
from backend.readings import upkeep

logger = logging.getLogger("ohconnect.jobs")

DELIVERY_BATCH = 20
DELIVERY_MAX_BATCHES = 50  # then the round ends and the next one goes on
TRANSIENT = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


@dataclass(frozen=True)
class JobRuntime:
    """What rounds work with: the app's database pool (as the application role) and settings."""

    pool: asyncpg.Pool
    settings: Settings
    sender: senders.Sender
    policy: dispatcher.Policy
    reminder_sender: reminders.ReminderSender

    @classmethod
    def build(cls, pool: asyncpg.Pool, settings: Settings) -> JobRuntime:
        return cls(
            pool=pool,
            settings=settings,
            sender=senders.build(settings),
            policy=dispatcher.Policy.from_settings(settings),
            reminder_sender=reminders.OutboxReminders(),
        )


RoundFunction = Callable[[JobRuntime], Awaitable[int]]


@dataclass(frozen=True)
class Round:
    name: str
    run: RoundFunction
    # A cron line (five fields, or six with seconds last), or one made from the settings.
    schedule: str | Callable[[Settings], str]
    description: str
    # A PostgreSQL notification channel that queues a run at once (besides the schedule).
    wake_on: str | None = None

    def cron(self, settings: Settings) -> str:
        return self.schedule if isinstance(self.schedule, str) else self.schedule(settings)


def every(seconds: float) -> str:
    """A cron line firing every ``seconds``, rounded to a step that divides a minute or an hour."""
    whole = max(1, round(seconds))
    if whole < 60:
        step = max(s for s in (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30) if s <= whole)
        return f"* * * * * */{step}" if step > 1 else "* * * * * *"
    minutes = max(m for m in (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30) if m <= whole // 60)
    return f"*/{minutes} * * * *" if minutes > 1 else "* * * * *"


async def deliver_messages(runtime: JobRuntime) -> int:
    """Send the messages due; full batches are followed at once by the next."""
    sent = 0
    for _ in range(DELIVERY_MAX_BATCHES):
        done = await dispatcher.deliver_pending(
            runtime.pool, runtime.sender, runtime.policy, batch=DELIVERY_BATCH
        )
        sent += done
        if done < DELIVERY_BATCH:
            break
    return sent


async def send_reminders(runtime: JobRuntime) -> int:
    total = 0
    while (done := await reminders.send_due(runtime.pool, runtime.reminder_sender)) > 0:
        total += done
    return total


async def partition_upkeep(runtime: JobRuntime) -> int:
    return len(await upkeep.ensure_partitions(runtime.pool, at=utc_now()))


async def apply_retention(runtime: JobRuntime) -> int:
    """Each record class's retention period, once a night (bounded, audited passes)."""
    report = await retention.run_retention(runtime.pool, now=utc_now())
    return sum(item.affected for item in report.classes)


ROUNDS: tuple[Round, ...] = (
    Round(
        "deliver_messages",
        deliver_messages,
        lambda settings: every(settings.mail_poll_seconds),
        "send queued e-mail and text messages (OHCONNECT_MAIL_POLL_SECONDS)",
        wake_on="ohconnect_outbox",  # migration 0014: notified when messages are queued
    ),
    Round("send_reminders", send_reminders, "* * * * *", "appointment reminders, 24 hours ahead"),
    Round("partition_upkeep", partition_upkeep, "7 * * * *", "reading partitions for the coming months"),
    Round("retention", apply_retention, "23 2 * * *", "records past their retention period (nightly)"),
)


@dataclass(frozen=True)
class Backoff:
    """Retries of a round that hit a transient fault (database or network): exponential backoff
    with full jitter, within the same job. Jobs are not retried by the queue itself: a retried job
    would collide with the next scheduled run of its round (procrastinate's queueing lock)."""

    attempts: int = 4
    base_s: float = 1.0
    cap_s: float = 30.0

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap_s, self.base_s * 2 ** (attempt - 1))
        return random.uniform(min(self.base_s, ceiling), ceiling)  # noqa: S311 (not secret)


async def run_round(item: Round, runtime: JobRuntime, backoff: Backoff = Backoff()) -> int:
    """Run one round; a transient fault is retried with backoff, the last one fails the job."""
    for attempt in range(1, backoff.attempts + 1):
        try:
            return await item.run(runtime)
        except TRANSIENT as exc:
            if attempt == backoff.attempts:
                raise
            wait = backoff.delay(attempt)
            logger.warning(
                "round %s failed (%s), attempt %d; again in %.1f s",
                item.name,
                type(exc).__name__,
                attempt,
                wait,
            )
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")
