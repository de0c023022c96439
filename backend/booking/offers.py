"""Employee self-booking: OH offers an employee slots (every free slot of one clinic, or a chosen
set) for a referral awaiting booking or a surveillance recall; the employee picks one, and may
move it up to ``booking_change_notice_hours`` before it. Employees see only their own offers and
appointments (anything else is 404)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import asyncpg

from backend.audit import service as audit
from backend.audit.schemas import Subject
from backend.auth.schemas import Role, User
from backend.booking import calendar, invitations, queries
from backend.booking.errors import (
    AppointmentNotFound,
    BookingConflict,
    BookingForbidden,
    BookingInvalid,
    ClinicNotFound,
    OfferNotFound,
    SlotNotOffered,
    TooLateToChange,
)
from backend.booking.schemas import (
    KIND_WORDS,
    AppointmentRow,
    MyBooking,
    OfferBook,
    OfferCreate,
    OfferedSlot,
    OfferRead,
    OfferRow,
    OfferStatus,
    SessionRow,
    SlotRow,
    StaffOfferRead,
)
from backend.booking.service import (
    check_suits_recall,
    check_suits_referral,
    free_slot,
    move,
    place_recall,
    place_referral,
    require_staff,
)
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.core.listing import ListParams, Page
from backend.notify import service as notify
from backend.referrals import service as referral_service
from backend.referrals.transitions import Status


def require_employee(user: User) -> None:
    if user.role != Role.employee:
        raise BookingForbidden("Only the employee can choose their own appointment here.")


def _problem(field: str, message: str) -> list[dict[str, str]]:
    return [{"field": field, "message": message, "type": "value"}]


async def _offered_slots(
    conn: asyncpg.Connection, user: User, body: OfferCreate
) -> tuple[list[SlotRow], SessionRow]:
    """The free future slots offered, all in this provider's clinics; the clinic of the first."""
    slots = await queries.free_slots(conn, session_id=body.session_id, slot_ids=body.slot_ids or [])
    sessions: dict[UUID, SessionRow] = {}
    for slot in slots:
        found = sessions.get(slot.session_id) or await queries.get_session(conn, slot.session_id)
        if found is None or found.provider_id != user.organisation_id:
            raise ClinicNotFound()
        sessions[slot.session_id] = found
    if body.session_id is not None:
        clinic = await queries.get_session(conn, body.session_id)
        if clinic is None or clinic.provider_id != user.organisation_id:
            raise ClinicNotFound()
    if not slots:
        raise BookingConflict("None of those slots is free and still to come.")
    return slots, sessions[slots[0].session_id]


async def make_offer(
    conn: asyncpg.Connection, user: User, body: OfferCreate, settings: Settings
) -> OfferRead:
    require_staff(user)
    if (body.referral_id is None) == (body.enrolment_id is None):
        raise BookingInvalid(
            "Offer slots for a referral or for a surveillance recall.",
            errors=_problem("referral_id", "give referral_id or enrolment_id"),
        )
    if (body.session_id is None) == (body.slot_ids is None):
        raise BookingInvalid(
            "Offer one clinic's free slots or a set of slots.",
            errors=_problem("session_id", "give session_id or slot_ids"),
        )
    async with conn.transaction():
        slots, clinic = await _offered_slots(conn, user, body)
        if body.referral_id is not None:
            referral = await referral_service.get(conn, user, body.referral_id)
            if referral.status != Status.AWAITING_BOOKING:
                raise BookingConflict("Only a referral awaiting booking can be offered slots.")
            email, organisation_id = referral.employee_email, referral.organisation_id
            check_suits_referral(clinic, referral)
        else:
            recall = await queries.get_recall(conn, body.enrolment_id) if body.enrolment_id else None
            if recall is None or recall.provider_id != user.organisation_id:
                raise OfferNotFound("No such surveillance recall.")
            email, organisation_id = recall.email, recall.organisation_id
            check_suits_recall(clinic, recall)
        expires_at = min(
            max(s.starts_at for s in slots), utc_now() + timedelta(days=settings.booking_offer_days)
        )
        offer = await queries.insert_offer(
            conn,
            provider_id=user.organisation_id,
            organisation_id=organisation_id,
            employee_email=email,
            referral_id=body.referral_id,
            enrolment_id=body.enrolment_id,
            session_id=body.session_id,
            slot_ids=[s.id for s in slots] if body.slot_ids else [],
            created_by=user.id,
            expires_at=expires_at.isoformat(),
        )
        await notify.enqueue(
            conn,
            recipient=email,
            subject="Choose your occupational health appointment",
            body=(
                f"Occupational health offers you {len(slots)} appointment times "
                f"({KIND_WORDS[clinic.kind]}), from {invitations.when(slots[0].starts_at)} (UK time). "
                f"Sign in at {settings.public_url.rstrip('/')}/ and choose one under "
                "'My occupational health' "
                f"before {invitations.when(expires_at)}."
            ),
            provider_id=user.organisation_id,
            kind="booking.offered",
        )
        await audit.record(
            conn, user.actor(), "booking.offer.create", "booking_offer", offer.id, subject_email=email
        )
        return await offer_read(conn, offer)


