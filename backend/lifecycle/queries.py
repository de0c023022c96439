"""SQL of the retention passes, rectification and erasure. $1 is a pass's cutoff, $2 its batch size.

Each class has a COUNT (what a dry run reports) and a statement that deletes or erases one batch
of the same rows and returns how many it touched.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import asyncpg

from backend.lifecycle.schemas import PersonRow

# -- retention: what is due, per class ---------------------------------------------------------

_SESSION_DUE = "(expires_at < $1 OR revoked_at < $1)"
_TOKEN_DUE = "(expires_at < $1 OR used_at < $1)"
_MESSAGE_DUE = "(status IN ('sent', 'failed') AND coalesce(failed_at, sent_at, created_at) < $1)"
_DRAFT_DUE = "(status = 'DRAFT' AND deleted_at IS NULL AND updated_at < $1)"
# Readings in the month the cutoff falls in; earlier months go with their partitions.
_READING_DUE = "(taken_at < $1 AND taken_at >= date_trunc('month', $1 AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"
_BATCH_OLD = "b.received_at < $1"

COUNT: dict[str, tuple[str, ...]] = {
    "auth_session": (f"SELECT count(*) FROM auth_session WHERE {_SESSION_DUE}",),
    "account_token": (f"SELECT count(*) FROM account_token WHERE {_TOKEN_DUE}",),
    "sign_in_attempt": (
        "SELECT count(*) FROM login_attempt WHERE at < $1",
        "SELECT count(*) FROM account_token_attempt WHERE at < $1",
    ),
    "entry_link": ("SELECT count(*) FROM entry_link WHERE expires_at < $1",),
    "outbox_message": (f"SELECT count(*) FROM outbox_message WHERE {_MESSAGE_DUE}",),
    "clinic_signal": ("SELECT count(*) FROM clinic_signal WHERE created_at < $1",),
    "draft_referral": (f"SELECT count(*) FROM referral WHERE {_DRAFT_DUE}",),
    "reading_raw": (f"SELECT count(*) FROM reading WHERE {_READING_DUE}",),
    "reading_batch": (
        f"""SELECT count(*) FROM reading_batch b WHERE {_BATCH_OLD} AND NOT EXISTS (
            SELECT 1 FROM reading r
            WHERE r.stream_id = b.stream_id AND r.seq = b.seq AND r.taken_at >= $1)""",
    ),
    # Review classes: closed clinical records whose last entry is older than the cutoff.
    "oh_clinical_record": (
        """SELECT count(*) FROM referral f WHERE f.status <> 'DRAFT' AND f.deleted_at IS NULL
           AND f.updated_at < $1
           AND NOT EXISTS (SELECT 1 FROM referral_event e WHERE e.referral_id = f.id AND e.at >= $1)""",
    ),
    "night_worker_record": (
        """SELECT count(*) FROM hs_result r JOIN hs_programme p ON p.id = r.programme_id
           WHERE p.kind = 'night' AND NOT EXISTS (
               SELECT 1 FROM hs_result n WHERE n.person_id = r.person_id AND n.programme_id = r.programme_id
               AND n.performed_on >= ($1 AT TIME ZONE 'UTC')::date)""",
    ),
    "statutory_health_record": (
        """SELECT count(*) FROM hs_result r JOIN hs_programme p ON p.id = r.programme_id
           WHERE p.kind <> 'night' AND NOT EXISTS (
               SELECT 1 FROM hs_result n JOIN hs_programme q ON q.id = n.programme_id
               WHERE n.person_id = r.person_id AND q.kind <> 'night'
               AND n.performed_on >= ($1 AT TIME ZONE 'UTC')::date)""",
    ),
}


def _batch_delete(table: str, due: str, key: str = "id") -> str:
    return (
        f"WITH gone AS (DELETE FROM {table} WHERE {key} IN "
        f"(SELECT {key} FROM {table} WHERE {due} LIMIT $2) RETURNING 1) SELECT count(*) FROM gone"
    )


ERASE_DRAFTS = f"""
WITH due AS (
    SELECT id FROM referral WHERE {_DRAFT_DUE} ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED
), history AS (
    INSERT INTO referral_event (referral_id, actor_id, actor_role, action, from_status, to_status, detail)
    SELECT id, NULL, 'system', 'retention_erase', 'DRAFT', 'DRAFT', '{{}}'::jsonb FROM due
), files AS (
    DELETE FROM referral_attachment WHERE referral_id IN (SELECT id FROM due)
), comments AS (
    DELETE FROM referral_comment WHERE referral_id IN (SELECT id FROM due)
), erased AS (
    UPDATE referral SET deleted_at = now(), form = '{{}}'::jsonb, employee_email = '', employee_name = '',
           department = '', employee_user_id = NULL, updated_at = now(), version = version + 1
    WHERE id IN (SELECT id FROM due) RETURNING 1
)
SELECT count(*) FROM erased
"""
DELETE_READINGS = f"""
WITH due AS (SELECT tableoid, ctid FROM reading WHERE {_READING_DUE} LIMIT $2),
gone AS (
    DELETE FROM reading r USING due WHERE r.tableoid = due.tableoid AND r.ctid = due.ctid RETURNING 1
)
SELECT count(*) FROM gone
"""
DELETE_BATCHES = f"""
WITH due AS (
    SELECT b.stream_id, b.seq FROM reading_batch b WHERE {_BATCH_OLD}
    AND NOT EXISTS (SELECT 1 FROM reading r WHERE r.stream_id = b.stream_id AND r.seq = b.seq)
    LIMIT $2
), gone AS (
    DELETE FROM reading_batch b USING due WHERE b.stream_id = due.stream_id AND b.seq = due.seq RETURNING 1
)
SELECT count(*) FROM gone
"""

DELETE_BATCH: dict[str, tuple[str, ...]] = {
    "auth_session": (_batch_delete("auth_session", _SESSION_DUE),),
    "account_token": (_batch_delete("account_token", _TOKEN_DUE),),
    "sign_in_attempt": (
        _batch_delete("login_attempt", "at < $1"),
        _batch_delete("account_token_attempt", "at < $1"),
    ),
    "entry_link": (_batch_delete("entry_link", "expires_at < $1"),),
    "outbox_message": (_batch_delete("outbox_message", _MESSAGE_DUE),),
    "clinic_signal": (_batch_delete("clinic_signal", "created_at < $1"),),
    "draft_referral": (ERASE_DRAFTS,),
    "reading_raw": (DELETE_READINGS,),
    "reading_batch": (DELETE_BATCHES,),
}
ALLOW_RAW_DELETE = "SET LOCAL ohconnect.retention = 'on'"
DROP_PARTITIONS = "SELECT name FROM reading_partition_drop_before($1, $2) AS name"
INSERT_PASS = """
INSERT INTO retention_pass (run_id, record_class, action, cutoff, affected, dry_run, at)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
"""


async def count_due(conn: asyncpg.Connection, record_class: str, cutoff: datetime) -> int:
    return sum([int(await conn.fetchval(sql, cutoff)) for sql in COUNT[record_class]])


async def delete_batch(
    conn: asyncpg.Connection, record_class: str, cutoff: datetime, *, limit: int
) -> list[int]:
    """One batch of each of the class's statements: how many rows each touched."""
    if record_class == "reading_batch":
        await conn.execute(ALLOW_RAW_DELETE)
    return [int(await conn.fetchval(sql, cutoff, limit)) for sql in DELETE_BATCH[record_class]]


