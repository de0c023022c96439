"""Cancelling an appointment, whoever asks: booking staff, the employee themselves, or the referral
closing (withdrawn, declined, closed) while it is booked. The slot is free again, every join link
stops working, everyone's place is closed, the employee and referrer get a calendar cancellation
and guests invited by e-mail are told. No transactions here: the callers own them (the referral's
own, for a closing).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from backend.auth.schemas import User
from backend.booking import invitations, queries
from backend.booking.access import audit_appointment, reload
from backend.booking.schemas import AppointmentRow
from backend.core.config import Settings
from backend.referrals import hooks
from backend.referrals.schemas import ReferralRead


async def close_appointment(
    conn: asyncpg.Connection,
    user: User,
    appointment: AppointmentRow,
    *,
    settings: Settings,
    reason: str,
    why: str = invitations.REBOOK,
) -> AppointmentRow:
    """In the caller's transaction: a booked appointment (locked by the caller) cancelled."""
    await queries.cancel_appointment(conn, appointment.id, by=user.id)
    await queries.revoke_appointment_links(conn, appointment.id)
    cancelled = await reload(conn, appointment.id)
    for p in await queries.list_participants(conn, [appointment.id]):
        if p.kind == "guest" and p.email and p.state not in ("done", "dna"):
            await invitations.tell_guest_cancelled(conn, cancelled, name=p.display_name, email=p.email)
        await queries.set_state(conn, p.id, "done")
    await invitations.tell_employee(conn, "cancelled", cancelled, settings=settings, why=why)
    await invitations.tell_referrer(conn, "cancelled", cancelled)
    await queries.insert_call_event(
        conn, appointment.id, kind="cancelled", actor_id=user.id, detail={"reason": reason}
    )
    return cancelled


async def cancel_for_closed_referral(
    conn: asyncpg.Connection, user: User, referral: ReferralRead, action: str, *, settings: Settings
) -> list[UUID]:
    """The referral reached a terminal state: its open offers are withdrawn and any appointment
    still to be held is cancelled (audited, everyone told). Returns the cancelled appointments."""
    await queries.withdraw_offers(conn, referral_id=referral.id, enrolment_id=None)
    cancelled: list[UUID] = []
    for appointment in await queries.booked_for_referral(conn, referral.id):
        done = await close_appointment(
            conn, user, appointment, settings=settings, reason=f"referral {action}",
            why=invitations.REFERRAL_CLOSED,
        )  # fmt: skip
        await audit_appointment(conn, user, "booking.appointment.cancel", done)
        cancelled.append(done.id)
    return cancelled


def register(settings: Settings) -> None:
    """Ask referrals to call booking whenever a referral closes (once per app; replaces earlier)."""

    async def on_close(conn: asyncpg.Connection, user: User, referral: ReferralRead, action: str) -> None:
        await cancel_for_closed_referral(conn, user, referral, action, settings=settings)

    hooks.on_close("booking.appointments", on_close)
