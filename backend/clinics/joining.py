"""Joining an appointment: join links (single use, identity checked), the caller's own view of
their appointment, and the employee's consent to a video assessment. Who a link lets in is
booking's answer (``backend.booking.service.open_join_link``).

Each public function owns its transaction; the link is spent in the same transaction that issues
the session, and a wrong answer is counted (committed) before the refusal is raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from backend.audit import service as audit
from backend.auth import service as auth_service
from backend.auth.schemas import IssuedSession, Role, User
from backend.auth.tokens import new_token, token_hash
from backend.booking import service as booking_service
from backend.booking.calendar import UK
from backend.clinics import queries
from backend.clinics.errors import AppointmentClosed, AppointmentNotFound, IdentityMismatch, RoomNotOpen
from backend.clinics.schemas import (
    ACTIVE_STATUSES,
    AppointmentRow,
    JoinPreview,
    JoinRequest,
    JoinResult,
    MyAppointment,
    ParticipantRow,
)
from backend.core.clock import utc_now
from backend.core.config import Settings

GUEST_PASS_GRACE = timedelta(hours=4)


@dataclass(frozen=True)
class Caller:
    """Who is asking about an appointment: a signed-in user, or an invited third party (by pass)."""

    user: User | None = None
    guest: ParticipantRow | None = None


def opens_at(starts_at: datetime, settings: Settings) -> datetime:
    return starts_at - timedelta(minutes=settings.waiting_room_open_minutes)


async def preview_link(conn: asyncpg.Connection, token: str, settings: Settings) -> JoinPreview:
    """What the link is for and when the room opens; the link is not spent."""
    async with conn.transaction():
        ticket = await booking_service.open_join_link(conn, token)
        participant, appointment = ticket.participant, ticket.appointment
    opening = opens_at(appointment.starts_at, settings)
    return JoinPreview(
        kind=participant.kind,
        check="date_of_birth_or_code" if participant.kind == "employee" else "name",
        clinician_name=appointment.clinician_name,
        starts_at=appointment.starts_at,
        opens_at=opening,
        is_open=utc_now() >= opening,
    )


def _identity_ok(appointment: AppointmentRow, body: JoinRequest) -> bool:
    if body.date_of_birth is not None and appointment.employee_birth_date is not None:
        return body.date_of_birth == appointment.employee_birth_date
    if body.code:
        return booking_service.identity_code_matches(appointment, body.code)
    return False


async def join(
    conn: asyncpg.Connection, body: JoinRequest, settings: Settings
) -> tuple[JoinResult, IssuedSession | None]:
    """Redeem a join link once: an employee proves who they are; a third party gives their name."""
    mismatch = False
    issued: IssuedSession | None = None
    async with conn.transaction():
        ticket = await booking_service.open_join_link(conn, body.token)
        participant, appointment = ticket.participant, ticket.appointment
        opening = opens_at(appointment.starts_at, settings)
        if utc_now() < opening:
            raise RoomNotOpen(
                f"The waiting room opens at {opening.astimezone(UK):%H:%M} on "
                f"{opening.astimezone(UK):%d %B %Y}. Come back then with this link."
            )
        if participant.kind == "employee" and not _identity_ok(appointment, body):
            left = await booking_service.count_link_failure(conn, ticket)
            mismatch = True
        elif participant.kind == "employee":
            result, issued = await _join_employee(conn, participant, appointment, settings)
        else:
            result, issued = await _join_guest(conn, participant, appointment, body.name)
        if not mismatch:
            await booking_service.spend_link(conn, ticket, user_id=issued.user.id if issued else None)
            await queries.insert_call_event(
                conn, appointment.id, participant.id, participant.user_id, "link_used", {}
            )
    if mismatch:  # the failure is committed first, so it counts
        raise IdentityMismatch(
            "Those details do not match our records. Check your date of birth, or use the code we sent you."
            + (tries_left(left) if left > 0 else " This link is now locked; ask for a new one."),
            errors=[{"field": "date_of_birth", "message": "does not match", "type": "mismatch"}],
        )
    return result, issued


def tries_left(left: int) -> str:
    return f" {left} more {'try' if left == 1 else 'tries'}."


async def _join_employee(
    conn: asyncpg.Connection, participant: ParticipantRow, appointment: AppointmentRow, settings: Settings
) -> tuple[JoinResult, IssuedSession]:
    user = await auth_service.ensure_employee(
        conn,
        email=appointment.employee_email,
        organisation_id=appointment.organisation_id,
        full_name=appointment.employee_name,
    )
    await queries.set_user(conn, participant.id, user.id)
    issued = await auth_service.issue_link_session(conn, user, settings)
    await audit.record(
        conn, user.actor(), "clinic.join_link.redeem", "appointment", appointment.id, subject_user_id=user.id
    )
    return JoinResult(
        access_token=issued.token,
        csrf_token=issued.csrf_token,
        expires_at=issued.expires_at,
        appointment_id=appointment.id,
        participant_id=participant.id,
        kind="employee",
    ), issued


async def _join_guest(
    conn: asyncpg.Connection, participant: ParticipantRow, appointment: AppointmentRow, name: str | None
) -> tuple[JoinResult, None]:
    if name and name.strip():
        await queries.set_display_name(conn, participant.id, name.strip())
    guest_pass = new_token()
    expires_at = appointment.ends_at + GUEST_PASS_GRACE
    await queries.set_pass(conn, participant.id, token_hash(guest_pass), expires_at)
    await audit.record(
        conn,
        None,
        "clinic.join_link.redeem",
        "appointment",
        appointment.id,
        subject_email=appointment.employee_email,
    )
    return JoinResult(
        access_token=guest_pass,
        csrf_token=None,
        expires_at=expires_at,
        appointment_id=appointment.id,
        participant_id=participant.id,
        kind="guest",
    ), None


async def appointment_view(conn: asyncpg.Connection, appointment_id: UUID | None) -> AppointmentRow | None:
    """An appointment's times and clinician, for a socket that has already been authorised."""
    return await queries.get_appointment(conn, appointment_id) if appointment_id else None


