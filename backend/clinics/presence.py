"""Waiting-room use-cases: taking and leaving a place, arriving, admitting, holding, ending,
messaging, relaying signalling and recording call quality.

Each function owns its transaction, writes the call activity log (and audit rows for joins and
admissions) in it, and publishes the room event in it, so other processes hear of a change only
once it is committed. Presence and places live in clinic_participant, so a process restart loses
nobody's place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from backend.audit import service as audit
from backend.audit.schemas import Actor, AuditSubject, NoSubject, Subject
from backend.auth.schemas import Role
from backend.booking import service as booking_service
from backend.clinics import events, queries, room_queries
from backend.clinics.errors import (
    AppointmentClosed,
    ClinicConflict,
    ConsentRequired,
    ParticipantNotFound,
    RoomNotOpen,
)
from backend.clinics.invitations import UK
from backend.clinics.joining import Caller, opens_at
from backend.clinics.schemas import (
    ACTIVE_STATUSES,
    AppointmentRow,
    ParticipantKind,
    ParticipantRow,
    SessionRow,
)
from backend.clinics.verdict import summarise_quality
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.referrals import service as referral_service


@dataclass(frozen=True)
class Seat:
    """An authorised place in one room, held by one socket."""

    participant_id: UUID
    session_id: UUID
    appointment_id: UUID | None  # None for the clinician, whose call is the session's active appointment
    kind: ParticipantKind
    actor: Actor | None
    connection_id: UUID
    gen: int


async def locate(
    conn: asyncpg.Connection,
    caller: Caller,
    *,
    clinic: UUID | None,
    appointment: UUID | None,
    settings: Settings,
) -> ParticipantRow:
    """The caller's place in the room they asked for; ParticipantNotFound when they have none."""
    if clinic is not None:
        session = await queries.get_session(conn, clinic)
        user = caller.user
        if (
            session is None
            or user is None
            or user.role != Role.clinician
            or session.clinician_id != user.id
            or session.cancelled_at is not None
        ):
            raise ParticipantNotFound("You are not running this clinic.")
        return await queries.ensure_clinician(conn, clinic, user.id, user.full_name or user.email)
    found: ParticipantRow | None = None
    if appointment is not None and caller.guest is not None and caller.guest.appointment_id == appointment:
        found = caller.guest
    elif appointment is not None and caller.user is not None and caller.user.role == Role.employee:
        found = next(
            (
                p
                for p in await queries.employee_participants(conn, caller.user.id)
                if p.appointment_id == appointment
            ),
            None,
        )
    booked = await queries.get_appointment(conn, appointment) if found and appointment else None
    if found is None or booked is None:
        raise ParticipantNotFound("You are not invited to this appointment.")
    _check_open(booked, settings)
    return found


def _check_open(appointment: AppointmentRow, settings: Settings) -> None:
    if appointment.status not in ACTIVE_STATUSES:
        raise AppointmentClosed("This appointment has ended.")
    opening = opens_at(appointment.starts_at, settings)
    if utc_now() < opening:
        raise RoomNotOpen(f"The waiting room opens at {opening.astimezone(UK):%H:%M}.")


async def _room_subject(conn: asyncpg.Connection, row: ParticipantRow) -> AuditSubject:
    """Whom joining a room is about: the employee of an appointment (whoever joins it), else the
    person joining a clinic session."""
    if row.appointment_id is not None:
        for _id, subject in await booking_service.appointment_subjects(conn, [row.appointment_id]):
            return subject
    return Subject(user_id=row.user_id) if row.user_id else NoSubject


