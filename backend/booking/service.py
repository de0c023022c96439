"""Booking use-cases: book a referral into a clinic slot, move it, cancel it, mark it not attended;
the people who may join (join links, guests); and who may join, for the room.

Each public function owns its transaction; audit rows are written in it and messages are queued
in it (the outbox delivers after commit). Referrals change state only through
``backend.referrals.service``. This package never imports the room (``backend.clinics``).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from backend.audit import service as audit
from backend.auth import service as auth_service
from backend.auth.schemas import Role, User
from backend.auth.tokens import token_hash
from backend.booking import invitations, queries
from backend.booking.errors import (
    AppointmentClosed,
    AppointmentNotFound,
    BookingConflict,
    BookingForbidden,
    JoinLinkInvalid,
    SlotInPast,
    SlotKindMismatch,
    SlotNotFound,
    SlotTaken,
)
from backend.booking.schemas import (
    ACTIVE_STATUSES,
    SUITS,
    AppointmentRead,
    AppointmentRow,
    BookingCreate,
    BookingResult,
    Cancellation,
    GuestCreate,
    GuestInvitation,
    Invitation,
    LinkRow,
    ParticipantRead,
    ParticipantRow,
    RecallRow,
    Reschedule,
    SessionRow,
    SlotRow,
)
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.referrals import service as referral_service
from backend.referrals.schemas import ReferralRead, TransitionRequest

STAFF = frozenset({Role.clinician, Role.provider_admin})


def require_staff(user: User) -> None:
    if user.role not in STAFF:
        raise BookingForbidden("Only occupational health staff (booking staff and clinicians) can do this.")


def opens_at(starts_at: datetime, settings: Settings) -> datetime:
    return starts_at - timedelta(minutes=settings.waiting_room_open_minutes)


def participant_read(p: ParticipantRow) -> ParticipantRead:
    return ParticipantRead(
        id=p.id,
        appointment_id=p.appointment_id,
        kind=p.kind,
        display_name=p.display_name,
        guest_role=p.guest_role,
        state=p.state,
        arrived_at=p.arrived_at,
        waiting_since=p.waiting_since,
        connected=p.connection_id is not None,
        verdict=p.verdict,
    )


async def appointment_for_staff(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, *, lock: bool = False
) -> AppointmentRow:
    require_staff(user)
    appointment = await queries.get_appointment(conn, appointment_id, lock=lock)
    if appointment is None or appointment.provider_id != user.organisation_id:
        raise AppointmentNotFound()
    return appointment


async def reload(conn: asyncpg.Connection, appointment_id: UUID) -> AppointmentRow:
    appointment = await queries.get_appointment(conn, appointment_id)
    if appointment is None:
        raise RuntimeError(f"appointment {appointment_id} vanished inside its own transaction")
    return appointment


async def appointment_read(
    conn: asyncpg.Connection, a: AppointmentRow, settings: Settings
) -> AppointmentRead:
    participants = await queries.list_participants(conn, [a.id])
    return AppointmentRead(
        **a.model_dump(
            exclude={
                "organisation_id",
                "provider_id",
                "employee_birth_date",
                "employee_phone",
                "referrer_email",
                "identity_code_hash",
                "employee_user_id",
            }
        ),
        opens_at=opens_at(a.starts_at, settings),
        participants=[participant_read(p) for p in participants],
    )


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
    sent, url = await _links(conn, employee, appointment, settings)
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


async def _links(
    conn: asyncpg.Connection, employee: ParticipantRow, appointment: AppointmentRow, settings: Settings
) -> tuple[list[Invitation], str | None]:
    if appointment.kind != "video":
        return [], None
    token, invitation = await invitations.issue_link(conn, employee.id, appointment, settings)
    await invitations.send_code(conn, appointment)
    return [invitation], invitations.join_url(settings, token)


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


async def _audit(conn: asyncpg.Connection, user: User, action: str, appointment: AppointmentRow) -> None:
    await audit.record(
        conn,
        user.actor(),
        action,
        "appointment",
        appointment.id,
        subject_user_id=appointment.employee_user_id,
        subject_email=appointment.employee_email,
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
        await _audit(conn, user, "booking.appointment.book", appointment)
        read = await appointment_read(conn, appointment, settings)
    return BookingResult(appointment=read, invitations=sent)


async def move(
    conn: asyncpg.Connection, user: User, appointment: AppointmentRow, *, slot_id: UUID, settings: Settings
) -> tuple[AppointmentRow, list[Invitation]]:
    """In the caller's transaction: the appointment moved to a free slot, old links revoked, new ones
    sent, the calendar invitation updated (SEQUENCE + 1), the referral's booked time changed."""
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
    sent, url = await _links(conn, employee, moved, settings)
    await invitations.tell_employee(conn, "rescheduled", moved, settings=settings, url=url)
    await invitations.tell_referrer(conn, "rescheduled", moved)
    await queries.insert_call_event(
        conn,
        moved.id,
        kind="rescheduled",
        actor_id=user.id,
        detail={"from": appointment.starts_at.isoformat(), "to": moved.starts_at.isoformat()},
    )
    return moved, sent


