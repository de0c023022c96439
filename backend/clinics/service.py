"""Clinic use-cases: sessions and slots, booking a referral, invitations and join links,
video consent, DNA and the start of a consultation.

Each public function owns its transaction; audit rows and call events are written in it;
messages are queued in it (outbox) and live events are published in it (delivered on commit).
Referrals change state only through ``backend.referrals.service``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID

import asyncpg

from backend.audit import service as audit
from backend.audit.schemas import NoSubject, Subject
from backend.auth import service as auth_service
from backend.auth.schemas import Role, User
from backend.clinics import events, invitations, queries
from backend.clinics.errors import (
    AppointmentClosed,
    AppointmentNotFound,
    ClinicConflict,
    ClinicForbidden,
    ClinicInvalid,
    ClinicNotFound,
    SlotNotFound,
    SlotTaken,
)
from backend.clinics.invitations import UK
from backend.clinics.joining import opens_at
from backend.clinics.schemas import (
    ACTIVE_STATUSES,
    AppointmentRead,
    AppointmentRow,
    BookingCreate,
    BookingResult,
    CallEventRead,
    GuestCreate,
    GuestInvitation,
    Invitation,
    ParticipantRead,
    ParticipantRow,
    SessionCreate,
    SessionRead,
    SessionRow,
    SlotRead,
)
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.referrals import service as referral_service
from backend.referrals.schemas import TransitionRequest

STAFF = frozenset({Role.clinician, Role.provider_admin})


def today_uk() -> date:
    return utc_now().astimezone(UK).date()


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


def _require_staff(user: User) -> None:
    if user.role not in STAFF:
        raise ClinicForbidden("Only occupational health staff can manage clinics.")


async def _session_for_staff(
    conn: asyncpg.Connection, user: User, session_id: UUID, *, lock: bool
) -> SessionRow:
    _require_staff(user)
    session = await queries.get_session(conn, session_id, lock=lock)
    if session is None or session.provider_id != user.organisation_id or session.cancelled_at is not None:
        raise ClinicNotFound()
    return session


async def appointment_for_staff(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, *, lock: bool = False
) -> AppointmentRow:
    _require_staff(user)
    appointment = await queries.get_appointment(conn, appointment_id, lock=lock)
    if appointment is None or appointment.provider_id != user.organisation_id:
        raise AppointmentNotFound()
    return appointment


def _slot_times(body: SessionCreate) -> tuple[list[datetime], list[datetime]]:
    step = timedelta(minutes=body.slot_minutes)
    starts: list[datetime] = []
    at = body.starts_at
    while at + step <= body.ends_at:
        starts.append(at)
        at += step
    if not starts:
        raise ClinicInvalid(
            "The session is shorter than one slot.",
            errors=[{"field": "slot_minutes", "message": "longer than the session", "type": "value"}],
        )
    return starts, [s + step for s in starts]


async def create_session(conn: asyncpg.Connection, user: User, body: SessionCreate) -> SessionRead:
    _require_staff(user)
    clinician_id = body.clinician_id or user.id
    if user.role == Role.clinician and clinician_id != user.id:
        raise ClinicForbidden("Clinicians plan their own clinics; an administrator can plan anyone's.")
    if body.ends_at <= body.starts_at or body.ends_at - body.starts_at > timedelta(hours=14):
        raise ClinicInvalid(
            "A session ends after it starts and lasts at most 14 hours.",
            errors=[{"field": "ends_at", "message": "after starts_at, within 14 hours", "type": "value"}],
        )
    starts, ends = _slot_times(body)
    async with conn.transaction():
        clinician = await auth_service.get_user(conn, clinician_id)
        if (
            clinician is None
            or clinician.role != Role.clinician
            or clinician.organisation_id != user.organisation_id
        ):
            raise ClinicInvalid(
                "No such clinician in your organisation.",
                errors=[{"field": "clinician_id", "message": "unknown clinician", "type": "value"}],
            )
        await queries.lock_clinician_diary(conn, clinician_id)
        if await queries.session_overlaps(conn, clinician_id, body.starts_at, body.ends_at):
            raise ClinicConflict("The clinician already has a clinic at that time.")
        session_id = await queries.insert_session(
            conn,
            provider_id=user.organisation_id,
            clinician_id=clinician_id,
            session_date=body.starts_at.astimezone(UK).date(),
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            modality=body.modality,
            slot_minutes=body.slot_minutes,
            location=body.location,
            created_by=user.id,
        )
        await queries.insert_slots(conn, session_id, starts, ends)
        await audit.record(
            conn, user.actor(), "clinic.session.create", "clinic_session", session_id, subject=NoSubject
        )
        return (await _session_reads(conn, [await _reload_session(conn, session_id)]))[0]


async def _reload_session(conn: asyncpg.Connection, session_id: UUID) -> SessionRow:
    session = await queries.get_session(conn, session_id)
    if session is None:
        raise RuntimeError(f"clinic session {session_id} vanished inside its own transaction")
    return session


async def _session_reads(conn: asyncpg.Connection, sessions: list[SessionRow]) -> list[SessionRead]:
    slots = await queries.list_slots(conn, [s.id for s in sessions])
    return [
        SessionRead(
            id=s.id,
            clinician_id=s.clinician_id,
            clinician_name=s.clinician_name,
            session_date=s.session_date,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            modality=s.modality,
            slot_minutes=s.slot_minutes,
            location=s.location,
            slots=[
                SlotRead(id=sl.id, starts_at=sl.starts_at, ends_at=sl.ends_at, appointment=brief)
                for sl, brief in slots
                if sl.session_id == s.id
            ],
        )
        for s in sessions
    ]


async def _audit_booked(conn: asyncpg.Connection, user: User, action: str, reads: list[SessionRead]) -> None:
    """A read of clinic days names everyone booked in them: one audit row per appointment listed."""
    booked = [sl.appointment.id for r in reads for sl in r.slots if sl.appointment is not None]
    listed = await queries.appointment_subjects(conn, booked)
    await audit.record_each(
        conn, user.actor(), action, "appointment",
        [(aid, Subject(user_id=uid, email=email)) for aid, uid, email in listed],
    )  # fmt: skip


async def list_sessions(
    conn: asyncpg.Connection, user: User, *, day: date | None, clinician_id: UUID | None
) -> list[SessionRead]:
    _require_staff(user)
    async with conn.transaction():
        sessions = await queries.list_sessions(conn, user.organisation_id, day or today_uk(), clinician_id)
        reads = await _session_reads(conn, sessions)
        await _audit_booked(conn, user, "clinic.session.list", reads)
        return reads


async def get_session(conn: asyncpg.Connection, user: User, session_id: UUID) -> SessionRead:
    async with conn.transaction():
        session = await _session_for_staff(conn, user, session_id, lock=False)
        reads = await _session_reads(conn, [session])
        await _audit_booked(conn, user, "clinic.session.read", reads)
        return reads[0]


def _birth_date(form: dict[str, object]) -> date | None:
    employee = form.get("employee")
    raw = employee.get("date_of_birth") if isinstance(employee, dict) else None
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def _phone(form: dict[str, object]) -> str | None:
    employee = form.get("employee")
    raw = employee.get("phone") if isinstance(employee, dict) else None
    return raw[:40] if isinstance(raw, str) and raw.strip() else None


async def book(
    conn: asyncpg.Connection, user: User, body: BookingCreate, settings: Settings
) -> BookingResult:
    """Book a triaged referral into a free slot: referral -> BOOKED, invitations sent, manager told."""
    _require_staff(user)
    async with conn.transaction():
        slot = await queries.lock_slot(conn, body.slot_id)
        session = await queries.get_session(conn, slot.session_id, lock=True) if slot else None
        if (
            slot is None
            or session is None
            or session.provider_id != user.organisation_id
            or session.cancelled_at
        ):
            raise SlotNotFound()
        if slot.ends_at <= utc_now():
            raise ClinicConflict("That slot has already passed.")
        referral = await referral_service.get(conn, user, body.referral_id)
        if referral.modality is not None and referral.modality != session.modality:
            raise ClinicConflict(
                f"The referral was triaged for {referral.modality}, this clinic is {session.modality}."
            )
        request = TransitionRequest(action="book", appointment_at=slot.starts_at)
        referral = await referral_service.transition(conn, user, referral.id, request)
        referrer = await auth_service.get_user(conn, referral.referrer_id)
        try:
            appointment_id = await queries.insert_appointment(
                conn,
                session_id=session.id,
                slot_id=slot.id,
                referral_id=referral.id,
                organisation_id=referral.organisation_id,
                employee_email=referral.employee_email,
                employee_name=referral.employee_name,
                employee_birth_date=_birth_date(referral.form),
                employee_phone=_phone(referral.form),
                referrer_email=referrer.email if referrer else None,
                identity_code_hash=None,
                booked_by=user.id,
            )
        except asyncpg.UniqueViolationError:
            raise SlotTaken("That slot is already booked; choose another.") from None
        appointment = await _reload_appointment(conn, appointment_id)
        employee = await queries.insert_participant(
            conn,
            session_id=session.id,
            appointment_id=appointment_id,
            kind="employee",
            user_id=referral.employee_user_id,
            display_name=referral.employee_name,
        )
        sent = [await invitations.invite_employee(conn, employee.id, appointment, settings)]
        await invitations.notify_manager_booked(conn, appointment)
        if body.interpreter is not None:
            _, guest_invitation = await _add_guest(conn, user, appointment, body.interpreter, settings)
            sent.append(guest_invitation)
        await queries.insert_call_event(
            conn, appointment_id, None, user.id, "booked", {"slot_starts_at": slot.starts_at.isoformat()}
        )
        await audit.record(
            conn,
            user.actor(),
            "clinic.appointment.book",
            "appointment",
            appointment_id,
            subject_user_id=referral.employee_user_id,
            subject_email=referral.employee_email,
        )
        read = await _appointment_read(conn, appointment, settings)
    return BookingResult(appointment=read, invitations=sent)


async def _reload_appointment(conn: asyncpg.Connection, appointment_id: UUID) -> AppointmentRow:
    appointment = await queries.get_appointment(conn, appointment_id)
    if appointment is None:
        raise RuntimeError(f"appointment {appointment_id} vanished inside its own transaction")
    return appointment


async def _appointment_read(
    conn: asyncpg.Connection, a: AppointmentRow, settings: Settings
) -> AppointmentRead:
    participants = await queries.list_participants(conn, [a.id])
    return AppointmentRead(
        id=a.id,
        session_id=a.session_id,
        slot_id=a.slot_id,
        referral_id=a.referral_id,
        clinician_id=a.clinician_id,
        clinician_name=a.clinician_name,
        modality=a.modality,
        starts_at=a.starts_at,
        ends_at=a.ends_at,
        opens_at=opens_at(a.starts_at, settings),
        status=a.status,
        employee_name=a.employee_name,
        employee_email=a.employee_email,
        video_consent_at=a.video_consent_at,
        first_admitted_at=a.first_admitted_at,
        ended_at=a.ended_at,
        quality=a.quality,
        participants=[participant_read(p) for p in participants],
    )


async def get_appointment(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, settings: Settings
) -> AppointmentRead:
    async with conn.transaction():
        appointment = await appointment_for_staff(conn, user, appointment_id)
        await audit.record(
            conn,
            user.actor(),
            "clinic.appointment.read",
            "appointment",
            appointment_id,
            subject_email=appointment.employee_email,
        )
        return await _appointment_read(conn, appointment, settings)


async def activity(conn: asyncpg.Connection, user: User, appointment_id: UUID) -> list[CallEventRead]:
    async with conn.transaction():
        appointment = await appointment_for_staff(conn, user, appointment_id)
        found = await queries.list_call_events(conn, appointment_id)
        await audit.record(
            conn,
            user.actor(),
            "clinic.activity.read",
            "appointment",
            appointment_id,
            subject_email=appointment.employee_email,
        )
    return [
        CallEventRead(
            id=e.id,
            at=e.at,
            kind=e.kind,
            participant_id=e.participant_id,
            who=e.display_name,
            detail=e.detail,
        )
        for e in found
    ]


async def resend_invitation(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, settings: Settings
) -> BookingResult:
    """A new link (and code) for the employee; earlier unused links stop working."""
    async with conn.transaction():
        appointment = await appointment_for_staff(conn, user, appointment_id, lock=True)
        if appointment.status not in ACTIVE_STATUSES:
            raise AppointmentClosed()
        employee = next(
            p for p in await queries.list_participants(conn, [appointment_id]) if p.kind == "employee"
        )
        invitation = await invitations.invite_employee(conn, employee.id, appointment, settings)
        await queries.insert_call_event(
            conn, appointment_id, employee.id, user.id, "invited", {"resent": True}
        )
        await audit.record(
            conn,
            user.actor(),
            "clinic.invitation.resend",
            "appointment",
            appointment_id,
            subject_email=appointment.employee_email,
        )
        read = await _appointment_read(conn, appointment, settings)
    return BookingResult(appointment=read, invitations=[invitation])


async def _add_guest(
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
        conn, guest.id, guest.display_name, body.email, appointment, settings
    )
    await queries.insert_call_event(conn, appointment.id, guest.id, user.id, "invited", {"role": body.role})
    await events.participant_changed(conn, guest)
    return GuestInvitation(
        participant=participant_read(guest), url=url, expires_at=invitation.expires_at
    ), invitation


async def invite_guest(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, body: GuestCreate, settings: Settings
) -> GuestInvitation:
    """Invite an interpreter or companion: a single-use link for them (e-mailed when an address is given)."""
    async with conn.transaction():
        appointment = await appointment_for_staff(conn, user, appointment_id, lock=True)
        if appointment.status not in ACTIVE_STATUSES:
            raise AppointmentClosed()
        found, _ = await _add_guest(conn, user, appointment, body, settings)
        await audit.record(
            conn,
            user.actor(),
            "clinic.guest.invite",
            "appointment",
            appointment_id,
            subject_email=appointment.employee_email,
        )
    return found


async def mark_dna(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, settings: Settings
) -> AppointmentRead:
    """Did not attend: referral -> DNA, everyone's place closed, the manager told the same day."""
    async with conn.transaction():
        appointment = await appointment_for_staff(conn, user, appointment_id, lock=True)
        if appointment.status != "booked":
            raise ClinicConflict(
                "Only a booked appointment that has not started can be marked as not attended."
            )
        if utc_now() < appointment.starts_at:
            raise ClinicConflict("An appointment can be marked as not attended only once its time has come.")
        await referral_service.transition(
            conn, user, appointment.referral_id, TransitionRequest(action="mark_dna")
        )
        await queries.set_dna(conn, appointment_id)
        for p in await queries.list_participants(conn, [appointment_id]):
            await events.participant_changed(conn, await queries.set_state(conn, p.id, "dna"))
        await queries.insert_call_event(conn, appointment_id, None, user.id, "dna", {})
        await invitations.notify_manager_dna(conn, appointment)
        await audit.record(
            conn,
            user.actor(),
            "clinic.appointment.dna",
            "appointment",
            appointment_id,
            subject_email=appointment.employee_email,
        )
        return await _appointment_read(conn, await _reload_appointment(conn, appointment_id), settings)


async def start_consultation(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, settings: Settings
) -> AppointmentRead:
    """The clinician records the employee's consent to assessment: referral BOOKED -> IN_CONSULTATION."""
    async with conn.transaction():
        appointment = await appointment_for_staff(conn, user, appointment_id, lock=True)
        if appointment.status not in ACTIVE_STATUSES:
            raise AppointmentClosed()
        request = TransitionRequest(action="start", consent_to_assessment=True)
        await referral_service.transition(conn, user, appointment.referral_id, request)
        await queries.insert_call_event(
            conn, appointment_id, None, user.id, "started", {"consent_to_assessment": True}
        )
        await audit.record(
            conn,
            user.actor(),
            "clinic.consultation.start",
            "appointment",
            appointment_id,
            subject_email=appointment.employee_email,
        )
        return await _appointment_read(conn, appointment, settings)