async def take_seat(
    conn: asyncpg.Connection,
    participant: ParticipantRow,
    caller: Caller,
    *,
    connection_id: UUID,
    resume: int | None,
    process_id: UUID,
) -> tuple[Seat, bool]:
    """Hold the participant's place with this socket (recorded as held by this process);
    resuming keeps the call generation."""
    async with conn.transaction():
        current = await queries.get_participant(conn, participant.id, lock=True)
        if current is None:
            raise ParticipantNotFound()
        resumed = resume is not None and resume == current.gen and current.gen > 0
        row = await queries.connect(
            conn, current.id, connection_id, current.gen if resumed else current.gen + 1
        )
        if row.kind != "clinician" and row.state in ("not_arrived", "left"):
            row = await queries.set_state(conn, row.id, "testing")
        elif row.kind == "clinician" and row.state == "left":  # back at the clinic
            row = await queries.set_state(conn, row.id, "waiting")
        await room_queries.open_connection(conn, connection_id, row.id, process_id=process_id, gen=row.gen)
        actor = caller.user.actor() if caller.user else None
        call = row.appointment_id or await _active(conn, row.session_id)
        if call is not None:
            await queries.insert_call_event(
                conn,
                call,
                row.id,
                actor.id if actor else None,
                "reconnected" if resumed else "joined",
                {"gen": row.gen},
            )
        await audit.record(
            conn,
            actor,
            "clinic.room.join",
            "appointment" if row.appointment_id else "clinic_session",
            row.appointment_id or row.session_id,
            subject=await _room_subject(conn, row),
        )
        await events.participant_changed(conn, row, call)
    seat = Seat(row.id, row.session_id, row.appointment_id, row.kind, actor, connection_id, row.gen)
    return seat, resumed


async def _active(conn: asyncpg.Connection, session_id: UUID) -> UUID | None:
    session = await queries.get_session(conn, session_id)
    return session.active_appointment_id if session else None


async def current_call(conn: asyncpg.Connection, seat: Seat, state: str | None = None) -> UUID | None:
    """The appointment whose call this seat is in now, if any (none after leaving)."""
    if state is None:
        row = await queries.get_participant(conn, seat.participant_id)
        state = row.state if row else None
    if seat.kind == "clinician":
        return None if state == "left" else await _active(conn, seat.session_id)
    return seat.appointment_id if state == "in_call" else None


async def leave_seat(conn: asyncpg.Connection, seat: Seat, reason: str) -> None:
    """The socket has gone; the place (and any call membership) is kept for a reconnect."""
    async with conn.transaction():
        await room_queries.close_connection(conn, seat.connection_id, reason)
        row = await queries.disconnect(conn, seat.participant_id, seat.connection_id)
        if row is None:  # replaced by a newer socket meanwhile
            return
        call = row.appointment_id or await _active(conn, row.session_id)
        if call is not None and row.state != "left":  # an announced leave is logged already
            await queries.insert_call_event(conn, call, row.id, None, "left", {"reason": reason})
        await events.participant_changed(conn, row, call)


async def leave(conn: asyncpg.Connection, seat: Seat) -> None:
    """The person leaves on purpose (the call, the waiting room, or the nurse the clinic): the place
    becomes ``left``, the activity log says so, and the call's other members are told that they
    left rather than that they are reconnecting. Coming back means waiting to be admitted again."""
    async with conn.transaction():
        row = await _own(conn, seat)
        if row.state in ("left", "done", "dna"):
            return
        call = await current_call(conn, seat, row.state)
        updated = await queries.set_state(conn, row.id, "left")
        logged = call or row.appointment_id
        if logged is not None:
            where = "call" if call else "waiting room"
            await queries.insert_call_event(
                conn,
                logged,
                row.id,
                seat.actor.id if seat.actor else None,
                "left",
                {"reason": f"left the {where}", "gen": seat.gen},
            )
        await events.participant_changed(conn, updated, call)


async def _set(
    conn: asyncpg.Connection,
    row: ParticipantRow,
    state: str,
    kind: str | None = None,
    actor: Actor | None = None,
    detail: dict[str, Any] | None = None,
) -> ParticipantRow:
    updated = await queries.set_state(conn, row.id, state)
    if kind is not None and row.appointment_id is not None:
        await queries.insert_call_event(
            conn, row.appointment_id, row.id, actor.id if actor else None, kind, detail or {}
        )
    await events.participant_changed(conn, updated)
    return updated


async def testing(conn: asyncpg.Connection, seat: Seat) -> None:
    async with conn.transaction():
        row = await _own(conn, seat)
        if row.state in ("not_arrived", "left", "waiting"):
            await _set(conn, row, "testing", "testing", seat.actor)