async def reschedule(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, body: Reschedule, settings: Settings
) -> BookingResult:
    async with conn.transaction():
        appointment = await appointment_for_staff(conn, user, appointment_id, lock=True)
        moved, sent = await move(conn, user, appointment, slot_id=body.slot_id, settings=settings)
        await _audit(conn, user, "booking.appointment.reschedule", moved)
        read = await appointment_read(conn, moved, settings)
    return BookingResult(appointment=read, invitations=sent)


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
        await queries.cancel_appointment(conn, appointment.id, by=user.id)
        await queries.revoke_appointment_links(conn, appointment.id)
        for p in await queries.list_participants(conn, [appointment.id]):
            await queries.set_state(conn, p.id, "done")
        cancelled = await reload(conn, appointment.id)
        await invitations.tell_employee(conn, "cancelled", cancelled, settings=settings)
        await invitations.tell_referrer(conn, "cancelled", cancelled)
        await queries.insert_call_event(
            conn, appointment.id, kind="cancelled", actor_id=user.id, detail={"reason": body.reason or ""}
        )
        await _audit(conn, user, "booking.appointment.cancel", cancelled)
        return await appointment_read(conn, cancelled, settings)


async def get_appointment(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, settings: Settings
) -> AppointmentRead:
    async with conn.transaction():
        appointment = await appointment_for_staff(conn, user, appointment_id)
        await _audit(conn, user, "booking.appointment.read", appointment)
        return await appointment_read(conn, appointment, settings)


async def resend_invitation(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, settings: Settings
) -> BookingResult:
    """A new link (and code) for the employee; earlier unused links stop working."""
    async with conn.transaction():
        appointment = await appointment_for_staff(conn, user, appointment_id, lock=True)
        if appointment.status not in ACTIVE_STATUSES:
            raise AppointmentClosed()
        if appointment.kind != "video":
            raise BookingConflict("Only video appointments have join links.")
        employee = next(
            p for p in await queries.list_participants(conn, [appointment_id]) if p.kind == "employee"
        )
        sent, url = await _links(conn, employee, appointment, settings)
        await invitations.tell_employee(conn, "booked", appointment, settings=settings, url=url)
        await queries.insert_call_event(
            conn,
            appointment_id,
            kind="invited",
            actor_id=user.id,
            participant_id=employee.id,
            detail={"resent": True},
        )
        await _audit(conn, user, "booking.invitation.resend", appointment)
        read = await appointment_read(conn, appointment, settings)
    return BookingResult(appointment=read, invitations=sent)


async def add_guest(
    conn: asyncpg.Connection, user: User, appointment: AppointmentRow, body: GuestCreate, settings: Settings
) -> tuple[GuestInvitation, Invitation]:
    guest = await queries.insert_participant(
        conn,
        session_id=appointment.session_id,
        appointment_id=appointment.id,
        kind="guest",
        display_name=body.name.strip(),
        guest_role=body.role,
    )
    url, invitation = await invitations.invite_guest(
        conn, guest.id, name=guest.display_name, email=body.email, appointment=appointment, settings=settings
    )
    await queries.insert_call_event(
        conn,
        appointment.id,
        kind="invited",
        actor_id=user.id,
        participant_id=guest.id,
        detail={"role": body.role},
    )
    return GuestInvitation(
        participant=participant_read(guest), url=url, expires_at=invitation.expires_at
    ), invitation


