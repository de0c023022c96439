"""The virtual room's SQL: what it reads of clinics and appointments (planned and booked by
``backend.booking``), presence of participants, admission and the end of calls, signalling rows
and the call activity log. Values only ever travel as $n parameters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from backend.clinics.schemas import (
    AppointmentRow,
    CallEventRow,
    PaceRow,
    ParticipantRow,
    RoomEntry,
    SessionRow,
)

M = TypeVar("M", bound=BaseModel)

_SESSION = """
s.id, s.provider_id, s.clinician_id, coalesce(nullif(u.full_name, ''), u.email) AS clinician_name,
s.session_date, s.starts_at, s.ends_at, s.kind, s.slot_minutes, s.location, s.employer_id,
s.active_appointment_id, s.cancelled_at
"""
_APPOINTMENT = """
a.id, a.session_id, a.slot_id, a.referral_id, a.enrolment_id, a.organisation_id, s.provider_id,
s.clinician_id, coalesce(nullif(u.full_name, ''), u.email) AS clinician_name, s.kind, s.location,
sl.starts_at, sl.ends_at,
a.employee_email, a.employee_name, a.employee_user_id, a.employee_birth_date, a.employee_phone,
a.referrer_email, a.status, a.sequence, a.identity_code_hash, a.video_consent_at, a.first_admitted_at,
a.ended_at, a.quality
"""
_APPOINTMENT_FROM = """
FROM appointment a JOIN clinic_slot sl ON sl.id = a.slot_id JOIN clinic_session s ON s.id = a.session_id
JOIN app_user u ON u.id = s.clinician_id
"""
_PARTICIPANT = """
p.id, p.session_id, p.appointment_id, p.kind, p.user_id, p.display_name, p.guest_role, p.state, p.arrived_at,
p.waiting_since, p.state_changed_at, p.connection_id, p.last_seen_at, p.gen, p.verdict, p.pass_expires_at
"""

# --- sessions and slots ---
GET_SESSION = (
    f"SELECT {_SESSION} FROM clinic_session s JOIN app_user u ON u.id = s.clinician_id WHERE s.id = $1"
)
LOCK_SESSION = GET_SESSION + " FOR UPDATE OF s"
SET_ACTIVE_APPOINTMENT = "UPDATE clinic_session SET active_appointment_id = $2 WHERE id = $1"

# --- appointments ---
GET_APPOINTMENT = f"SELECT {_APPOINTMENT} {_APPOINTMENT_FROM} WHERE a.id = $1"
LOCK_APPOINTMENT = GET_APPOINTMENT + " FOR UPDATE OF a"
SET_VIDEO_CONSENT = (
    "UPDATE appointment SET video_consent_at = coalesce(video_consent_at, now()) WHERE id = $1"
)
SET_ADMITTED = """
UPDATE appointment SET first_admitted_at = coalesce(first_admitted_at, now()), status = 'in_progress'
WHERE id = $1
"""
SET_ENDED = "UPDATE appointment SET status = 'completed', ended_at = now() WHERE id = $1"
SET_QUALITY = "UPDATE appointment SET quality = $2 WHERE id = $1"
# Mean length of today's finished consultations of one clinician (admitted to ended).
PACE = """
SELECT count(*) AS completed,
       avg(extract(epoch FROM a.ended_at - a.first_admitted_at))::float8 AS mean_seconds
FROM appointment a JOIN clinic_session s ON s.id = a.session_id
WHERE s.clinician_id = $1 AND s.session_date = $2 AND a.status = 'completed'
  AND a.first_admitted_at IS NOT NULL AND a.ended_at IS NOT NULL
