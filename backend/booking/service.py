"""Booking use-cases: book a referral (or a surveillance recall) into a clinic slot, move it, cancel
it; the room's questions (who may join, guests, not attending) are answered by ``people`` and
re-exported here, so other features ask this service.

Each public function owns its transaction; audit rows are written in it and messages are queued
in it (the outbox delivers after commit). Referrals change state only through
``backend.referrals.service``. This package never imports the room (``backend.clinics``).
"""

from __future__ import annotations

from datetime import UTC, date
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from backend.audit.schemas import Subject
from backend.auth import service as auth_service
from backend.auth.schemas import Role, User
from backend.booking import invitations, queries
from backend.booking.access import (
    STAFF,
    appointment_for_staff,
    appointment_read,
    audit_appointment,
    opens_at,
    participant_read,
    reload,
    require_staff,
)
from backend.booking.cancelling import close_appointment
from backend.booking.errors import (
    AppointmentClosed,
    BookingConflict,
    SlotInPast,
    SlotKindMismatch,
    SlotNotFound,
    SlotTaken,
)
from backend.booking.people import (
    JoinTicket,
    add_guest,
    count_link_failure,
    identity_code_matches,
    invite_guest,
    mark_dna,
    open_join_link,
    reinvite_guests,
    resend_invitation,
    send_join_link,
    spend_link,
)
from backend.booking.schemas import (
    SUITS,
    AppointmentRead,
    AppointmentRow,
    BookingCreate,
    BookingResult,
    Cancellation,
    GuestInvitation,
    Invitation,
    RecallRow,
    Reschedule,
    SessionRow,
    SlotRow,
)
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.referrals import service as referral_service
from backend.referrals.schemas import ReferralRead, TransitionRequest

__all__ = [
    "STAFF",
    "JoinTicket",
    "appointment_for_staff",
    "appointment_read",
    "book",
    "cancel",
    "count_link_failure",
    "get_appointment",
    "identity_code_matches",
    "invite_guest",
    "mark_dna",
    "move",
    "open_join_link",
    "opens_at",
    "participant_read",
    "place_recall",
    "place_referral",
    "require_staff",
    "reschedule",
    "resend_invitation",
    "spend_link",
]


async def free_slot(
    conn: asyncpg.Connection, slot_id: UUID, *, provider_id: UUID
) -> tuple[SlotRow, SessionRow]:
    """Lock a slot of this provider's clinics that is still to come and free, else refuse clearly."""
    slot = await queries.lock_slot(conn, slot_id)
    session = await queries.get_session(conn, slot.session_id, lock=True) if slot else None
    if slot is None or session is None or session.provider_id != provider_id or session.cancelled_at:
        raise SlotNotFound()
    if slot.starts_at <= utc_now():
        raise SlotInPast("That slot has already started or passed; choose a later one.")
    if not await queries.slot_is_free(conn, slot.id):
        raise SlotTaken("That slot is already booked; choose another.")
    return slot, session


def check_suits_referral(session: SessionRow, referral: ReferralRead) -> None:
    if referral.modality is not None and session.kind not in SUITS[referral.modality]:
        raise SlotKindMismatch(
            f"The referral was triaged for a {referral.modality.replace('_', '-')} appointment; "
            f"that clinic is {session.kind.replace('_', '-')}."
        )


def check_suits_recall(session: SessionRow, recall: RecallRow) -> None:
    if session.kind not in ("on_site", "face_to_face") or (
        session.kind == "on_site" and session.employer_id != recall.organisation_id
    ):
        raise SlotKindMismatch(
            "A surveillance check is booked into a face-to-face clinic or an on-site clinic "
            "at the employee's own employer."
        )


def _birth_date(form: dict[str, Any]) -> date | None:
    employee = form.get("employee")
    raw = employee.get("date_of_birth") if isinstance(employee, dict) else None
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def _phone(form: dict[str, Any]) -> str | None:
    employee = form.get("employee")
    raw = employee.get("phone") if isinstance(employee, dict) else None
    return raw[:40] if isinstance(raw, str) and raw.strip() else None


def _facts(slot: SlotRow, session: SessionRow, appointment_id: UUID) -> dict[str, Any]:
    return {
        "appointment_id": str(appointment_id),
        "starts_at": slot.starts_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),  # as the API writes
        "kind": session.kind,
    }


