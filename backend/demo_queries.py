"""SQL used only by the demo seed (``backend.demo*``): finding free clinic slots, settling the state of
appointments that the seed places in the past, a failed message for the provider admin's list, and
bulk loading of historical referrals. Values only ever travel as $n parameters."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

# Free slots of one provider's clinics of one kind starting in [$3, $4), earliest first.
FREE_SLOTS = """
SELECT sl.id FROM clinic_slot sl
JOIN clinic_session s ON s.id = sl.session_id AND s.cancelled_at IS NULL
WHERE s.provider_id = $1 AND s.kind = $2 AND sl.starts_at >= $3 AND sl.starts_at < $4
  AND ($5::uuid IS NULL OR s.employer_id = $5)
  AND NOT EXISTS (SELECT 1 FROM appointment a
                  WHERE a.slot_id = sl.id AND a.status IN ('booked', 'in_progress', 'completed', 'dna'))
ORDER BY sl.starts_at, sl.id
"""
# An appointment the seed placed in the past: the consultation happened (or is happening) then.
SETTLE_APPOINTMENT = """
UPDATE appointment a
   SET status = $2, first_admitted_at = sl.starts_at,
       ended_at = CASE WHEN $2 = 'completed' THEN sl.ends_at END
  FROM clinic_slot sl
 WHERE a.id = $1 AND sl.id = a.slot_id
"""
APPOINTMENT_OF_REFERRAL = """
SELECT id FROM appointment WHERE referral_id = $1 AND status IN ('booked', 'in_progress')
ORDER BY booked_at DESC LIMIT 1
"""
INSERT_FAILED_MESSAGE = """
INSERT INTO outbox_message (channel, recipient, subject, body, provider_id, kind, status, attempts,
                            last_error, last_attempt_at, failed_at)
VALUES ($1, $2, $3, $4, $5, $6, 'failed', $7, $8, now(), now())
"""
FAILED_MESSAGE_EXISTS = "SELECT EXISTS (SELECT 1 FROM outbox_message WHERE provider_id = $1 AND kind = $2)"
# jsonb columns have no binary COPY encoder here: bulk rows go through executemany instead.
INSERT_REFERRAL = """
INSERT INTO referral (id, organisation_id, provider_id, referrer_id, employee_email, employee_name,
                      department, status, form, priority, modality, clinician_grade, decision,
                      acknowledged_at, created_at, updated_at, submitted_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
"""
INSERT_EVENT = """
INSERT INTO referral_event (referral_id, at, actor_id, actor_role, action, from_status, to_status, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""
INSERT_REPORT = """
INSERT INTO mr_report (referral_id, author_id, content, consent, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $5)
"""
INSERT_RELEASED_VERSION = """
INSERT INTO mr_report_version (referral_id, version, kind, content, consent, recipients, actor_id, at)
VALUES ($1, 1, 'released', $2, $3, $4, $5, $6)
"""
HISTORY_EXISTS = "SELECT EXISTS (SELECT 1 FROM referral WHERE organisation_id = $1 AND employee_email = $2)"


async def free_slots(
    conn: asyncpg.Connection,
    provider_id: UUID,
    kind: str,
    *,
    start: datetime,
    end: datetime,
    employer_id: UUID | None = None,
) -> list[UUID]:
    rows = await conn.fetch(FREE_SLOTS, provider_id, kind, start, end, employer_id)
    return [r["id"] for r in rows]


async def settle_appointment(conn: asyncpg.Connection, referral_id: UUID, status: str) -> None:
    """Mark the referral's appointment in progress or completed, at its slot's times."""
    appointment_id = await conn.fetchval(APPOINTMENT_OF_REFERRAL, referral_id)
    if appointment_id is not None:
        await conn.execute(SETTLE_APPOINTMENT, appointment_id, status)


async def failed_message_exists(conn: asyncpg.Connection, provider_id: UUID, kind: str) -> bool:
    return bool(await conn.fetchval(FAILED_MESSAGE_EXISTS, provider_id, kind))


async def insert_failed_message(conn: asyncpg.Connection, **f: Any) -> None:
    """Columns by name: channel, recipient, subject, body, provider_id, kind, attempts, last_error."""
    await conn.execute(
        INSERT_FAILED_MESSAGE,
        f["channel"], f["recipient"], f["subject"], f["body"], f["provider_id"], f["kind"], f["attempts"],
        f["last_error"],
    )  # fmt: skip


async def history_exists(conn: asyncpg.Connection, organisation_id: UUID, email: str) -> bool:
    return bool(await conn.fetchval(HISTORY_EXISTS, organisation_id, email))


async def copy_history(
    conn: asyncpg.Connection,
    referrals: list[tuple[Any, ...]],
    events: list[tuple[Any, ...]],
    reports: list[tuple[Any, ...]],
) -> None:
    """Bulk-load historical referrals, their events and their released reports (one prepared statement
    each). A report row is (referral_id, author_id, content, consent, recipients, released_at)."""
    await conn.executemany(INSERT_REFERRAL, referrals)
    await conn.executemany(INSERT_EVENT, events)
    await conn.executemany(
        INSERT_REPORT, [(r[0], r[1], r[2], {**r[3], "release_choice": None}, r[5]) for r in reports]
    )
    await conn.executemany(INSERT_RELEASED_VERSION, [(r[0], r[2], r[3], r[4], r[1], r[5]) for r in reports])
