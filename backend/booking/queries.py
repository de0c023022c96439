"""Every SQL statement of booking: clinics (clinic_session) and their slots, appointments, the
people who may join them (clinic_participant rows and their join links), reminders and offers.
Values only ever travel as $n parameters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from backend.booking.schemas import (
    AppointmentBrief,
    AppointmentRow,
    Choice,
    LinkRow,
    OfferRow,
    ParticipantRow,
    RecallRow,
    SessionRow,
    SlotRow,
)
from backend.core.listing import ListParams
from backend.db.sqlparams import SqlParams, like_pattern, order_by

M = TypeVar("M", bound=BaseModel)

_SESSION = """
s.id, s.provider_id, s.clinician_id, coalesce(nullif(u.full_name, ''), u.email) AS clinician_name,
s.session_date, s.starts_at, s.ends_at, s.kind, s.slot_minutes, s.location, s.employer_id,
e.name AS employer_name, s.active_appointment_id, s.cancelled_at
"""
_SESSION_FROM = """
FROM clinic_session s JOIN app_user u ON u.id = s.clinician_id
LEFT JOIN organisation e ON e.id = s.employer_id
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
p.waiting_since, p.state_changed_at, p.connection_id, p.last_seen_at, p.gen, p.verdict, p.pass_expires_at,
p.email
"""
_OFFER = """
id, provider_id, organisation_id, employee_email, referral_id, enrolment_id, session_id, slot_ids, created_at,
expires_at, appointment_id, withdrawn_at
"""

# --- clinics and slots ---
LOCK_CLINICIAN_DIARY = "SELECT pg_advisory_xact_lock(hashtext('clinic_diary:' || $1::uuid::text))"
SESSION_OVERLAPS = """
SELECT EXISTS (SELECT 1 FROM clinic_session WHERE clinician_id = $1 AND cancelled_at IS NULL
               AND tstzrange(starts_at, ends_at) && tstzrange($2, $3))
"""
INSERT_SESSION = """
INSERT INTO clinic_session (provider_id, clinician_id, session_date, starts_at, ends_at, kind, slot_minutes,
                            location, employer_id, created_by)
SELECT r.provider_id, r.clinician_id, r.session_date, r.starts_at, r.ends_at, r.kind, r.slot_minutes,
       r.location, r.employer_id, r.created_by
FROM jsonb_populate_record(NULL::clinic_session, $1::jsonb) AS r
RETURNING id
"""
INSERT_SLOTS = """
INSERT INTO clinic_slot (session_id, starts_at, ends_at)
SELECT $1, s, e FROM unnest($2::timestamptz[], $3::timestamptz[]) AS t(s, e)
"""
GET_SESSION = f"SELECT {_SESSION} {_SESSION_FROM} WHERE s.id = $1"
LOCK_SESSION = GET_SESSION + " FOR UPDATE OF s"
LIST_SESSIONS = f"""
SELECT {_SESSION} {_SESSION_FROM}
WHERE s.provider_id = $1 AND s.session_date BETWEEN $2 AND $3 AND s.cancelled_at IS NULL
  AND ($4::uuid IS NULL OR s.clinician_id = $4)
ORDER BY s.starts_at, s.id
"""
LIST_SLOTS = """
SELECT DISTINCT ON (sl.starts_at, sl.id) sl.id, sl.session_id, sl.starts_at, sl.ends_at,
       a.id AS appointment_id, a.referral_id, a.enrolment_id, a.employee_name, a.status
