"""Appointment reminders: a small adapter interface, with the outbox as the default adapter.

``ReminderSender.send`` runs inside the transaction that marks the reminder as sent, so a
reminder is recorded exactly when it is handed over. The default adapter queues an e-mail (and an
SMS when a phone number is known) in the outbox, whose default sender only writes to the log; a
deployment can pass its own adapter (for example one calling an SMS gateway's API) to ``run``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Protocol, cast

import asyncpg

from backend.clinics import queries
from backend.clinics.invitations import when
from backend.clinics.schemas import AppointmentRow
from backend.notify import service as notify

logger = logging.getLogger(__name__)

REMIND_BEFORE = timedelta(hours=24)


class ReminderSender(Protocol):
    async def send(self, conn: asyncpg.Connection, appointment: AppointmentRow) -> None: ...


class OutboxReminders:
    """The default: an e-mail, plus an SMS when the referral gave a phone number."""

    async def send(self, conn: asyncpg.Connection, appointment: AppointmentRow) -> None:
        text = (
            f"Reminder: your occupational health video appointment with {appointment.clinician_name} is on "
            f"{when(appointment.starts_at)} (UK time). Use the link in your invitation; "
            f"if you cannot find it, reply and we will send a new one."
        )
        await notify.enqueue(
            conn,
            recipient=appointment.employee_email,
            subject="Appointment reminder",
            body=text,
            provider_id=appointment.provider_id,
            kind="appointment.reminder",
        )
        if appointment.employee_phone:
            await notify.enqueue(
                conn,
                recipient=appointment.employee_phone,
                subject="Appointment reminder",
                body=text,
                channel="sms",
                provider_id=appointment.provider_id,
                kind="appointment.reminder",
            )


async def send_due(
    pool: asyncpg.Pool, sender: ReminderSender, *, within: timedelta = REMIND_BEFORE, batch: int = 50
) -> int:
    """Remind everyone whose appointment is within ``within``; safe in every process at once."""
    async with pool.acquire() as proxy, proxy.transaction():
        conn = cast(asyncpg.Connection, proxy)
        due = await queries.due_reminders(conn, within, batch)
        for appointment in due:
            await sender.send(conn, appointment)
            await queries.mark_reminded(conn, appointment.id)
            await queries.insert_call_event(conn, appointment.id, None, None, "reminder", {})
    return len(due)


async def run(pool: asyncpg.Pool, sender: ReminderSender, *, interval_s: float = 60.0) -> None:
    while True:
        with contextlib.suppress(OSError, asyncpg.PostgresError, TimeoutError):
            await send_due(pool, sender)
        await asyncio.sleep(interval_s)