"""

# --- participants ---
ENSURE_CLINICIAN = f"""
INSERT INTO clinic_participant AS p (session_id, kind, user_id, display_name, state)
VALUES ($1, 'clinician', $2, $3, 'waiting')
ON CONFLICT (session_id, user_id) WHERE kind = 'clinician' DO UPDATE SET display_name = EXCLUDED.display_name
RETURNING {_PARTICIPANT}
"""
GET_PARTICIPANT = f"SELECT {_PARTICIPANT} FROM clinic_participant p WHERE p.id = $1"
# NO KEY UPDATE: exclusive among lockers, yet rows that merely reference the participant (the
# activity log, signalling, the socket ledger) can still be inserted meanwhile, so the room's
# use-cases never deadlock on those foreign-key checks.
LOCK_PARTICIPANT = GET_PARTICIPANT + " FOR NO KEY UPDATE"
LIST_PARTICIPANTS = f"""
SELECT {_PARTICIPANT} FROM clinic_participant p WHERE p.appointment_id = ANY($1::uuid[])
ORDER BY p.kind = 'guest', p.created_at, p.id
"""
LIST_ROOM = f"""
SELECT {_PARTICIPANT} FROM clinic_participant p WHERE p.session_id = $1 AND p.kind <> 'clinician'
ORDER BY p.created_at, p.id
"""
PARTICIPANT_BY_PASS = f"""
SELECT {_PARTICIPANT} FROM clinic_participant p WHERE p.pass_hash = $1 AND p.pass_expires_at > now()
"""
EMPLOYEE_PARTICIPANTS = f"""
SELECT {_PARTICIPANT} FROM clinic_participant p WHERE p.user_id = $1 AND p.kind = 'employee'
ORDER BY p.created_at DESC LIMIT 50
"""
SET_USER = "UPDATE clinic_participant SET user_id = $2 WHERE id = $1"
SET_DISPLAY_NAME = "UPDATE clinic_participant SET display_name = $2 WHERE id = $1"
SET_PASS = "UPDATE clinic_participant SET pass_hash = $2, pass_expires_at = $3 WHERE id = $1"
SET_VERDICT = "UPDATE clinic_participant SET verdict = $2 WHERE id = $1"
# A place in the queue (waiting_since) is kept through disconnections and re-tests; it is given up
# only on admission or when the appointment is over.
SET_STATE = f"""
UPDATE clinic_participant p SET
    state = $2,
    state_changed_at = CASE WHEN p.state <> $2 THEN now() ELSE p.state_changed_at END,
    arrived_at = CASE WHEN $2 IN ('testing', 'waiting') THEN coalesce(p.arrived_at, now())
                      ELSE p.arrived_at END,
    waiting_since = CASE WHEN $2 = 'waiting' THEN coalesce(p.waiting_since, now())
                         WHEN $2 IN ('in_call', 'done', 'dna', 'left') THEN NULL ELSE p.waiting_since END
WHERE p.id = $1 RETURNING {_PARTICIPANT}
"""
CONNECT = f"""
UPDATE clinic_participant p SET connection_id = $2, gen = $3, last_seen_at = now()
WHERE p.id = $1 RETURNING {_PARTICIPANT}
"""
DISCONNECT = f"""
UPDATE clinic_participant p SET connection_id = NULL
WHERE p.id = $1 AND p.connection_id = $2 RETURNING {_PARTICIPANT}
"""
TOUCH = "UPDATE clinic_participant SET last_seen_at = now() WHERE connection_id = ANY($1::uuid[])"
SWEEP_STALE = f"""
UPDATE clinic_participant p SET connection_id = NULL
WHERE p.connection_id IS NOT NULL AND p.last_seen_at < now() - $1::interval RETURNING {_PARTICIPANT}
"""
ROOM_ENTRIES = """
SELECT p.id AS participant, p.appointment_id AS appointment, a.referral_id AS referral, p.kind,
       p.display_name AS name, p.guest_role, sl.starts_at, a.status AS appointment_status, p.state,
       p.arrived_at, p.waiting_since, p.connection_id IS NOT NULL AS connected, p.verdict
FROM clinic_participant p JOIN appointment a ON a.id = p.appointment_id
JOIN clinic_slot sl ON sl.id = a.slot_id
WHERE p.session_id = $1 AND ($2::uuid IS NULL OR p.id = $2) AND a.status <> 'cancelled'
ORDER BY sl.starts_at, p.kind = 'guest', p.created_at, p.id
"""
# The waiting queue of a session: by appointment time, then by arrival.
QUEUE = """
SELECT p.id FROM clinic_participant p JOIN appointment a ON a.id = p.appointment_id
JOIN clinic_slot sl ON sl.id = a.slot_id
WHERE p.session_id = $1 AND p.kind = 'employee' AND p.state = 'waiting'
ORDER BY sl.starts_at, p.waiting_since, p.id
"""
# Members of an appointment's call: admitted employee and guests, and the clinician while the
# session's active appointment is this one (unless they have left the clinic).
CALL_MEMBERS = f"""
SELECT {_PARTICIPANT} FROM clinic_participant p
WHERE (p.appointment_id = $1 AND p.state = 'in_call')
   OR (p.kind = 'clinician' AND p.state <> 'left'
       AND p.session_id = (SELECT session_id FROM appointment WHERE id = $1)
       AND EXISTS (SELECT 1 FROM clinic_session s WHERE s.id = p.session_id AND s.active_appointment_id = $1))
