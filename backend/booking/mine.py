"""An employee cancels their own appointment, within the notice rule (``booking_change_notice_hours``
before it, as for moving it): the referral awaits booking again, an offer it was chosen from opens
again so they may choose another time, and the clinician is told."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import asyncpg

from backend.auth import service as auth_service
from backend.auth.schemas import User
from backend.booking import invitations, queries
from backend.booking.cancelling import close_appointment
from backend.booking.errors import AppointmentClosed, TooLateToChange
from backend.booking.offers import audit_own, my_booking, own_appointment
from backend.booking.schemas import AppointmentRow, Cancellation, MyBooking
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.notify import service as notify
from backend.referrals import service as referral_service
from backend.referrals.schemas import TransitionRequest


def _notice_passed(appointment: AppointmentRow, settings: Settings) -> bool:
    return utc_now() >= appointment.starts_at - timedelta(hours=settings.booking_change_notice_hours)


async def cancel_mine(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, body: Cancellation, settings: Settings
) -> MyBooking:
    """The employee cancels their own appointment, while the notice rule allows: the referral awaits
    booking again, an offer it was chosen from is open again (to choose another time), and the
    clinician is told."""
    async with conn.transaction():
        appointment = await own_appointment(conn, user, appointment_id, lock=True)
        if appointment.status != "booked":
            raise AppointmentClosed("Only a booked appointment that has not started can be cancelled.")
        if _notice_passed(appointment, settings):
            raise TooLateToChange(
                f"Appointments can be cancelled here until {settings.booking_change_notice_hours} hours "
                "before; please contact occupational health."
            )
        if appointment.referral_id is not None:
            request = TransitionRequest(action="cancel_booking")
            facts = {"appointment_id": str(appointment.id), "starts_at": None}
            await referral_service.apply_transition(conn, user, appointment.referral_id, request, facts=facts)
        offer = await queries.offer_for_appointment(conn, appointment.id)
        await queries.reopen_offer(conn, appointment.id)
        reopened = offer is not None and offer.expires_at > utc_now()
        why = (
            "You can choose another time under 'My occupational health'." if reopened else invitations.REBOOK
        )
        cancelled = await close_appointment(
            conn, user, appointment, settings=settings, reason=body.reason or "", why=why
        )
        await _tell_clinician(conn, cancelled, reopened=reopened)
        await audit_own(conn, user, "booking.appointment.cancel_own", cancelled)
        return my_booking(cancelled, offer.id if reopened and offer else None, settings)


async def _tell_clinician(conn: asyncpg.Connection, appointment: AppointmentRow, *, reopened: bool) -> None:
    """The clinician whose clinic it was: the slot is free (no reason for the referral, no health data)."""
    clinician = await auth_service.get_user(conn, appointment.clinician_id)
    if clinician is None:
        return
    then = "They may choose another of the times offered." if reopened else "They need a new appointment."
    await notify.enqueue(
        conn,
        recipient=clinician.email,
        subject="An employee cancelled their appointment",
        body=(
            f"{appointment.employee_name} cancelled their appointment on "
            f"{invitations.when(appointment.starts_at)} (UK time). The slot is free again. {then}"
        ),
        provider_id=appointment.provider_id,
        kind="booking.cancelled.staff",
    )