async def drop_partitions(conn: asyncpg.Connection, cutoff: datetime, *, dry_run: bool) -> list[str]:
    return [str(row["name"]) for row in await conn.fetch(DROP_PARTITIONS, cutoff, dry_run)]


async def insert_pass(
    conn: asyncpg.Connection,
    run_id: UUID,
    *,
    record_class: str,
    action: str,
    cutoff: datetime,
    affected: int,
    dry_run: bool,
    at: datetime,
) -> UUID:
    found: UUID = await conn.fetchval(
        INSERT_PASS, run_id, record_class, action, cutoff, affected, dry_run, at
    )
    return found


# -- the person (rectification, erasure) -------------------------------------------------------

# A person at one of the provider's client employers.
GET_PERSON = """
SELECT u.id, u.email, u.full_name, u.role, u.organisation_id, u.disabled_at
FROM app_user u JOIN organisation o ON o.id = u.organisation_id
WHERE u.id = $1 AND o.kind = 'employer' AND o.provider_id = $2
"""
FIND_PERSON_BY_EMAIL = """
SELECT u.id, u.email, u.full_name, u.role, u.organisation_id, u.disabled_at
FROM app_user u JOIN organisation o ON o.id = u.organisation_id
WHERE u.email = $1 AND o.kind = 'employer' AND o.provider_id = $2
"""
LOCK_PERSON = "SELECT 1 FROM app_user WHERE id = $1 FOR UPDATE"


