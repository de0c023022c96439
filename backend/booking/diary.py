"""Planning clinics and reading the diary: clinics of any kind on any day, cut into slots, and a
week's view of them with free and booked slots. Provider admins (booking staff) plan anyone's
clinics; clinicians plan their own."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID

import asyncpg

from backend.audit import service as audit
from backend.audit.schemas import NoSubject
from backend.auth import service as auth_service
from backend.auth.schemas import Role, User
from backend.booking import queries
from backend.booking.calendar import UK
from backend.booking.errors import BookingForbidden, BookingInvalid, ClinicNotFound, ClinicOverlap
from backend.booking.schemas import Diary, PlanningChoices, SessionCreate, SessionRead, SessionRow, SlotRead
from backend.booking.service import appointment_subjects, require_staff
from backend.core.clock import utc_now

MAX_HOURS = 14


def today_uk() -> date:
    return utc_now().astimezone(UK).date()


def _problem(field: str, message: str) -> list[dict[str, str]]:
    return [{"field": field, "message": message, "type": "value"}]


def slot_times(body: SessionCreate) -> tuple[list[datetime], list[datetime]]:
    step = timedelta(minutes=body.slot_minutes)
    starts: list[datetime] = []
    at = body.starts_at
    while at + step <= body.ends_at:
        starts.append(at)
        at += step
    if not starts:
        raise BookingInvalid(
            "The clinic is shorter than one slot.", errors=_problem("slot_minutes", "longer than the clinic")
        )
    return starts, [s + step for s in starts]


def _check_shape(user: User, body: SessionCreate) -> UUID:
    """Whose clinic it is, after the checks that need no database."""
    if user.role == Role.provider_admin and body.clinician_id is None:
        raise BookingInvalid(
            "Name the clinician who runs this clinic.", errors=_problem("clinician_id", "required")
        )
    clinician_id = body.clinician_id or user.id
    if user.role == Role.clinician and clinician_id != user.id:
        raise BookingForbidden("Clinicians plan their own clinics; booking staff can plan anyone's.")
    if body.ends_at <= body.starts_at or body.ends_at - body.starts_at > timedelta(hours=MAX_HOURS):
        raise BookingInvalid(
            "A clinic ends after it starts and lasts at most 14 hours.",
            errors=_problem("ends_at", "after starts_at, within 14 hours"),
        )
    if body.ends_at <= utc_now():
        raise BookingInvalid("That clinic would already be over.", errors=_problem("ends_at", "in the past"))
    if body.kind in ("face_to_face", "on_site") and not body.location:
        raise BookingInvalid(
            "Give the address people should come to.", errors=_problem("location", "required")
        )
    if (body.kind == "on_site") != (body.employer_id is not None):
        raise BookingInvalid(
            "An on-site clinic names the client employer whose site it is at (and only an on-site clinic).",
            errors=_problem("employer_id", "required for on_site, not allowed otherwise"),
        )
    return clinician_id


async def _check_people(
    conn: asyncpg.Connection, user: User, body: SessionCreate, clinician_id: UUID
) -> None:
    clinician = await auth_service.get_user(conn, clinician_id)
    if (
        clinician is None
        or clinician.role != Role.clinician
        or clinician.organisation_id != user.organisation_id
    ):
        raise BookingInvalid(
            "No such clinician in your organisation.", errors=_problem("clinician_id", "unknown clinician")
        )
    if body.employer_id is not None:
        employer = await auth_service.get_organisation(conn, body.employer_id)
        if employer is None or employer.provider_id != user.organisation_id:
            raise BookingInvalid(
                "No such client employer.", errors=_problem("employer_id", "unknown employer")
            )


async def write_session(
    conn: asyncpg.Connection, user: User, body: SessionCreate, clinician_id: UUID
) -> UUID:
    """Store a clinic and its slots as given, checked by the caller (``plan_clinic``, demo data)."""
    starts, ends = slot_times(body)
    session_id = await queries.insert_session(
        conn,
        provider_id=user.organisation_id,
        clinician_id=clinician_id,
        session_date=body.starts_at.astimezone(UK).date(),
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        kind=body.kind,
        slot_minutes=body.slot_minutes,
        location=body.location,
        employer_id=body.employer_id,
        created_by=user.id,
    )
    await queries.insert_slots(conn, session_id, starts=starts, ends=ends)
    return session_id


async def plan_clinic(conn: asyncpg.Connection, user: User, body: SessionCreate) -> SessionRead:
    require_staff(user)
    clinician_id = _check_shape(user, body)
    slot_times(body)  # refuses a clinic shorter than one slot before anything is read
    async with conn.transaction():
        await _check_people(conn, user, body, clinician_id)
        await queries.lock_clinician_diary(conn, clinician_id)
        if await queries.session_overlaps(conn, clinician_id, start=body.starts_at, end=body.ends_at):
            raise ClinicOverlap("The clinician already has a clinic at that time.")
        session_id = await write_session(conn, user, body, clinician_id)
        await audit.record(
            conn, user.actor(), "booking.clinic.plan", "clinic_session", session_id, subject=NoSubject
        )
        session = await queries.get_session(conn, session_id)
        if session is None:
            raise RuntimeError(f"clinic {session_id} vanished inside its own transaction")
        return (await session_reads(conn, [session]))[0]


async def session_reads(conn: asyncpg.Connection, sessions: list[SessionRow]) -> list[SessionRead]:
    slots = await queries.list_slots(conn, [s.id for s in sessions]) if sessions else []
    return [
        SessionRead(
            **s.model_dump(exclude={"provider_id", "active_appointment_id", "cancelled_at"}),
            slots=[
                SlotRead(id=sl.id, starts_at=sl.starts_at, ends_at=sl.ends_at, appointment=brief)
                for sl, brief in slots
                if sl.session_id == s.id
            ],
        )
        for s in sessions
    ]


async def _audit_read(conn: asyncpg.Connection, user: User, action: str, shown: list[SessionRead]) -> None:
    """A read of clinics names each person booked into a slot it shows (one row each), else nobody."""
    booked = [slot.appointment.id for session in shown for slot in session.slots if slot.appointment]
    listed = await appointment_subjects(conn, booked)
    await audit.record_each(conn, user.actor(), action, "appointment", listed)


async def list_sessions(
    conn: asyncpg.Connection, user: User, *, day: date | None, clinician_id: UUID | None
) -> list[SessionRead]:
    """One day's clinics of the caller's provider (today, UK, by default)."""
    require_staff(user)
    wanted = day or today_uk()
    async with conn.transaction():
        sessions = await queries.list_sessions(
            conn, user.organisation_id, first=wanted, last=wanted, clinician_id=clinician_id
        )
        shown = await session_reads(conn, sessions)
        await _audit_read(conn, user, "booking.clinic.list", shown)
        return shown


async def get_session(conn: asyncpg.Connection, user: User, session_id: UUID) -> SessionRead:
    require_staff(user)
    async with conn.transaction():
        session = await queries.get_session(conn, session_id)
        if session is None or session.provider_id != user.organisation_id or session.cancelled_at is not None:
            raise ClinicNotFound()
        shown = await session_reads(conn, [session])
        await _audit_read(conn, user, "booking.clinic.read", shown)
        return shown[0]


async def week(
    conn: asyncpg.Connection, user: User, *, week_start: date | None, clinician_id: UUID | None
) -> Diary:
    """Monday to Sunday (the week holding ``week_start``, this week by default)."""
    require_staff(user)
    anchor = week_start or today_uk()
    monday = anchor - timedelta(days=anchor.weekday())
    days = [monday + timedelta(days=n) for n in range(7)]
    async with conn.transaction():
        sessions = await queries.list_sessions(
            conn, user.organisation_id, first=days[0], last=days[-1], clinician_id=clinician_id
        )
        shown = await session_reads(conn, sessions)
        await _audit_read(conn, user, "booking.diary.read", shown)
        return Diary(week_start=monday, days=days, sessions=shown)


async def choices(conn: asyncpg.Connection, user: User) -> PlanningChoices:
    """Who may run a clinic and which client employers' sites can host one (booking staff only)."""
    require_staff(user)
    async with conn.transaction():
        clinicians, employers = await queries.planning_choices(conn, user.organisation_id)
        await audit.record(
            conn, user.actor(), "booking.choices.read", "organisation", user.organisation_id,
            subject=NoSubject,
        )  # fmt: skip
    return PlanningChoices(clinicians=clinicians, employers=employers)