def _status(offer: OfferRow) -> OfferStatus:
    if offer.appointment_id is not None:
        return "booked"
    if offer.withdrawn_at is not None:
        return "withdrawn"
    return "expired" if offer.expires_at <= utc_now() else "open"


async def offer_read(conn: asyncpg.Connection, offer: OfferRow) -> OfferRead:
    status = _status(offer)
    slots = (  # booked: the other times it may still be moved to
        await queries.free_slots(conn, session_id=offer.session_id, slot_ids=offer.slot_ids)
        if status in ("open", "booked")
        else []
    )
    first = offer.session_id or (slots[0].session_id if slots else None)
    clinic = await queries.get_session(conn, first) if first else None
    return OfferRead(
        id=offer.id,
        referral_id=offer.referral_id,
        enrolment_id=offer.enrolment_id,
        kind=clinic.kind if clinic else None,
        clinician_name=clinic.clinician_name if clinic else None,
        location=clinic.location if clinic else None,
        expires_at=offer.expires_at,
        status=status,
        appointment_id=offer.appointment_id,
        slots=[OfferedSlot(id=s.id, starts_at=s.starts_at, ends_at=s.ends_at) for s in slots],
    )


async def list_offers(
    conn: asyncpg.Connection,
    user: User,
    *,
    page: ListParams,
    status: OfferStatus | None,
    referral_id: UUID | None,
) -> Page[StaffOfferRead]:
    """The offers this provider's staff have made, newest first by default; each read is audited
    naming the employee it was made to."""
    require_staff(user)
    async with conn.transaction():
        found, total = await queries.list_offers(
            conn, user.organisation_id, page=page, status=status, referral_id=referral_id
        )
        await audit.record_each(
            conn, user.actor(), "booking.offer.list", "booking_offer",
            [(o.id, Subject(email=o.employee_email)) for o, _, _ in found],
        )  # fmt: skip
        items = [
            StaffOfferRead(
                **(await offer_read(conn, o)).model_dump(),
                employee_email=o.employee_email,
                employee_name=name,
                employer_name=employer,
                created_at=o.created_at,
            )
            for o, name, employer in found
        ]
    return Page[StaffOfferRead].of(items, total, page)


async def my_offers(conn: asyncpg.Connection, user: User) -> list[OfferRead]:
    require_employee(user)
    async with conn.transaction():
        offers = await queries.offers_for(conn, user.email, organisation_id=user.organisation_id)
        await audit.record_each(
            conn, user.actor(), "booking.offer.list_own", "booking_offer",
            [(o.id, Subject(user_id=user.id, email=user.email)) for o in offers],
        )  # fmt: skip
        return [await offer_read(conn, o) for o in offers]


async def _my_offer(conn: asyncpg.Connection, user: User, offer_id: UUID) -> OfferRow:
    offer = await queries.get_offer(conn, offer_id, lock=True)
    if offer is None or offer.employee_email != user.email or offer.organisation_id != user.organisation_id:
        raise OfferNotFound()
    return offer


def _offers_slot(offer: OfferRow, slot: SlotRow) -> bool:
    return slot.session_id == offer.session_id or slot.id in offer.slot_ids


async def book_offer(
    conn: asyncpg.Connection, user: User, offer_id: UUID, body: OfferBook, settings: Settings
) -> MyBooking:
    """The employee picks one offered slot: booked, and they and the referrer are told."""
    require_employee(user)
    async with conn.transaction():
        offer = await _my_offer(conn, user, offer_id)
        if _status(offer) != "open":
            raise BookingConflict(f"This offer is {_status(offer)}.")
        slot, clinic = await free_slot(conn, body.slot_id, provider_id=offer.provider_id)
        if not _offers_slot(offer, slot):
            raise SlotNotOffered("Choose one of the times offered to you.")
        if offer.referral_id is not None:
            referral = await referral_service.get(conn, user, offer.referral_id)
            appointment, _ = await place_referral(
                conn, user, referral, slot=slot, session=clinic, settings=settings
            )
        else:
            recall = await queries.get_recall(conn, offer.enrolment_id) if offer.enrolment_id else None
            if recall is None:
                raise BookingConflict("This surveillance recall has ended.")
            appointment, _ = await place_recall(
                conn, user, recall, slot=slot, session=clinic, settings=settings
            )
        await queries.set_offer_booked(conn, offer.id, appointment.id)
        await audit_own(conn, user, "booking.offer.book", appointment)
        return my_booking(appointment, offer.id, settings)