FROM clinic_slot sl
LEFT JOIN appointment a ON a.slot_id = sl.id AND a.status IN ('booked', 'in_progress', 'completed', 'dna')
WHERE sl.session_id = ANY($1::uuid[])
ORDER BY sl.starts_at, sl.id, a.booked_at DESC NULLS LAST
"""
LOCK_SLOT = "SELECT id, session_id, starts_at, ends_at FROM clinic_slot WHERE id = $1 FOR UPDATE"
SLOT_IS_FREE = """
SELECT NOT EXISTS (SELECT 1 FROM appointment WHERE slot_id = $1 AND status IN ('booked', 'in_progress'))
"""
FREE_SLOTS = """
SELECT sl.id, sl.session_id, sl.starts_at, sl.ends_at FROM clinic_slot sl
JOIN clinic_session s ON s.id = sl.session_id AND s.cancelled_at IS NULL
WHERE (sl.session_id = $1 OR sl.id = ANY($2::uuid[])) AND sl.starts_at > now()
  AND NOT EXISTS (SELECT 1 FROM appointment a
                  WHERE a.slot_id = sl.id AND a.status IN ('booked', 'in_progress'))
ORDER BY sl.starts_at, sl.id
"""

# --- appointments ---
INSERT_APPOINTMENT = """
INSERT INTO appointment (id, session_id, slot_id, referral_id, enrolment_id, organisation_id, employee_email,
                         employee_name, employee_user_id, employee_birth_date, employee_phone, referrer_email,
                         booked_by)
SELECT r.id, r.session_id, r.slot_id, r.referral_id, r.enrolment_id, r.organisation_id, r.employee_email,
       r.employee_name, r.employee_user_id, r.employee_birth_date, r.employee_phone, r.referrer_email,
       r.booked_by
FROM jsonb_populate_record(NULL::appointment, $1::jsonb) AS r
RETURNING id
"""
GET_APPOINTMENT = f"SELECT {_APPOINTMENT} {_APPOINTMENT_FROM} WHERE a.id = $1"
LOCK_APPOINTMENT = GET_APPOINTMENT + " FOR UPDATE OF a"
EMPLOYEE_APPOINTMENTS = f"""
SELECT {_APPOINTMENT} {_APPOINTMENT_FROM}
WHERE (a.employee_user_id = $1 OR a.employee_email = $2) AND a.organisation_id = $3
ORDER BY sl.starts_at DESC LIMIT 100
"""
BOOKED_FOR_REFERRAL = f"""
SELECT {_APPOINTMENT} {_APPOINTMENT_FROM} WHERE a.referral_id = $1 AND a.status = 'booked'
ORDER BY sl.starts_at FOR UPDATE OF a
"""
MOVE_APPOINTMENT = """
UPDATE appointment SET slot_id = $2, session_id = $3, sequence = sequence + 1, rescheduled_at = now(),
                       reminder_sent_at = NULL, identity_code_hash = NULL
WHERE id = $1
"""
MOVE_PARTICIPANTS = "UPDATE clinic_participant SET session_id = $2 WHERE appointment_id = $1"
CANCEL_APPOINTMENT = """
UPDATE appointment SET status = 'cancelled', cancelled_at = now(), cancelled_by = $2, sequence = sequence + 1
WHERE id = $1
"""
SET_DNA = "UPDATE appointment SET status = 'dna', dna_at = now() WHERE id = $1"
SET_EMPLOYEE_USER = "UPDATE appointment SET employee_user_id = $2 WHERE id = $1 AND employee_user_id IS NULL"
# A signed-in employee whose e-mail the appointment was booked for takes their place in it.
CLAIM_PLACE = """
UPDATE clinic_participant SET user_id = $2 WHERE appointment_id = $1 AND kind = 'employee' AND user_id IS NULL
"""
SET_IDENTITY_CODE = "UPDATE appointment SET identity_code_hash = $2 WHERE id = $1"
DUE_REMINDERS = f"""
SELECT {_APPOINTMENT} {_APPOINTMENT_FROM}
WHERE a.status = 'booked' AND a.reminder_sent_at IS NULL
  AND sl.starts_at > now() AND sl.starts_at <= now() + $1
