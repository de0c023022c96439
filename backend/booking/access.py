"""What every booking use-case needs: who is OH staff, an appointment in the caller's scope, and
an appointment as staff see it. No transactions here; the callers own them."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from backend.audit import service as audit
from backend.auth.schemas import Role, User
from backend.booking import queries
from backend.booking.errors import (
    AppointmentNotFound,
    BookingForbidden,
)
from backend.booking.schemas import (
    AppointmentRead,
    AppointmentRow,
    ParticipantRead,
    ParticipantRow,
)
from backend.core.config import Settings

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


async def audit_appointment(
    conn: asyncpg.Connection, user: User, action: str, appointment: AppointmentRow
) -> None:
    await audit.record(
        conn,
        user.actor(),
        action,
        "appointment",
        appointment.id,
        subject_user_id=appointment.employee_user_id,
        subject_email=appointment.employee_email,
    )