async def get_person(conn: asyncpg.Connection, user_id: UUID, provider_id: UUID) -> PersonRow | None:
    row = await conn.fetchrow(GET_PERSON, user_id, provider_id)
    return PersonRow(**dict(row)) if row else None


async def find_person_by_email(conn: asyncpg.Connection, email: str, provider_id: UUID) -> PersonRow | None:
    row = await conn.fetchrow(FIND_PERSON_BY_EMAIL, email, provider_id)
    return PersonRow(**dict(row)) if row else None


async def lock_person(conn: asyncpg.Connection, user_id: UUID) -> None:
    await conn.execute(LOCK_PERSON, user_id)


# The records about a person that retention holds, each with its last entry.
HOLDS = """
SELECT 'oh_clinical_record' AS record_class, count(*) AS records,
       max(greatest(f.updated_at, (SELECT max(e.at) FROM referral_event e WHERE e.referral_id = f.id)))
       AS last_entry
FROM referral f
WHERE (f.employee_user_id = $1 OR f.employee_email = $2) AND f.organisation_id = $3
  AND f.status <> 'DRAFT' AND f.deleted_at IS NULL
UNION ALL
SELECT 'oh_clinical_record', count(*), max(coalesce(s.closed_at, s.created_at))
FROM reading_stream s WHERE s.employee_id = $1
UNION ALL
SELECT CASE WHEN p.kind = 'night' THEN 'night_worker_record' ELSE 'statutory_health_record' END,
       count(*), max(greatest(r.performed_on::timestamptz, r.updated_at))
FROM hs_result r JOIN hs_programme p ON p.id = r.programme_id JOIN hs_person h ON h.id = r.person_id
WHERE h.email = $2 AND h.organisation_id = $3
GROUP BY p.kind = 'night'
UNION ALL
SELECT 'statutory_health_record', count(*), max(greatest(e.created_at, e.ended_at))
FROM hs_enrolment e JOIN hs_person h ON h.id = e.person_id
WHERE h.email = $2 AND h.organisation_id = $3
"""


async def holds(conn: asyncpg.Connection, person: PersonRow) -> list[tuple[str, int, datetime]]:
    rows = await conn.fetch(HOLDS, person.id, person.email, person.organisation_id)
    return [(r["record_class"], int(r["records"]), r["last_entry"]) for r in rows if r["records"]]


ERASE_PERSON_DRAFTS = """
WITH due AS (
    SELECT id FROM referral WHERE (employee_user_id = $1 OR employee_email = $2) AND organisation_id = $3
    AND status = 'DRAFT' AND deleted_at IS NULL FOR UPDATE
), history AS (
    INSERT INTO referral_event (referral_id, actor_id, actor_role, action, from_status, to_status, detail)
    SELECT id, $4, 'provider_admin', 'erasure', 'DRAFT', 'DRAFT', '{}'::jsonb FROM due
), files AS (
    DELETE FROM referral_attachment WHERE referral_id IN (SELECT id FROM due)
), comments AS (
    DELETE FROM referral_comment WHERE referral_id IN (SELECT id FROM due)
), erased AS (
    UPDATE referral SET deleted_at = now(), form = '{}'::jsonb, employee_email = '', employee_name = '',
           department = '', employee_user_id = NULL, updated_at = now(), version = version + 1
    WHERE id IN (SELECT id FROM due) RETURNING 1
)
SELECT count(*) FROM erased
"""
ERASE_REGISTER_ENTRY = """
DELETE FROM hs_person WHERE email = $1 AND organisation_id = $2
AND NOT EXISTS (SELECT 1 FROM hs_enrolment e WHERE e.person_id = hs_person.id)
"""
ERASE_BY_USER = (
    "DELETE FROM auth_session WHERE user_id = $1",
    "DELETE FROM account_token WHERE user_id = $1",
    "DELETE FROM personal_detail_change WHERE user_id = $1",
)
ERASE_BY_EMAIL = (
    "DELETE FROM login_attempt WHERE email = $1",
    "DELETE FROM account_token_attempt WHERE email = $1",
)
# Messages and links of this person's employer and its provider; another provider's stay its own.
ERASE_MESSAGES = """
DELETE FROM outbox_message WHERE recipient = $1
AND (provider_id IS NULL OR provider_id = (SELECT provider_id FROM organisation WHERE id = $2))
"""
ERASE_LINKS = "DELETE FROM entry_link WHERE email = $1 AND organisation_id = $2"
# The account row stays (other records name it as their author) with nothing personal left.
ERASED_DOMAIN = "@erased.invalid"
ANONYMISE_USER = """
UPDATE app_user SET email = 'erased-' || id::text || '@erased.invalid', full_name = '', department = NULL,
       password_hash = NULL, disabled_at = coalesce(disabled_at, now())
WHERE id = $1
"""