ORDER BY sl.starts_at LIMIT $2 FOR UPDATE OF a SKIP LOCKED
"""
MARK_REMINDED = "UPDATE appointment SET reminder_sent_at = now() WHERE id = $1"
INSERT_CALL_EVENT = """
INSERT INTO call_event (appointment_id, participant_id, actor_id, kind, detail) VALUES ($1, $2, $3, $4, $5)
"""

# --- who may join: participants and their single-use links ---
INSERT_PARTICIPANT = f"""
INSERT INTO clinic_participant AS p (session_id, appointment_id, kind, user_id, display_name, guest_role,
                                     email)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_PARTICIPANT}
"""
LIST_PARTICIPANTS = f"""
SELECT {_PARTICIPANT} FROM clinic_participant p WHERE p.appointment_id = ANY($1::uuid[])
ORDER BY p.kind = 'guest', p.created_at, p.id
"""
GET_PARTICIPANT = f"SELECT {_PARTICIPANT} FROM clinic_participant p WHERE p.id = $1 FOR UPDATE"
SET_STATE = f"""
UPDATE clinic_participant p SET state = $2, state_changed_at = now(), waiting_since = NULL
WHERE p.id = $1 RETURNING {_PARTICIPANT}
"""
INSERT_LINK = "INSERT INTO clinic_join_link (token_hash, participant_id, expires_at) VALUES ($1, $2, $3)"
REVOKE_LINKS = """
UPDATE clinic_join_link SET revoked_at = now()
WHERE participant_id = $1 AND used_at IS NULL AND revoked_at IS NULL
"""
REVOKE_APPOINTMENT_LINKS = """
UPDATE clinic_join_link l SET revoked_at = now() FROM clinic_participant p
WHERE p.id = l.participant_id AND p.appointment_id = $1 AND l.used_at IS NULL AND l.revoked_at IS NULL
"""
LOCK_LINK = """
SELECT id, participant_id, expires_at, used_at, revoked_at, failures FROM clinic_join_link
WHERE token_hash = $1 FOR UPDATE
"""
USE_LINK = "UPDATE clinic_join_link SET used_at = now() WHERE id = $1"
LINK_FAILURE = "UPDATE clinic_join_link SET failures = failures + 1 WHERE id = $1 RETURNING failures"

# --- offers ---
INSERT_OFFER = f"""
INSERT INTO booking_offer (provider_id, organisation_id, employee_email, referral_id, enrolment_id,
                           session_id, slot_ids, created_by, expires_at)
SELECT r.provider_id, r.organisation_id, r.employee_email, r.referral_id, r.enrolment_id, r.session_id,
       r.slot_ids, r.created_by, r.expires_at
FROM jsonb_populate_record(NULL::booking_offer, $1::jsonb) AS r
RETURNING {_OFFER}
"""
GET_OFFER = f"SELECT {_OFFER} FROM booking_offer WHERE id = $1"
LOCK_OFFER = GET_OFFER + " FOR UPDATE"
OFFERS_FOR = f"""
SELECT {_OFFER} FROM booking_offer WHERE employee_email = $1 AND organisation_id = $2
ORDER BY created_at DESC LIMIT 50
"""
OFFER_FOR_APPOINTMENT = f"SELECT {_OFFER} FROM booking_offer WHERE appointment_id = $1"
SET_OFFER_BOOKED = "UPDATE booking_offer SET appointment_id = $2 WHERE id = $1"
# Booking an offer withdrew it with the referral's other offers; cancelling that booking opens it again.
REOPEN_OFFER = "UPDATE booking_offer SET appointment_id = NULL, withdrawn_at = NULL WHERE appointment_id = $1"
WITHDRAW_OFFERS = """
UPDATE booking_offer SET withdrawn_at = now()
WHERE ((referral_id = $1) OR (enrolment_id = $2)) AND appointment_id IS NULL AND withdrawn_at IS NULL
"""
# Offers as staff list them: status computed as the code models it (booked, withdrawn, expired, open).
OFFER_STATUS = """
CASE WHEN o.appointment_id IS NOT NULL THEN 'booked' WHEN o.withdrawn_at IS NOT NULL THEN 'withdrawn'
     WHEN o.expires_at <= now() THEN 'expired' ELSE 'open' END