async def ready(conn: asyncpg.Connection, seat: Seat) -> None:
    """Into the waiting room (the employee must have agreed to a video assessment)."""
    async with conn.transaction():
        row = await _own(conn, seat)
        if row.kind == "employee" and row.appointment_id is not None:
            appointment = await queries.get_appointment(conn, row.appointment_id)
            if appointment is None or appointment.video_consent_at is None:
                raise ConsentRequired("Please agree to the video assessment first.")
        if row.state in ("not_arrived", "left", "testing"):
            await _set(conn, row, "waiting", "arrived", seat.actor)


async def save_verdict(conn: asyncpg.Connection, seat: Seat, verdict: dict[str, Any]) -> None:
    async with conn.transaction():
        row = await _own(conn, seat)
        await queries.set_verdict(conn, row.id, verdict)
        if row.appointment_id is not None:
            await queries.insert_call_event(
                conn,
                row.appointment_id,
                row.id,
                None,
                "precall",
                {"level": verdict.get("level"), "audio_only": verdict.get("audio_only")},
            )
        await events.participant_changed(conn, row)


async def _own(conn: asyncpg.Connection, seat: Seat) -> ParticipantRow:
    row = await queries.get_participant(conn, seat.participant_id, lock=True)
    if row is None:
        raise ParticipantNotFound()
    return row


async def _target(
    conn: asyncpg.Connection, seat: Seat, participant_id: UUID
) -> tuple[ParticipantRow, SessionRow]:
    """Someone in the clinician's own room (locked), and the session (locked)."""
    session = await queries.get_session(conn, seat.session_id, lock=True)
    row = await queries.get_participant(conn, participant_id, lock=True)
    if session is None or row is None or row.session_id != seat.session_id or row.kind == "clinician":
        raise ParticipantNotFound("That person is not in your waiting room.")
    return row, session


async def admit(conn: asyncpg.Connection, seat: Seat, participant_id: UUID) -> None:
    """Bring a waiting (or held) person into the clinician's call."""
    async with conn.transaction():
        row, session = await _target(conn, seat, participant_id)
        if row.state not in ("waiting", "held", "testing"):
            raise ClinicConflict(f"{row.display_name or 'This person'} is not in the waiting room.")
        appointment_id = row.appointment_id
        if appointment_id is None:
            raise ParticipantNotFound()
        active = session.active_appointment_id
        if (
            active is not None
            and active != appointment_id
            and any(m.kind != "clinician" for m in await queries.call_members(conn, active))
        ):
            raise ClinicConflict("You are in a call with someone else: end it or put them on hold first.")
        appointment = await queries.get_appointment(conn, appointment_id)
        if appointment is None or appointment.status not in ACTIVE_STATUSES:
            raise AppointmentClosed()
        await queries.set_active_appointment(conn, seat.session_id, appointment_id)
        if row.kind == "employee":
            await queries.set_admitted(conn, appointment_id)
            if appointment.first_admitted_at is None and appointment.referral_id is not None:
                await referral_service.record_call(
                    conn, appointment.referral_id, actor=seat.actor, event="call_started",
                    detail={"appointment_id": str(appointment_id)},
                )  # fmt: skip
        await _set(conn, row, "in_call", "admitted", seat.actor)
        await audit.record(
            conn,
            seat.actor,
            "clinic.admit",
            "appointment",
            appointment_id,
            subject_user_id=row.user_id,
            subject_email=appointment.employee_email,
        )
        clinician = await queries.get_participant(conn, seat.participant_id)
        if clinician is not None:
            await events.participant_changed(conn, clinician, appointment_id)


async def hold(conn: asyncpg.Connection, seat: Seat, participant_id: UUID) -> None:
    """Back to the waiting room, keeping the appointment open."""
    async with conn.transaction():
        row, _ = await _target(conn, seat, participant_id)
        if row.state != "in_call":
            raise ClinicConflict("Only someone in your call can be put on hold.")
        await _set(conn, row, "held", "held", seat.actor)


