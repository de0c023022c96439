"""Every SQL statement touching clinic sessions, slots, appointments, participants, join links,
signalling rows and the call activity log. Values only ever travel as $n parameters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from backend.clinics.schemas import (
    AppointmentBrief,
    AppointmentRow,
    CallEventRow,
    LinkRow,
    PaceRow,
    ParticipantRow,
    RoomEntry,
    SessionRow,
    SlotRow,
)

M = TypeVar("M", bound=BaseModel)

_SESSION = """
s.id, s.provider_id, s.clinician_id, coalesce(nullif(u.full_name, ''), u.email) AS clinician_name,
s.session_date, s.starts_at, s.ends_at, s.modality, s.slot_minutes, s.location, s.active_appointment_id,
s.cancelled_at
"""
_APPOINTMENT = """
a.id, a.session_id, a.slot_id, a.referral_id, a.organisation_id, s.provider_id, s.clinician_id,
coalesce(nullif(u.full_name, ''), u.email) AS clinician_name, s.modality, sl.starts_at, sl.ends_at,
a.employee_email, a.employee_name, a.employee_birth_date, a.employee_phone, a.referrer_email, a.status,
a.identity_code_hash, a.video_consent_at, a.first_admitted_at, a.ended_at, a.quality
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
LOCK_CLINICIAN_DIARY = "SELECT pg_advisory_xact_lock(hashtext('clinic_diary:' || $1::uuid::text))"
SESSION_OVERLAPS = """
SELECT EXISTS (SELECT 1 FROM clinic_session WHERE clinician_id = $1 AND cancelled_at IS NULL
               AND tstzrange(starts_at, ends_at) && tstzrange($2, $3))
"""
INSERT_SESSION = """
INSERT INTO clinic_session (provider_id, clinician_id, session_date, starts_at, ends_at, modality,
                            slot_minutes, location, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
"""
INSERT_SLOTS = """
INSERT INTO clinic_slot (session_id, starts_at, ends_at)
SELECT $1, s, e FROM unnest($2::timestamptz[], $3::timestamptz[]) AS t(s, e)
"""
GET_SESSION = (
    f"SELECT {_SESSION} FROM clinic_session s JOIN app_user u ON u.id = s.clinician_id WHERE s.id = $1"
)
LOCK_SESSION = GET_SESSION + " FOR UPDATE OF s"
LIST_SESSIONS = f"""
SELECT {_SESSION} FROM clinic_session s JOIN app_user u ON u.id = s.clinician_id
WHERE s.provider_id = $1 AND s.session_date = $2 AND s.cancelled_at IS NULL
  AND ($3::uuid IS NULL OR s.clinician_id = $3)
ORDER BY s.starts_at, s.id
"""
LIST_SLOTS = """
SELECT sl.id, sl.session_id, sl.starts_at, sl.ends_at, a.id AS appointment_id, a.referral_id, a.employee_name,
       a.status
FROM clinic_slot sl
LEFT JOIN appointment a ON a.slot_id = sl.id AND a.status IN ('booked', 'in_progress', 'completed', 'dna')
WHERE sl.session_id = ANY($1::uuid[])
ORDER BY sl.starts_at, a.booked_at DESC NULLS LAST
"""
LOCK_SLOT = "SELECT id, session_id, starts_at, ends_at FROM clinic_slot WHERE id = $1 FOR UPDATE"
SET_ACTIVE_APPOINTMENT = "UPDATE clinic_session SET active_appointment_id = $2 WHERE id = $1"

# --- appointments ---
INSERT_APPOINTMENT = """
INSERT INTO appointment (session_id, slot_id, referral_id, organisation_id, employee_email, employee_name,
                         employee_birth_date, employee_phone, referrer_email, identity_code_hash, booked_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id
"""
GET_APPOINTMENT = f"SELECT {_APPOINTMENT} {_APPOINTMENT_FROM} WHERE a.id = $1"
LOCK_APPOINTMENT = GET_APPOINTMENT + " FOR UPDATE OF a"
SET_IDENTITY_CODE = "UPDATE appointment SET identity_code_hash = $2 WHERE id = $1"
SET_VIDEO_CONSENT = (
    "UPDATE appointment SET video_consent_at = coalesce(video_consent_at, now()) WHERE id = $1"
)
SET_ADMITTED = """
UPDATE appointment SET first_admitted_at = coalesce(first_admitted_at, now()), status = 'in_progress'
WHERE id = $1
"""
SET_ENDED = "UPDATE appointment SET status = 'completed', ended_at = now() WHERE id = $1"
SET_DNA = "UPDATE appointment SET status = 'dna', dna_at = now() WHERE id = $1"
SET_QUALITY = "UPDATE appointment SET quality = $2 WHERE id = $1"
# Mean length of today's finished consultations of one clinician (admitted to ended).
PACE = """
SELECT count(*) AS completed,
       avg(extract(epoch FROM a.ended_at - a.first_admitted_at))::float8 AS mean_seconds
FROM appointment a JOIN clinic_session s ON s.id = a.session_id
WHERE s.clinician_id = $1 AND s.session_date = $2 AND a.status = 'completed'
  AND a.first_admitted_at IS NOT NULL AND a.ended_at IS NOT NULL
"""
DUE_REMINDERS = f"""
SELECT {_APPOINTMENT} {_APPOINTMENT_FROM}
WHERE a.status = 'booked' AND a.reminder_sent_at IS NULL
  AND sl.starts_at > now() AND sl.starts_at <= now() + $1
ORDER BY sl.starts_at LIMIT $2 FOR UPDATE OF a SKIP LOCKED
"""
MARK_REMINDED = "UPDATE appointment SET reminder_sent_at = now() WHERE id = $1"