"""
LIST_OFFERS = """
SELECT o.id, o.provider_id, o.organisation_id, o.employee_email, o.referral_id, o.enrolment_id, o.session_id,
       o.slot_ids, o.created_at, o.expires_at, o.appointment_id, o.withdrawn_at,
       coalesce(nullif(r.employee_name, ''), hp.full_name, '') AS employee_name, org.name AS employer_name,
       count(*) OVER () AS total
FROM booking_offer o JOIN organisation org ON org.id = o.organisation_id
LEFT JOIN referral r ON r.id = o.referral_id
LEFT JOIN hs_enrolment he ON he.id = o.enrolment_id LEFT JOIN hs_person hp ON hp.id = he.person_id
"""
LIST_OFFERS_PROVIDER = "o.provider_id = $1"
FILTER_OFFER_STATUS = f"({OFFER_STATUS}) = {{}}"
FILTER_OFFER_REFERRAL = "o.referral_id = {}::uuid"
FILTER_OFFER_SEARCH = (
    "o.employee_email ILIKE {0} ESCAPE '\\'"
    " OR coalesce(r.employee_name, hp.full_name, '') ILIKE {0} ESCAPE '\\'"
)
OFFER_SORTS = {"created": ("o.created_at",), "expires": ("o.expires_at",)}
# Planning choices: the provider's active clinicians and its client employers.
CLINICIANS = """
SELECT id, coalesce(nullif(full_name, ''), email) AS name FROM app_user
WHERE organisation_id = $1 AND role = 'clinician' AND disabled_at IS NULL ORDER BY 2, 1
"""
EMPLOYERS = "SELECT id, name FROM organisation WHERE provider_id = $1 AND kind = 'employer' ORDER BY name, id"
# A surveillance recall: who is due, at which employer, for which provider.
GET_RECALL = """
SELECT e.id, e.organisation_id, p.email, p.full_name, p.date_of_birth, g.provider_id, e.next_due_date,
       g.name AS programme_name
