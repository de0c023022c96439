"""Appointment reminders: a small adapter interface, with the outbox as the default adapter.

``ReminderSender.send`` runs inside the transaction that marks the reminder as sent, so a
reminder is recorded exactly when it is handed over. The default adapter queues an e-mail (and an
SMS when a phone number is known) in the outbox, whose default sender only writes to the log; a
deployment can pass its own adapter (for example one calling an SMS gateway's API) to the reminder
round of the background jobs (``backend.jobs``).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Protocol, cast

import asyncpg

from backend.booking import queries
from backend.booking.invitations import how_to_join, when
from backend.booking.schemas import KIND_WORDS, AppointmentRow
from backend.notify import service as notify

logger = logging.getLogger(__name__)

REMIND_BEFORE = timedelta(hours=24)


class ReminderSender(Protocol):
    async def send(self, conn: asyncpg.Connection, appointment: AppointmentRow) -> None: ...


class OutboxReminders:
    """The default: an e-mail, plus an SMS when the referral gave a phone number."""

    async def send(self, conn: asyncpg.Connection, appointment: AppointmentRow) -> None:
        text = (
            f"Reminder: your occupational health appointment with {appointment.clinician_name} is on "
            f"{when(appointment.starts_at)} (UK time), {KIND_WORDS[appointment.kind]}. "
            f"{how_to_join(appointment, url=None)} If you cannot find your invitation, reply and we will "
            f"send a new one."
        )
        await notify.enqueue(
            conn,
            recipient=appointment.employee_email,
            subject="Appointment reminder",
            body=text,
            provider_id=appointment.provider_id,
            kind="booking.reminder",
        )
        if appointment.employee_phone:
            await notify.enqueue(
                conn,
                recipient=appointment.employee_phone,
                subject="Appointment reminder",
                body=text,
                channel="sms",
                provider_id=appointment.provider_id,
                kind="booking.reminder",
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
            await queries.insert_call_event(conn, appointment.id, kind="reminder", actor_id=None)
    return len(due)