async def audit_own(conn: asyncpg.Connection, user: User, action: str, appointment: AppointmentRow) -> None:
    await audit.record(
        conn,
        user.actor(),
        action,
        "appointment",
        appointment.id,
        subject_user_id=user.id,
        subject_email=user.email,
    )


def my_booking(a: AppointmentRow, offer_id: UUID | None, settings: Settings) -> MyBooking:
    until = a.starts_at - timedelta(hours=settings.booking_change_notice_hours)
    return MyBooking(
        id=a.id,
        referral_id=a.referral_id,
        enrolment_id=a.enrolment_id,
        kind=a.kind,
        clinician_name=a.clinician_name,
        starts_at=a.starts_at,
        ends_at=a.ends_at,
        status=a.status,
        how_to_join=invitations.how_to_join(a, url=None),
        location=a.location if a.kind in ("face_to_face", "on_site") else None,
        join_url=f"{invitations.join_url(settings)}#appointment={a.id}" if a.kind == "video" else None,
        calendar_url=f"/api/v1/booking/appointments/{a.id}/calendar.ics",
        can_reschedule=a.status == "booked" and offer_id is not None and utc_now() < until,
        can_cancel=a.status == "booked" and utc_now() < until,
        reschedule_until=until,
        offer_id=offer_id,
    )


async def own_appointment(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, *, lock: bool
) -> AppointmentRow:
    require_employee(user)
    found = await queries.get_appointment(conn, appointment_id, lock=lock)
    if (
        found is None
        or found.organisation_id != user.organisation_id
        or (found.employee_user_id != user.id and found.employee_email != user.email)
    ):
        raise AppointmentNotFound()
    return found


async def my_appointments(conn: asyncpg.Connection, user: User, settings: Settings) -> list[MyBooking]:
    require_employee(user)
    async with conn.transaction():
        found = await queries.employee_appointments(
            conn, user.id, email=user.email, organisation_id=user.organisation_id
        )
        for a in found:  # signed in with the address it was booked for: their place is theirs
            if a.employee_user_id is None and a.status == "booked":
                await queries.claim_place(conn, a.id, user.id)
        await audit.record_each(  # one row per appointment, each naming the employee
            conn, user.actor(), "booking.appointment.list_own", "appointment",
            [(a.id, Subject(user_id=user.id, email=user.email)) for a in found],
        )  # fmt: skip
        offers = {a.id: await queries.offer_for_appointment(conn, a.id) for a in found}
        return [my_booking(a, o.id if (o := offers[a.id]) else None, settings) for a in found]


async def my_calendar(conn: asyncpg.Connection, user: User, appointment_id: UUID) -> str:
    """The employee's calendar invitation for one of their appointments (to add it to a calendar)."""
    async with conn.transaction():
        found = await own_appointment(conn, user, appointment_id, lock=False)
        await audit_own(conn, user, "booking.appointment.calendar", found)
    how = invitations.how_to_join(found, url=None)
    if found.status == "cancelled":
        return calendar.appointment_ics(found, method="CANCEL", how_to_join=how)
    return calendar.appointment_ics(found, method="REQUEST", how_to_join=how)


async def reschedule_mine(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, body: OfferBook, settings: Settings
) -> MyBooking:
    """The employee moves their own appointment to another slot of the same offer, while the notice
    rule allows (not later than ``booking_change_notice_hours`` before it)."""
    async with conn.transaction():
        appointment = await own_appointment(conn, user, appointment_id, lock=True)
        offer = await queries.offer_for_appointment(conn, appointment.id)
        if offer is None:
            raise BookingConflict("Occupational health booked this appointment: ask them to move it.")
        if utc_now() >= appointment.starts_at - timedelta(hours=settings.booking_change_notice_hours):
            raise TooLateToChange(
                f"Appointments can be moved here until {settings.booking_change_notice_hours} hours before; "
                "please contact occupational health."
            )
        target = await queries.lock_slot(conn, body.slot_id)
        if target is None or not _offers_slot(offer, target):
            raise SlotNotOffered("Choose one of the times offered to you.")
        moved, _, _ = await move(conn, user, appointment, slot_id=body.slot_id, settings=settings)
        await audit_own(conn, user, "booking.appointment.reschedule_own", moved)
        return my_booking(moved, offer.id, settings)