FROM hs_enrolment e JOIN hs_person p ON p.id = e.person_id JOIN hs_programme g ON g.id = e.programme_id
WHERE e.id = $1 AND e.ended_at IS NULL
"""


def _one(model: type[M], row: asyncpg.Record | None) -> M | None:
    return model.model_validate(dict(row)) if row is not None else None


def _all(model: type[M], rows: Sequence[asyncpg.Record]) -> list[M]:
    return [model.model_validate(dict(r)) for r in rows]


def _json(fields: dict[str, Any]) -> dict[str, Any]:
    """A record for jsonb_populate_record: ids, times and dates as text, the rest as is."""
    return {
        k: (str(v) if isinstance(v, UUID | date) else [str(x) for x in v] if isinstance(v, list) else v)
        for k, v in fields.items()
    }


async def lock_clinician_diary(conn: asyncpg.Connection, clinician_id: UUID) -> None:
    await conn.execute(LOCK_CLINICIAN_DIARY, clinician_id)


async def session_overlaps(
    conn: asyncpg.Connection, clinician_id: UUID, *, start: datetime, end: datetime
) -> bool:
    return bool(await conn.fetchval(SESSION_OVERLAPS, clinician_id, start, end))


async def insert_session(conn: asyncpg.Connection, **fields: Any) -> UUID:
    """Columns by name: provider_id, clinician_id, session_date, starts_at, ends_at, kind, slot_minutes,
    location, employer_id, created_by."""
    session_id: UUID = await conn.fetchval(INSERT_SESSION, _json(fields))
    return session_id


async def insert_slots(
    conn: asyncpg.Connection, session_id: UUID, *, starts: list[datetime], ends: list[datetime]
) -> None:
    await conn.execute(INSERT_SLOTS, session_id, starts, ends)


async def get_session(conn: asyncpg.Connection, session_id: UUID, *, lock: bool = False) -> SessionRow | None:
    return _one(SessionRow, await conn.fetchrow(LOCK_SESSION if lock else GET_SESSION, session_id))


async def list_sessions(
    conn: asyncpg.Connection, provider_id: UUID, *, first: date, last: date, clinician_id: UUID | None
) -> list[SessionRow]:
    return _all(SessionRow, await conn.fetch(LIST_SESSIONS, provider_id, first, last, clinician_id))


async def list_slots(
    conn: asyncpg.Connection, session_ids: list[UUID]
) -> list[tuple[SlotRow, AppointmentBrief | None]]:
    """Every slot of these clinics, with its current (or last kept) appointment."""
    found: list[tuple[SlotRow, AppointmentBrief | None]] = []
    for r in await conn.fetch(LIST_SLOTS, session_ids):
        slot = SlotRow(id=r["id"], session_id=r["session_id"], starts_at=r["starts_at"], ends_at=r["ends_at"])
        brief = None
        if r["appointment_id"] is not None:
            brief = AppointmentBrief(
                id=r["appointment_id"],
                referral_id=r["referral_id"],
                enrolment_id=r["enrolment_id"],
                employee_name=r["employee_name"],
                status=r["status"],
            )
        found.append((slot, brief))
    return found


async def lock_slot(conn: asyncpg.Connection, slot_id: UUID) -> SlotRow | None:
    return _one(SlotRow, await conn.fetchrow(LOCK_SLOT, slot_id))


async def slot_is_free(conn: asyncpg.Connection, slot_id: UUID) -> bool:
    return bool(await conn.fetchval(SLOT_IS_FREE, slot_id))


async def free_slots(
    conn: asyncpg.Connection, *, session_id: UUID | None, slot_ids: list[UUID]
) -> list[SlotRow]:
    return _all(SlotRow, await conn.fetch(FREE_SLOTS, session_id, slot_ids))


async def insert_appointment(conn: asyncpg.Connection, **fields: Any) -> UUID:
    """Columns by name: id, session_id, slot_id, referral_id or enrolment_id, organisation_id, employee_email,
    employee_name, employee_user_id, employee_birth_date, employee_phone, referrer_email, booked_by."""
    appointment_id: UUID = await conn.fetchval(INSERT_APPOINTMENT, _json(fields))
    return appointment_id


async def get_appointment(
    conn: asyncpg.Connection, appointment_id: UUID, *, lock: bool = False
) -> AppointmentRow | None:
    return _one(
        AppointmentRow, await conn.fetchrow(LOCK_APPOINTMENT if lock else GET_APPOINTMENT, appointment_id)
    )


async def employee_appointments(
    conn: asyncpg.Connection, user_id: UUID, *, email: str, organisation_id: UUID
) -> list[AppointmentRow]:
    return _all(AppointmentRow, await conn.fetch(EMPLOYEE_APPOINTMENTS, user_id, email, organisation_id))


async def booked_for_referral(conn: asyncpg.Connection, referral_id: UUID) -> list[AppointmentRow]:
    """The referral's appointments still to be held (locked)."""
    return _all(AppointmentRow, await conn.fetch(BOOKED_FOR_REFERRAL, referral_id))


async def move_appointment(conn: asyncpg.Connection, appointment_id: UUID, *, slot: SlotRow) -> None:
    await conn.execute(MOVE_APPOINTMENT, appointment_id, slot.id, slot.session_id)
    await conn.execute(MOVE_PARTICIPANTS, appointment_id, slot.session_id)


async def cancel_appointment(conn: asyncpg.Connection, appointment_id: UUID, *, by: UUID | None) -> None:
    await conn.execute(CANCEL_APPOINTMENT, appointment_id, by)


async def set_dna(conn: asyncpg.Connection, appointment_id: UUID) -> None:
    await conn.execute(SET_DNA, appointment_id)


async def set_employee_user(conn: asyncpg.Connection, appointment_id: UUID, user_id: UUID) -> None:
    await conn.execute(SET_EMPLOYEE_USER, appointment_id, user_id)