# --- participants ---
INSERT_PARTICIPANT = f"""
INSERT INTO clinic_participant AS p (session_id, appointment_id, kind, user_id, display_name, guest_role,
                                     pass_hash, pass_expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {_PARTICIPANT}
"""
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

# --- join links ---
INSERT_LINK = "INSERT INTO clinic_join_link (token_hash, participant_id, expires_at) VALUES ($1, $2, $3)"
REVOKE_LINKS = """
UPDATE clinic_join_link SET revoked_at = now()
WHERE participant_id = $1 AND used_at IS NULL AND revoked_at IS NULL
"""
LOCK_LINK = """
SELECT id, participant_id, expires_at, used_at, revoked_at, failures FROM clinic_join_link
WHERE token_hash = $1 FOR UPDATE
"""
USE_LINK = "UPDATE clinic_join_link SET used_at = now() WHERE id = $1"
LINK_FAILURE = "UPDATE clinic_join_link SET failures = failures + 1 WHERE id = $1 RETURNING failures"

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


async def lock_clinician_diary(conn: asyncpg.Connection, clinician_id: UUID) -> None:
    await conn.execute(LOCK_CLINICIAN_DIARY, clinician_id)


async def session_overlaps(
    conn: asyncpg.Connection, clinician_id: UUID, start: datetime, end: datetime
) -> bool:
    return bool(await conn.fetchval(SESSION_OVERLAPS, clinician_id, start, end))


async def insert_session(conn: asyncpg.Connection, **f: Any) -> UUID:
    session_id: UUID = await conn.fetchval(
        INSERT_SESSION,
        f["provider_id"],
        f["clinician_id"],
        f["session_date"],
        f["starts_at"],
        f["ends_at"],
        f["modality"],
        f["slot_minutes"],
        f["location"],
        f["created_by"],
    )
    return session_id


async def insert_slots(
    conn: asyncpg.Connection, session_id: UUID, starts: list[datetime], ends: list[datetime]
) -> None:
    await conn.execute(INSERT_SLOTS, session_id, starts, ends)


async def get_session(conn: asyncpg.Connection, session_id: UUID, *, lock: bool = False) -> SessionRow | None:
    return _one(SessionRow, await conn.fetchrow(LOCK_SESSION if lock else GET_SESSION, session_id))


async def list_sessions(
    conn: asyncpg.Connection, provider_id: UUID, day: date, clinician_id: UUID | None
) -> list[SessionRow]:
    return _all(SessionRow, await conn.fetch(LIST_SESSIONS, provider_id, day, clinician_id))


APPOINTMENT_SUBJECTS = """
SELECT a.id, r.employee_user_id, a.employee_email
FROM appointment a LEFT JOIN referral r ON r.id = a.referral_id
WHERE a.id = ANY($1::uuid[])
ORDER BY a.id
"""


async def appointment_subjects(
    conn: asyncpg.Connection, appointment_ids: list[UUID]
) -> list[tuple[UUID, UUID | None, str]]:
    """Whom each appointment is about (account, e-mail): what a list read's audit rows name."""
    rows = await conn.fetch(APPOINTMENT_SUBJECTS, appointment_ids) if appointment_ids else []
    return [(r["id"], r["employee_user_id"], r["employee_email"]) for r in rows]