ORDER BY p.kind = 'clinician' DESC, p.kind = 'guest', p.id
"""


# --- signalling and the activity log ---
INSERT_SIGNAL = """
INSERT INTO clinic_signal (appointment_id, from_participant, to_participant, from_gen, body, to_gen)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
"""
GET_SIGNAL = "SELECT from_participant, to_participant, from_gen, body FROM clinic_signal WHERE id = $1"
DELETE_OLD_SIGNALS = "DELETE FROM clinic_signal WHERE created_at < now() - $1::interval"
INSERT_CALL_EVENT = """
INSERT INTO call_event (appointment_id, participant_id, actor_id, kind, detail) VALUES ($1, $2, $3, $4, $5)
RETURNING id
"""
LIST_CALL_EVENTS = """
SELECT e.id, e.at, e.kind, e.participant_id, nullif(p.display_name, '') AS display_name, e.actor_id, e.detail
FROM call_event e LEFT JOIN clinic_participant p ON p.id = e.participant_id
WHERE e.appointment_id = $1 ORDER BY e.id
"""
GET_CALL_EVENT = LIST_CALL_EVENTS.replace("WHERE e.appointment_id = $1 ORDER BY e.id", "WHERE e.id = $1")


def _one(model: type[M], row: asyncpg.Record | None) -> M | None:
    return model.model_validate(dict(row)) if row is not None else None


def _all(model: type[M], rows: Sequence[asyncpg.Record]) -> list[M]:
    return [model.model_validate(dict(r)) for r in rows]


async def get_session(conn: asyncpg.Connection, session_id: UUID, *, lock: bool = False) -> SessionRow | None:
    return _one(SessionRow, await conn.fetchrow(LOCK_SESSION if lock else GET_SESSION, session_id))


async def set_active_appointment(
    conn: asyncpg.Connection, session_id: UUID, appointment_id: UUID | None
) -> None:
    await conn.execute(SET_ACTIVE_APPOINTMENT, session_id, appointment_id)


async def get_appointment(
    conn: asyncpg.Connection, appointment_id: UUID, *, lock: bool = False
) -> AppointmentRow | None:
    return _one(
        AppointmentRow, await conn.fetchrow(LOCK_APPOINTMENT if lock else GET_APPOINTMENT, appointment_id)
    )


async def set_video_consent(conn: asyncpg.Connection, appointment_id: UUID) -> None:
    await conn.execute(SET_VIDEO_CONSENT, appointment_id)


async def set_admitted(conn: asyncpg.Connection, appointment_id: UUID) -> None:
    await conn.execute(SET_ADMITTED, appointment_id)


async def set_ended(conn: asyncpg.Connection, appointment_id: UUID) -> None:
    await conn.execute(SET_ENDED, appointment_id)


async def set_quality(conn: asyncpg.Connection, appointment_id: UUID, quality: dict[str, Any]) -> None:
    await conn.execute(SET_QUALITY, appointment_id, quality)


async def pace(conn: asyncpg.Connection, clinician_id: UUID, day: date) -> PaceRow:
    row = await conn.fetchrow(PACE, clinician_id, day)
    return PaceRow(
        completed=int(row["completed"]) if row else 0, mean_seconds=row["mean_seconds"] if row else None
    )


async def ensure_clinician(
    conn: asyncpg.Connection, session_id: UUID, user_id: UUID, name: str
) -> ParticipantRow:
    found = _one(ParticipantRow, await conn.fetchrow(ENSURE_CLINICIAN, session_id, user_id, name))
    if found is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    return found


async def get_participant(
    conn: asyncpg.Connection, participant_id: UUID, *, lock: bool = False
) -> ParticipantRow | None:
    return _one(
        ParticipantRow, await conn.fetchrow(LOCK_PARTICIPANT if lock else GET_PARTICIPANT, participant_id)
    )


async def list_participants(conn: asyncpg.Connection, appointment_ids: list[UUID]) -> list[ParticipantRow]:
    return _all(ParticipantRow, await conn.fetch(LIST_PARTICIPANTS, appointment_ids))


async def list_room(conn: asyncpg.Connection, session_id: UUID) -> list[ParticipantRow]:
    return _all(ParticipantRow, await conn.fetch(LIST_ROOM, session_id))


async def participant_by_pass(conn: asyncpg.Connection, pass_hash: bytes) -> ParticipantRow | None:
    return _one(ParticipantRow, await conn.fetchrow(PARTICIPANT_BY_PASS, pass_hash))


async def employee_participants(conn: asyncpg.Connection, user_id: UUID) -> list[ParticipantRow]:
    return _all(ParticipantRow, await conn.fetch(EMPLOYEE_PARTICIPANTS, user_id))


async def set_user(conn: asyncpg.Connection, participant_id: UUID, user_id: UUID) -> None:
    await conn.execute(SET_USER, participant_id, user_id)


async def set_display_name(conn: asyncpg.Connection, participant_id: UUID, name: str) -> None:
    await conn.execute(SET_DISPLAY_NAME, participant_id, name)


async def set_pass(
    conn: asyncpg.Connection, participant_id: UUID, pass_hash: bytes, expires_at: datetime
) -> None:
    await conn.execute(SET_PASS, participant_id, pass_hash, expires_at)


async def set_verdict(conn: asyncpg.Connection, participant_id: UUID, verdict: dict[str, Any]) -> None:
    await conn.execute(SET_VERDICT, participant_id, verdict)


async def set_state(conn: asyncpg.Connection, participant_id: UUID, state: str) -> ParticipantRow:
    found = _one(ParticipantRow, await conn.fetchrow(SET_STATE, participant_id, state))
    if found is None:
        raise RuntimeError(f"participant {participant_id} vanished")
    return found


async def connect(
    conn: asyncpg.Connection, participant_id: UUID, connection_id: UUID, gen: int
) -> ParticipantRow:
    found = _one(ParticipantRow, await conn.fetchrow(CONNECT, participant_id, connection_id, gen))
    if found is None:
        raise RuntimeError(f"participant {participant_id} vanished")
    return found


async def disconnect(
    conn: asyncpg.Connection, participant_id: UUID, connection_id: UUID
) -> ParticipantRow | None:
    return _one(ParticipantRow, await conn.fetchrow(DISCONNECT, participant_id, connection_id))


async def touch(conn: asyncpg.Connection, connection_ids: list[UUID]) -> None:
    await conn.execute(TOUCH, connection_ids)


async def sweep_stale(conn: asyncpg.Connection, older_than: timedelta) -> list[ParticipantRow]:
    return _all(ParticipantRow, await conn.fetch(SWEEP_STALE, older_than))


async def room_entries(
    conn: asyncpg.Connection, session_id: UUID, participant_id: UUID | None = None
) -> list[RoomEntry]:
    return _all(RoomEntry, await conn.fetch(ROOM_ENTRIES, session_id, participant_id))


async def queue(conn: asyncpg.Connection, session_id: UUID) -> list[UUID]:
    return [r["id"] for r in await conn.fetch(QUEUE, session_id)]


async def call_members(conn: asyncpg.Connection, appointment_id: UUID) -> list[ParticipantRow]:
    return _all(ParticipantRow, await conn.fetch(CALL_MEMBERS, appointment_id))


async def insert_signal(
    conn: asyncpg.Connection,
    appointment_id: UUID,
    sender: UUID,
    target: UUID,
    gen: int,
    body: dict[str, Any],
    *,
    target_gen: int,
) -> int:
    signal_id: int = await conn.fetchval(INSERT_SIGNAL, appointment_id, sender, target, gen, body, target_gen)
    return signal_id


async def get_signal(
    conn: asyncpg.Connection, signal_id: int
) -> tuple[UUID, UUID, int, dict[str, Any]] | None:
    row = await conn.fetchrow(GET_SIGNAL, signal_id)
    if row is None:
        return None
    return row["from_participant"], row["to_participant"], row["from_gen"], row["body"]


async def delete_old_signals(conn: asyncpg.Connection, older_than: timedelta) -> None:
    await conn.execute(DELETE_OLD_SIGNALS, older_than)


async def insert_call_event(
    conn: asyncpg.Connection,
    appointment_id: UUID,
    participant_id: UUID | None,
    actor_id: UUID | None,
    kind: str,
    detail: dict[str, Any],
) -> int:
    event_id: int = await conn.fetchval(
        INSERT_CALL_EVENT, appointment_id, participant_id, actor_id, kind, detail
    )
    return event_id


async def list_call_events(conn: asyncpg.Connection, appointment_id: UUID) -> list[CallEventRow]:
    return _all(CallEventRow, await conn.fetch(LIST_CALL_EVENTS, appointment_id))


async def get_call_event(conn: asyncpg.Connection, event_id: int) -> CallEventRow | None:
    return _one(CallEventRow, await conn.fetchrow(GET_CALL_EVENT, event_id))