async def _insert(conn: asyncpg.Connection, user: User, slot: SlotRow, **fields: Any) -> UUID:
    try:
        async with conn.transaction():
            return await queries.insert_appointment(
                conn, session_id=slot.session_id, slot_id=slot.id, booked_by=user.id, **fields
            )
    except asyncpg.UniqueViolationError:
        raise BookingConflict("That slot or this referral is already booked.") from None


async def _welcome(
    conn: asyncpg.Connection,
    user: User,
    appointment: AppointmentRow,
    *,
    settings: Settings,
    employee_user: UUID | None,
) -> list[Invitation]:
    """The employee's place (and join link for video), the messages with their calendar invitations."""
    employee = await queries.insert_participant(
        conn,
        session_id=appointment.session_id,
        appointment_id=appointment.id,
        kind="employee",
        user_id=employee_user,
        display_name=appointment.employee_name,
    )
    sent, url = await send_join_link(conn, employee, appointment, settings)
    await invitations.tell_employee(conn, "booked", appointment, settings=settings, url=url)
    await invitations.tell_referrer(conn, "booked", appointment)
    await queries.insert_call_event(
        conn,
        appointment.id,
        kind="booked",
        actor_id=user.id,
        detail={"slot_starts_at": appointment.starts_at.isoformat()},
    )
    return sent


async def place_referral(
    conn: asyncpg.Connection,
    user: User,
    referral: ReferralRead,
    *,
    slot: SlotRow,
    session: SessionRow,
    settings: Settings,
) -> tuple[AppointmentRow, list[Invitation]]:
    """In the caller's transaction: the appointment, the referral BOOKED, everyone told."""
    check_suits_referral(session, referral)
    referrer = await auth_service.get_user(conn, referral.referrer_id)
    appointment_id = uuid4()
    request = TransitionRequest(action="book", slot_id=slot.id)
    await referral_service.apply_transition(
        conn, user, referral.id, request, facts=_facts(slot, session, appointment_id)
    )
    await _insert(
        conn,
        user,
        slot,
        id=appointment_id,
        referral_id=referral.id,
        organisation_id=referral.organisation_id,
        employee_email=referral.employee_email,
        employee_name=referral.employee_name,
        employee_user_id=referral.employee_user_id,
        employee_birth_date=_birth_date(referral.form),
        employee_phone=_phone(referral.form),
        referrer_email=referrer.email if referrer else None,
    )
    await queries.withdraw_offers(conn, referral_id=referral.id, enrolment_id=None)
    appointment = await reload(conn, appointment_id)
    sent = await _welcome(conn, user, appointment, settings=settings, employee_user=referral.employee_user_id)
    return appointment, sent


async def place_recall(
    conn: asyncpg.Connection,
    user: User,
    recall: RecallRow,
    *,
    slot: SlotRow,
    session: SessionRow,
    settings: Settings,
) -> tuple[AppointmentRow, list[Invitation]]:
    """In the caller's transaction: a surveillance check booked into an on-site or face-to-face clinic."""
    check_suits_recall(session, recall)
    appointment_id = await _insert(
        conn,
        user,
        slot,
        id=uuid4(),
        enrolment_id=recall.id,
        organisation_id=recall.organisation_id,
        employee_email=recall.email,
        employee_name=recall.full_name,
        employee_user_id=user.id if user.role == Role.employee else None,
        employee_birth_date=recall.date_of_birth,
        employee_phone=None,
        referrer_email=None,
    )
    await queries.withdraw_offers(conn, referral_id=None, enrolment_id=recall.id)
    appointment = await reload(conn, appointment_id)
    employee_user = user.id if user.role == Role.employee else None
    return appointment, await _welcome(
        conn, user, appointment, settings=settings, employee_user=employee_user
    )


async def book(
    conn: asyncpg.Connection, user: User, body: BookingCreate, settings: Settings
) -> BookingResult:
    """Book a triaged referral into a free slot: referral -> BOOKED, employee and referrer told."""
    require_staff(user)
    async with conn.transaction():
        slot, session = await free_slot(conn, body.slot_id, provider_id=user.organisation_id)
        referral = await referral_service.get(conn, user, body.referral_id)
        appointment, sent = await place_referral(
            conn, user, referral, slot=slot, session=session, settings=settings
        )
        if body.interpreter is not None:
            _, guest = await add_guest(conn, user, appointment, body.interpreter, settings)
            sent.append(guest)
        await audit_appointment(conn, user, "booking.appointment.book", appointment)
        read = await appointment_read(conn, appointment, settings)
    return BookingResult(appointment=read, invitations=sent)