async def list_slots(
    conn: asyncpg.Connection, session_ids: list[UUID]
) -> list[tuple[SlotRow, AppointmentBrief | None]]:
    found: list[tuple[SlotRow, AppointmentBrief | None]] = []
    seen: set[UUID] = set()
    for r in await conn.fetch(LIST_SLOTS, session_ids):
        if r["id"] in seen:  # a rebooked slot: the newest appointment is listed
            continue
        seen.add(r["id"])
        slot = SlotRow(id=r["id"], session_id=r["session_id"], starts_at=r["starts_at"], ends_at=r["ends_at"])
        brief = None
        if r["appointment_id"] is not None:
            brief = AppointmentBrief(
                id=r["appointment_id"],
                referral_id=r["referral_id"],
                employee_name=r["employee_name"],
                status=r["status"],
            )
        found.append((slot, brief))
    return found


async def lock_slot(conn: asyncpg.Connection, slot_id: UUID) -> SlotRow | None:
    return _one(SlotRow, await conn.fetchrow(LOCK_SLOT, slot_id))


async def set_active_appointment(
    conn: asyncpg.Connection, session_id: UUID, appointment_id: UUID | None
) -> None:
    await conn.execute(SET_ACTIVE_APPOINTMENT, session_id, appointment_id)


async def insert_appointment(conn: asyncpg.Connection, **f: Any) -> UUID:
    appointment_id: UUID = await conn.fetchval(
        INSERT_APPOINTMENT,
        f["session_id"],
        f["slot_id"],
        f["referral_id"],
        f["organisation_id"],
        f["employee_email"],
        f["employee_name"],
        f["employee_birth_date"],
        f["employee_phone"],
        f["referrer_email"],
        f["identity_code_hash"],
        f["booked_by"],
    )
    return appointment_id


async def get_appointment(
    conn: asyncpg.Connection, appointment_id: UUID, *, lock: bool = False
) -> AppointmentRow | None:
    return _one(
        AppointmentRow, await conn.fetchrow(LOCK_APPOINTMENT if lock else GET_APPOINTMENT, appointment_id)
    )


async def set_identity_code(conn: asyncpg.Connection, appointment_id: UUID, code_hash: bytes) -> None:
    await conn.execute(SET_IDENTITY_CODE, appointment_id, code_hash)


async def set_video_consent(conn: asyncpg.Connection, appointment_id: UUID) -> None:
    await conn.execute(SET_VIDEO_CONSENT, appointment_id)


async def set_admitted(conn: asyncpg.Connection, appointment_id: UUID) -> None:
    await conn.execute(SET_ADMITTED, appointment_id)


async def set_ended(conn: asyncpg.Connection, appointment_id: UUID) -> None:
    await conn.execute(SET_ENDED, appointment_id)


async def set_dna(conn: asyncpg.Connection, appointment_id: UUID) -> None:
    await conn.execute(SET_DNA, appointment_id)


async def set_quality(conn: asyncpg.Connection, appointment_id: UUID, quality: dict[str, Any]) -> None:
    await conn.execute(SET_QUALITY, appointment_id, quality)


async def pace(conn: asyncpg.Connection, clinician_id: UUID, day: date) -> PaceRow:
    row = await conn.fetchrow(PACE, clinician_id, day)
    return PaceRow(
        completed=int(row["completed"]) if row else 0, mean_seconds=row["mean_seconds"] if row else None
    )


async def due_reminders(conn: asyncpg.Connection, within: timedelta, limit: int) -> list[AppointmentRow]:
    return _all(AppointmentRow, await conn.fetch(DUE_REMINDERS, within, limit))


async def mark_reminded(conn: asyncpg.Connection, appointment_id: UUID) -> None:
    await conn.execute(MARK_REMINDED, appointment_id)


async def insert_participant(conn: asyncpg.Connection, **f: Any) -> ParticipantRow:
    row = await conn.fetchrow(
        INSERT_PARTICIPANT,
        f["session_id"],
        f["appointment_id"],
        f["kind"],
        f.get("user_id"),
        f["display_name"],
        f.get("guest_role"),
        f.get("pass_hash"),
        f.get("pass_expires_at"),
    )
    found = _one(ParticipantRow, row)
    if found is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    return found


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


async def insert_link(
    conn: asyncpg.Connection, token_hash: bytes, participant_id: UUID, expires_at: datetime
) -> None:
    await conn.execute(INSERT_LINK, token_hash, participant_id, expires_at)


async def revoke_links(conn: asyncpg.Connection, participant_id: UUID) -> None:
    await conn.execute(REVOKE_LINKS, participant_id)


async def lock_link(conn: asyncpg.Connection, token_hash: bytes) -> LinkRow | None:
    return _one(LinkRow, await conn.fetchrow(LOCK_LINK, token_hash))


async def use_link(conn: asyncpg.Connection, link_id: UUID) -> None:
    await conn.execute(USE_LINK, link_id)


async def link_failure(conn: asyncpg.Connection, link_id: UUID) -> int:
    return int(await conn.fetchval(LINK_FAILURE, link_id))


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