async def guest_by_pass(conn: asyncpg.Connection, guest_pass: str) -> ParticipantRow | None:
    return await queries.participant_by_pass(conn, token_hash(guest_pass))


async def _mine(
    conn: asyncpg.Connection, caller: Caller, appointment_id: UUID
) -> tuple[ParticipantRow, AppointmentRow]:
    """The caller's own place in an appointment (employee or guest), else 404."""
    if caller.guest is not None:
        participants = [caller.guest] if caller.guest.appointment_id == appointment_id else []
    elif caller.user is not None and caller.user.role == Role.employee:
        participants = [
            p
            for p in await queries.employee_participants(conn, caller.user.id)
            if p.appointment_id == appointment_id
        ]
    else:
        participants = []
    appointment = await queries.get_appointment(conn, appointment_id) if participants else None
    if appointment is None:
        raise AppointmentNotFound()
    return participants[0], appointment


def my_view(p: ParticipantRow, a: AppointmentRow, settings: Settings) -> MyAppointment:
    return MyAppointment(
        id=a.id,
        participant_id=p.id,
        kind=p.kind,
        display_name=p.display_name,
        clinician_name=a.clinician_name,
        modality=a.modality,
        starts_at=a.starts_at,
        ends_at=a.ends_at,
        opens_at=opens_at(a.starts_at, settings),
        status=a.status,
        state=p.state,
        consent_needed=p.kind == "employee" and a.video_consent_at is None,
        precall_done=p.verdict is not None,
    )


async def my_appointment(
    conn: asyncpg.Connection, caller: Caller, appointment_id: UUID, settings: Settings
) -> MyAppointment:
    async with conn.transaction():
        participant, appointment = await _mine(conn, caller, appointment_id)
        actor = caller.user.actor() if caller.user else None
        await audit.record(
            conn,
            actor,
            "clinic.appointment.read_own",
            "appointment",
            appointment_id,
            subject_user_id=participant.user_id,
        )
    return my_view(participant, appointment, settings)


async def give_video_consent(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, settings: Settings
) -> MyAppointment:
    """The employee agrees to be assessed by video (before the pre-call test and waiting room)."""
    async with conn.transaction():
        participant, appointment = await _mine(conn, Caller(user=user), appointment_id)
        if appointment.status not in ACTIVE_STATUSES:
            raise AppointmentClosed()
        await queries.set_video_consent(conn, appointment_id)
        await queries.insert_call_event(
            conn, appointment_id, participant.id, user.id, "consent", {"video_assessment": True}
        )
        await audit.record(
            conn, user.actor(), "clinic.video_consent", "appointment", appointment_id, subject_user_id=user.id
        )
        updated = await queries.get_appointment(conn, appointment_id)
        if updated is None:
            raise AppointmentNotFound()
        return my_view(participant, updated, settings)