async def move(
    conn: asyncpg.Connection, user: User, appointment: AppointmentRow, *, slot_id: UUID, settings: Settings
) -> tuple[AppointmentRow, list[Invitation], list[GuestInvitation]]:
    """In the caller's transaction: the appointment moved to a free slot, old links revoked, new ones
    sent (to the employee and every guest), the calendar invitation updated (SEQUENCE + 1), the
    referral's booked time changed."""
    if appointment.status != "booked":
        raise AppointmentClosed("Only a booked appointment that has not started can be moved.")
    slot, session = await free_slot(conn, slot_id, provider_id=appointment.provider_id)
    if appointment.referral_id is not None:
        referral = await referral_service.get(conn, user, appointment.referral_id)
        check_suits_referral(session, referral)
        request = TransitionRequest(action="reschedule", slot_id=slot.id)
        await referral_service.apply_transition(
            conn, user, referral.id, request, facts=_facts(slot, session, appointment.id)
        )
    else:
        recall = (
            await queries.get_recall(conn, appointment.enrolment_id) if appointment.enrolment_id else None
        )
        if recall is None:
            raise AppointmentClosed("This surveillance recall has ended.")
        check_suits_recall(session, recall)
    await queries.move_appointment(conn, appointment.id, slot=slot)
    await queries.revoke_appointment_links(conn, appointment.id)
    moved = await reload(conn, appointment.id)
    employee = next(p for p in await queries.list_participants(conn, [moved.id]) if p.kind == "employee")
    sent, url = await send_join_link(conn, employee, moved, settings)
    guests = await reinvite_guests(conn, user, moved, settings)
    await invitations.tell_employee(conn, "rescheduled", moved, settings=settings, url=url)
    await invitations.tell_referrer(conn, "rescheduled", moved)
    await queries.insert_call_event(
        conn,
        moved.id,
        kind="rescheduled",
        actor_id=user.id,
        detail={"from": appointment.starts_at.isoformat(), "to": moved.starts_at.isoformat()},
    )
    return moved, sent, guests


async def reschedule(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, body: Reschedule, settings: Settings
) -> BookingResult:
    async with conn.transaction():
        appointment = await appointment_for_staff(conn, user, appointment_id, lock=True)
        moved, sent, guests = await move(conn, user, appointment, slot_id=body.slot_id, settings=settings)
        await audit_appointment(conn, user, "booking.appointment.reschedule", moved)
        read = await appointment_read(conn, moved, settings)
    return BookingResult(appointment=read, invitations=sent, guests=guests)


async def cancel(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, body: Cancellation, settings: Settings
) -> AppointmentRead:
    """Cancel a booked appointment: the slot is free again, links stop working, the referral awaits
    booking, and the employee and referrer get a calendar cancellation."""
    async with conn.transaction():
        appointment = await appointment_for_staff(conn, user, appointment_id, lock=True)
        if appointment.status != "booked":
            raise AppointmentClosed("Only a booked appointment that has not started can be cancelled.")
        if appointment.referral_id is not None:
            await referral_service.apply_transition(
                conn,
                user,
                appointment.referral_id,
                TransitionRequest(action="cancel_booking"),
                facts={"appointment_id": str(appointment.id), "starts_at": None},
            )
        cancelled = await close_appointment(
            conn, user, appointment, settings=settings, reason=body.reason or ""
        )
        await audit_appointment(conn, user, "booking.appointment.cancel", cancelled)
        return await appointment_read(conn, cancelled, settings)


async def get_appointment(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, settings: Settings
) -> AppointmentRead:
    async with conn.transaction():
        appointment = await appointment_for_staff(conn, user, appointment_id)
        await audit_appointment(conn, user, "booking.appointment.read", appointment)
        return await appointment_read(conn, appointment, settings)


async def appointment_subjects(
    conn: asyncpg.Connection, appointment_ids: list[UUID]
) -> list[tuple[UUID, Subject]]:
    """Whom each appointment is about, for the audit rows of the reads that show it."""
    return [
        (appointment_id, Subject(user_id=user_id, email=email))
        for appointment_id, user_id, email in await queries.appointment_subjects(conn, appointment_ids)
    ]