async def erase_person(conn: asyncpg.Connection, person: PersonRow, *, actor_id: UUID) -> int:
    """Erase everything about a person retention does not hold; the number of draft referrals erased."""
    drafts = int(
        await conn.fetchval(ERASE_PERSON_DRAFTS, person.id, person.email, person.organisation_id, actor_id)
    )
    for sql in (ERASE_REGISTER_ENTRY, ERASE_MESSAGES, ERASE_LINKS):
        await conn.execute(sql, person.email, person.organisation_id)
    for sql in ERASE_BY_USER:
        await conn.execute(sql, person.id)
    for sql in ERASE_BY_EMAIL:
        await conn.execute(sql, person.email)
    await conn.execute(ANONYMISE_USER, person.id)
    return drafts


# -- rectification -----------------------------------------------------------------------------

UPDATE_USER = "UPDATE app_user SET full_name = $2, email = $3 WHERE id = $1"
CURRENT_SURVEILLANCE = """
SELECT date_of_birth FROM hs_person WHERE email = $1 AND organisation_id = $2
"""
UPDATE_SURVEILLANCE_PERSON = """
UPDATE hs_person SET full_name = $3, email = $4, date_of_birth = coalesce($5, date_of_birth),
       updated_at = now()
WHERE email = $1 AND organisation_id = $2
"""
CURRENT_PHONE = """
SELECT employee_phone FROM appointment
WHERE (employee_user_id = $1 OR employee_email = $2) AND organisation_id = $3 AND status = 'booked'
ORDER BY booked_at DESC LIMIT 1
"""
# Contact details of appointments still to come; those held are history and stay as they were.
UPDATE_BOOKED = """
UPDATE appointment SET employee_name = $4, employee_email = $5,
       employee_phone = coalesce($6, employee_phone), employee_birth_date = coalesce($7, employee_birth_date)
WHERE (employee_user_id = $1 OR employee_email = $2) AND organisation_id = $3 AND status = 'booked'
"""
INSERT_CHANGE = """
INSERT INTO personal_detail_change (user_id, field, old_value, new_value, reason, changed_by)
VALUES ($1, $2, $3, $4, $5, $6)
"""
LIST_CHANGES = """
SELECT field, old_value, new_value, reason, changed_by, at FROM personal_detail_change
WHERE user_id = $1 ORDER BY id
"""


async def current_details(conn: asyncpg.Connection, person: PersonRow) -> tuple[date | None, str | None]:
    birth = await conn.fetchval(CURRENT_SURVEILLANCE, person.email, person.organisation_id)
    phone = await conn.fetchval(CURRENT_PHONE, person.id, person.email, person.organisation_id)
    return birth, phone


async def apply_details(
    conn: asyncpg.Connection,
    person: PersonRow,
    *,
    full_name: str,
    email: str,
    phone: str | None,
    date_of_birth: date | None,
) -> None:
    await conn.execute(UPDATE_USER, person.id, full_name, email)
    await conn.execute(
        UPDATE_SURVEILLANCE_PERSON, person.email, person.organisation_id, full_name, email, date_of_birth
    )
    await conn.execute(
        UPDATE_BOOKED, person.id, person.email, person.organisation_id, full_name, email, phone, date_of_birth
    )


async def insert_change(
    conn: asyncpg.Connection,
    user_id: UUID,
    *,
    field: str,
    old: str | None,
    new: str | None,
    reason: str,
    changed_by: UUID,
) -> None:
    await conn.execute(INSERT_CHANGE, user_id, field, old, new, reason, changed_by)