async def claim_place(conn: asyncpg.Connection, appointment_id: UUID, user_id: UUID) -> None:
    await conn.execute(SET_EMPLOYEE_USER, appointment_id, user_id)
    await conn.execute(CLAIM_PLACE, appointment_id, user_id)


async def set_identity_code(conn: asyncpg.Connection, appointment_id: UUID, code_hash: bytes) -> None:
    await conn.execute(SET_IDENTITY_CODE, appointment_id, code_hash)


async def due_reminders(conn: asyncpg.Connection, within: timedelta, limit: int) -> list[AppointmentRow]:
    return _all(AppointmentRow, await conn.fetch(DUE_REMINDERS, within, limit))


async def mark_reminded(conn: asyncpg.Connection, appointment_id: UUID) -> None:
    await conn.execute(MARK_REMINDED, appointment_id)


async def insert_call_event(
    conn: asyncpg.Connection,
    appointment_id: UUID,
    *,
    kind: str,
    actor_id: UUID | None,
    participant_id: UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    await conn.execute(INSERT_CALL_EVENT, appointment_id, participant_id, actor_id, kind, detail or {})


async def insert_participant(conn: asyncpg.Connection, **fields: Any) -> ParticipantRow:
    """By name: session_id, appointment_id, kind, user_id, display_name, guest_role, email (guests)."""
    row = await conn.fetchrow(
        INSERT_PARTICIPANT,
        fields["session_id"],
        fields["appointment_id"],
        fields["kind"],
        fields.get("user_id"),
        fields["display_name"],
        fields.get("guest_role"),
        fields.get("email"),
    )
    found = _one(ParticipantRow, row)
    if found is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    return found


async def list_participants(conn: asyncpg.Connection, appointment_ids: list[UUID]) -> list[ParticipantRow]:
    return _all(ParticipantRow, await conn.fetch(LIST_PARTICIPANTS, appointment_ids))


async def get_participant(conn: asyncpg.Connection, participant_id: UUID) -> ParticipantRow | None:
    return _one(ParticipantRow, await conn.fetchrow(GET_PARTICIPANT, participant_id))


async def set_state(conn: asyncpg.Connection, participant_id: UUID, state: str) -> ParticipantRow:
    found = _one(ParticipantRow, await conn.fetchrow(SET_STATE, participant_id, state))
    if found is None:
        raise RuntimeError(f"participant {participant_id} vanished")
    return found


async def insert_link(
    conn: asyncpg.Connection, token_hash: bytes, *, participant_id: UUID, expires_at: datetime
) -> None:
    await conn.execute(INSERT_LINK, token_hash, participant_id, expires_at)


async def revoke_links(conn: asyncpg.Connection, participant_id: UUID) -> None:
    await conn.execute(REVOKE_LINKS, participant_id)


async def revoke_appointment_links(conn: asyncpg.Connection, appointment_id: UUID) -> None:
    await conn.execute(REVOKE_APPOINTMENT_LINKS, appointment_id)


async def lock_link(conn: asyncpg.Connection, token_hash: bytes) -> LinkRow | None:
    return _one(LinkRow, await conn.fetchrow(LOCK_LINK, token_hash))


async def use_link(conn: asyncpg.Connection, link_id: UUID) -> None:
    await conn.execute(USE_LINK, link_id)


async def link_failure(conn: asyncpg.Connection, link_id: UUID) -> int:
    return int(await conn.fetchval(LINK_FAILURE, link_id))


async def insert_offer(conn: asyncpg.Connection, **fields: Any) -> OfferRow:
    """By name: provider_id, organisation_id, employee_email, referral_id or enrolment_id, session_id or
    slot_ids, created_by, expires_at."""
    found = _one(OfferRow, await conn.fetchrow(INSERT_OFFER, _json(fields)))
    if found is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    return found


async def get_offer(conn: asyncpg.Connection, offer_id: UUID, *, lock: bool = False) -> OfferRow | None:
    return _one(OfferRow, await conn.fetchrow(LOCK_OFFER if lock else GET_OFFER, offer_id))


async def offers_for(conn: asyncpg.Connection, email: str, *, organisation_id: UUID) -> list[OfferRow]:
    return _all(OfferRow, await conn.fetch(OFFERS_FOR, email, organisation_id))


async def offer_for_appointment(conn: asyncpg.Connection, appointment_id: UUID) -> OfferRow | None:
    return _one(OfferRow, await conn.fetchrow(OFFER_FOR_APPOINTMENT, appointment_id))


async def set_offer_booked(conn: asyncpg.Connection, offer_id: UUID, appointment_id: UUID) -> None:
    await conn.execute(SET_OFFER_BOOKED, offer_id, appointment_id)


async def reopen_offer(conn: asyncpg.Connection, appointment_id: UUID) -> None:
    """The appointment booked from an offer is cancelled: the offer's other times may be chosen again
    (while it has not expired)."""
    await conn.execute(REOPEN_OFFER, appointment_id)


async def withdraw_offers(
    conn: asyncpg.Connection, *, referral_id: UUID | None, enrolment_id: UUID | None
) -> None:
    await conn.execute(WITHDRAW_OFFERS, referral_id, enrolment_id)


async def get_recall(conn: asyncpg.Connection, enrolment_id: UUID) -> RecallRow | None:
    return _one(RecallRow, await conn.fetchrow(GET_RECALL, enrolment_id))


async def planning_choices(conn: asyncpg.Connection, provider_id: UUID) -> tuple[list[Choice], list[Choice]]:
    return (
        _all(Choice, await conn.fetch(CLINICIANS, provider_id)),
        _all(Choice, await conn.fetch(EMPLOYERS, provider_id)),
    )


APPOINTMENT_SUBJECTS = """
SELECT a.id, coalesce(a.employee_user_id, r.employee_user_id) AS employee_user_id, a.employee_email
FROM appointment a LEFT JOIN referral r ON r.id = a.referral_id
WHERE a.id = ANY($1::uuid[])
ORDER BY a.id
"""


async def appointment_subjects(
    conn: asyncpg.Connection, appointment_ids: list[UUID]
) -> list[tuple[UUID, UUID | None, str]]:
    """Whom each appointment is about (account, e-mail): what audit rows of reads name."""
    rows = await conn.fetch(APPOINTMENT_SUBJECTS, appointment_ids) if appointment_ids else []
    return [(r["id"], r["employee_user_id"], r["employee_email"]) for r in rows]


async def list_offers(
    conn: asyncpg.Connection,
    provider_id: UUID,
    *,
    page: ListParams,
    status: str | None,
    referral_id: UUID | None,
) -> tuple[list[tuple[OfferRow, str, str]], int]:
    """One page of a provider's offers (each with the employee's name and employer) and the total."""
    sql = SqlParams(provider_id)
    where = sql.where(LIST_OFFERS_PROVIDER)
    if status is not None:
        where.add(FILTER_OFFER_STATUS, status)
    if referral_id is not None:
        where.add(FILTER_OFFER_REFERRAL, referral_id)
    if page.q:
        where.add(FILTER_OFFER_SEARCH, like_pattern(page.q))
    order = order_by(page.sort, descending=page.descending, columns=OFFER_SORTS, tiebreak="o.id")
    cut = f"LIMIT {sql.add(page.limit)} OFFSET {sql.add(page.offset)}"
    rows = await conn.fetch(f"{LIST_OFFERS} WHERE {where} {order} {cut}", *sql.values)
    found = [(OfferRow.model_validate(dict(r)), r["employee_name"], r["employer_name"]) for r in rows]
    if rows or page.offset == 0:
        return found, int(rows[0]["total"]) if rows else 0
    count = await conn.fetchval(f"SELECT count(*) FROM ({LIST_OFFERS} WHERE {where}) AS c", *sql.values[:-2])
    return [], int(count)
