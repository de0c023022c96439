"""The room's use-cases over HTTP: the start of a consultation and the call activity log; and the
booking steps the clinician takes from the room (DNA, a guest), which booking performs and the
room then announces to everyone in it.

Clinics, slots, appointments and join links belong to ``backend.booking``; the room asks its
service. Each public function owns its transaction (or calls one that does).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from backend.audit import service as audit
from backend.auth.schemas import User
from backend.booking import service as booking_service
from backend.clinics import events, queries
from backend.clinics.errors import AppointmentClosed
from backend.clinics.schemas import (
    ACTIVE_STATUSES,
    AppointmentRead,
    CallEventRead,
    GuestCreate,
    GuestInvitation,
)
from backend.core.config import Settings
from backend.referrals import service as referral_service
from backend.referrals.schemas import TransitionRequest


async def activity(conn: asyncpg.Connection, user: User, appointment_id: UUID) -> list[CallEventRead]:
    async with conn.transaction():
        appointment = await booking_service.appointment_for_staff(conn, user, appointment_id)
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


async def invite_guest(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, body: GuestCreate, settings: Settings
) -> GuestInvitation:
    """Booking invites the guest; the room is told someone new may arrive."""
    found, guest = await booking_service.invite_guest(conn, user, appointment_id, body, settings)
    await events.participant_changed(conn, guest)
    return found


async def mark_dna(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, settings: Settings
) -> AppointmentRead:
    """Booking records the DNA; the room shows everyone's place as closed."""
    read = await booking_service.mark_dna(conn, user, appointment_id, settings)
    for p in await queries.list_participants(conn, [appointment_id]):
        await events.participant_changed(conn, p)
    return read


async def start_consultation(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, settings: Settings
) -> AppointmentRead:
    """The clinician records the employee's consent to assessment: referral BOOKED -> IN_CONSULTATION."""
    async with conn.transaction():
        appointment = await booking_service.appointment_for_staff(conn, user, appointment_id, lock=True)
        if appointment.status not in ACTIVE_STATUSES or appointment.referral_id is None:
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
        return await booking_service.appointment_read(conn, appointment, settings)