async def invite_guest(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, body: GuestCreate, settings: Settings
) -> tuple[GuestInvitation, ParticipantRow]:
    """Invite an interpreter or companion: a single-use link for them (e-mailed when an address is given).
    The new participant is returned too, for the room to announce."""
    async with conn.transaction():
        appointment = await appointment_for_staff(conn, user, appointment_id, lock=True)
        if appointment.status not in ACTIVE_STATUSES:
            raise AppointmentClosed()
        found, _ = await add_guest(conn, user, appointment, body, settings)
        await _audit(conn, user, "booking.guest.invite", appointment)
        row = await queries.get_participant(conn, found.participant.id)
    if row is None:
        raise RuntimeError("a new guest vanished inside its own transaction")
    return found, row


async def mark_dna(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, settings: Settings
) -> AppointmentRead:
    """Did not attend: referral -> DNA, everyone's place closed, the referrer told the same day."""
    async with conn.transaction():
        appointment = await appointment_for_staff(conn, user, appointment_id, lock=True)
        if appointment.status != "booked":
            raise BookingConflict(
                "Only a booked appointment that has not started can be marked as not attended."
            )
        if utc_now() < appointment.starts_at:
            raise BookingConflict("An appointment can be marked as not attended only once its time has come.")
        if appointment.referral_id is not None:
            await referral_service.apply_transition(
                conn, user, appointment.referral_id, TransitionRequest(action="mark_dna")
            )
        await queries.set_dna(conn, appointment_id)
        for p in await queries.list_participants(conn, [appointment_id]):
            await queries.set_state(conn, p.id, "dna")
        await queries.insert_call_event(conn, appointment_id, kind="dna", actor_id=user.id)
        await invitations.tell_referrer_dna(conn, appointment)
        await _audit(conn, user, "booking.appointment.dna", appointment)
        return await appointment_read(conn, await reload(conn, appointment_id), settings)


# --- who may join (asked by the room) ---


@dataclass(frozen=True)
class JoinTicket:
    """A valid, unspent join link: whose place it opens, in which appointment."""

    link: LinkRow
    participant: ParticipantRow
    appointment: AppointmentRow


async def open_join_link(conn: asyncpg.Connection, token: str) -> JoinTicket:
    """In the caller's transaction (locks the link): who this link lets in, else 404/409."""
    link = await queries.lock_link(conn, token_hash(token))
    if (
        link is None
        or link.used_at
        or link.revoked_at
        or link.expires_at <= utc_now()
        or link.failures >= invitations.MAX_IDENTITY_FAILURES
    ):
        raise JoinLinkInvalid("This link has already been used or has expired. Ask for a new one.")
    participant = await queries.get_participant(conn, link.participant_id)
    appointment = None
    if participant is not None and participant.appointment_id is not None:
        appointment = await queries.get_appointment(conn, participant.appointment_id)
    if participant is None or appointment is None:
        raise JoinLinkInvalid("This link has already been used or has expired. Ask for a new one.")
    if appointment.status not in ACTIVE_STATUSES:
        raise AppointmentClosed("This appointment has ended or was cancelled.")
    return JoinTicket(link, participant, appointment)


async def spend_link(conn: asyncpg.Connection, ticket: JoinTicket, *, user_id: UUID | None) -> None:
    """The link is used up (in the caller's transaction); the employee's account is remembered."""
    await queries.use_link(conn, ticket.link.id)
    if user_id is not None and ticket.participant.kind == "employee":
        await queries.set_employee_user(conn, ticket.appointment.id, user_id)


async def count_link_failure(conn: asyncpg.Connection, ticket: JoinTicket) -> int:
    """One more wrong identity answer on this link; how many tries are left."""
    return invitations.MAX_IDENTITY_FAILURES - await queries.link_failure(conn, ticket.link.id)


def identity_code_matches(appointment: AppointmentRow, code: str) -> bool:
    if appointment.identity_code_hash is None:
        return False
    return hmac.compare_digest(invitations.code_hash(appointment.id, code), appointment.identity_code_hash)