async def end(conn: asyncpg.Connection, seat: Seat, appointment_id: UUID) -> None:
    """Finish the appointment's call: everyone's place is closed and the clinician is free."""
    async with conn.transaction():
        session = await queries.get_session(conn, seat.session_id, lock=True)
        await room_queries.lock_call(conn, appointment_id)
        appointment = await queries.get_appointment(conn, appointment_id)
        if session is None or appointment is None or appointment.session_id != seat.session_id:
            raise ParticipantNotFound("That appointment is not in your clinic.")
        if appointment.status not in ACTIVE_STATUSES:
            raise AppointmentClosed()
        for row in await queries.list_participants(conn, [appointment_id]):
            if row.state not in ("done", "dna"):
                await _set(conn, row, "done")
        await queries.set_ended(conn, appointment_id)
        if session.active_appointment_id == appointment_id:
            await queries.set_active_appointment(conn, seat.session_id, None)
        started = appointment.first_admitted_at
        minutes = round((utc_now() - started).total_seconds() / 60, 1) if started else None
        if started is not None and appointment.referral_id is not None:
            await referral_service.record_call(
                conn, appointment.referral_id, actor=seat.actor, event="call_ended",
                detail={"appointment_id": str(appointment_id), "minutes": minutes},
            )  # fmt: skip
        await queries.insert_call_event(
            conn,
            appointment_id,
            seat.participant_id,
            seat.actor.id if seat.actor else None,
            "ended",
            {"minutes": minutes},
        )
        await audit.record(
            conn,
            seat.actor,
            "clinic.end",
            "appointment",
            appointment_id,
            subject_email=appointment.employee_email,
        )
        clinician = await queries.get_participant(conn, seat.participant_id)
        if clinician is not None:
            await events.participant_changed(conn, clinician, appointment_id)


async def message(conn: asyncpg.Connection, seat: Seat, to: UUID, text: str) -> None:
    async with conn.transaction():
        row, _ = await _target(conn, seat, to)
        if row.appointment_id is None:
            raise ParticipantNotFound()
        event_id = await queries.insert_call_event(
            conn, row.appointment_id, row.id, seat.actor.id if seat.actor else None, "message", {"text": text}
        )
        await events.message(conn, seat.session_id, event_id, row.id)


async def relay(conn: asyncpg.Connection, seat: Seat, to: UUID, body: dict[str, Any]) -> None:
    """Pass signalling to another member of the sender's call; nobody else may send or receive it."""
    async with conn.transaction():
        call = await current_call(conn, seat)
        members_rows = await queries.call_members(conn, call) if call else []
        members = {m.id for m in members_rows}
        if (
            call is None
            or seat.participant_id not in members
            or to not in members
            or to == seat.participant_id
        ):
            raise ParticipantNotFound("You can only signal to someone in your own call.")
        target_gen = next(m.gen for m in members_rows if m.id == to)
        signal_id = await queries.insert_signal(
            conn, call, seat.participant_id, to, seat.gen, body, target_gen=target_gen
        )
        await events.signal(conn, seat.session_id, signal_id, to)


async def quality(conn: asyncpg.Connection, seat: Seat, sample: dict[str, Any]) -> None:
    """Fold a quality sample into the consultation's record; log and announce changes of level."""
    async with conn.transaction():
        call = await current_call(conn, seat)
        if call is None:
            return
        await room_queries.lock_call(conn, call)
        appointment = await queries.get_appointment(conn, call)
        if appointment is None:
            return
        record = dict(appointment.quality)
        key = seat.kind if seat.kind != "guest" else f"guest:{seat.participant_id}"
        record[key], changed = summarise_quality(record.get(key, {}), sample)
        await queries.set_quality(conn, call, record)
        if changed:
            await queries.insert_call_event(
                conn,
                call,
                seat.participant_id,
                None,
                "quality",
                {"level": sample["level"], "audio_only": sample.get("audio_only")},
            )
            await events.quality(
                conn,
                seat.session_id,
                {
                    "p": str(seat.participant_id),
                    "a": str(call),
                    "level": sample["level"],
                    "audio_only": bool(sample.get("audio_only")),
                },
            )
