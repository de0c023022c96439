"""Every SQL statement touching referral, referral_event, comments, attachments and entry links.

Visibility is one SQL predicate (``_VISIBLE``) over the caller's scope parameters
($2 kind, $3 organisation, $4 user, $5 department), so a record outside the caller's scope
is simply not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from backend.core.listing import ListParams
from backend.db.sqlparams import SqlParams, Where, like_pattern, order_by
from backend.referrals.schemas import (
    Attachment,
    Comment,
    ReferralEvent,
    ReferralFilters,
    ReferralRead,
    ReferralSummary,
)
from backend.referrals.transitions import Status


@dataclass(frozen=True)
class Scope:
    kind: str  # provider | client_admin | manager | employee
    organisation_id: UUID
    user_id: UUID
    department: str

    def params(self) -> tuple[str, UUID, UUID, str]:
        return (self.kind, self.organisation_id, self.user_id, self.department.strip().lower())


# The caller's scope as one predicate; placeholders name the scope's four parameters.
_VISIBLE_AT = """(r.deleted_at IS NULL AND (
    ({kind} = 'provider' AND r.provider_id = {org} AND r.status <> 'DRAFT')
 OR ({kind} = 'client_admin' AND r.organisation_id = {org}
        AND (r.status <> 'DRAFT' OR r.referrer_id = {user}))
 OR ({kind} = 'manager' AND r.organisation_id = {org} AND (r.referrer_id = {user}
        OR ({dept} <> '' AND lower(r.department) = {dept} AND r.status <> 'DRAFT')))
 OR ({kind} = 'employee' AND r.employee_user_id = {user} AND r.status <> 'DRAFT')
))"""
_VISIBLE = _VISIBLE_AT.format(kind="$2", org="$3", user="$4", dept="$5")

_SUMMARY_COLUMNS = """
r.id, r.status, r.organisation_id, o.name AS organisation_name, r.referrer_id, r.employee_name,
r.department, r.form->>'referral_type' AS referral_type, r.form->>'urgency_requested' AS urgency_requested,
r.priority, r.modality, r.acknowledged_at, r.created_at, r.updated_at, r.submitted_at
"""
_READ_COLUMNS = (
    _SUMMARY_COLUMNS
    + """, r.provider_id, r.employee_email, r.employee_user_id, r.clinician_grade, r.form, r.decision,
r.version"""
)

INSERT_REFERRAL = """
INSERT INTO referral (organisation_id, provider_id, referrer_id, employee_email, employee_name, department,
                      status, form)
VALUES ($1, $2, $3, $4, $5, $6, 'DRAFT', $7) RETURNING id
"""
GET_VISIBLE = f"""
SELECT {_READ_COLUMNS} FROM referral r JOIN organisation o ON o.id = r.organisation_id
WHERE r.id = $1 AND {_VISIBLE}
"""
LOCK_VISIBLE = GET_VISIBLE + " FOR UPDATE OF r"
# ---- The referral list: a scope predicate, filter clauses and sort expressions (backend.db.sqlparams) ----
LIST_SELECT = f"""
SELECT {_SUMMARY_COLUMNS}, count(*) OVER () AS total
FROM referral r JOIN organisation o ON o.id = r.organisation_id
"""
LIST_COUNT = "SELECT count(*) FROM referral r JOIN organisation o ON o.id = r.organisation_id"
LIST_VISIBLE_WHERE = _VISIBLE_AT.format(kind="$1", org="$2", user="$3", dept="$4")
FILTER_SEARCH = (
    "r.employee_name ILIKE {0} ESCAPE '\\' OR (r.form->'employee'->>'employee_number') ILIKE {0} ESCAPE '\\'"
)
FILTER_STATUS = "r.status = ANY({}::text[])"
FILTER_DEPARTMENT = "lower(r.department) = {}"
FILTER_SUBMITTED_FROM = "(r.submitted_at AT TIME ZONE 'Europe/London')::date >= {}"
FILTER_SUBMITTED_TO = "(r.submitted_at AT TIME ZONE 'Europe/London')::date <= {}"
# Overdue (DESIGN, domain.md §7 targets, in calendar days): not yet booked more than OVERDUE_DAYS after
# submission, or a report not moving on more than OVERDUE_DAYS after it entered drafting or became
# ready (the employee's review is not counted against occupational health).
OVERDUE_DAYS = 5
_WAITING_ON_OH = "('AWAITING_TRIAGE', 'AWAITING_BOOKING')"
_REPORT_DUE = "('REPORT_DRAFTING', 'READY_FOR_RELEASE')"
_OVERDUE = f"""
(r.status IN {_WAITING_ON_OH} AND r.submitted_at < now() - make_interval(days => {{0}}))
OR (r.status IN {_REPORT_DUE} AND (
    SELECT max(e.at) FROM referral_event e
    WHERE e.referral_id = r.id AND e.to_status = r.status AND e.from_status IS DISTINCT FROM e.to_status
   ) < now() - make_interval(days => {{0}}))
"""
FILTER_OVERDUE = _OVERDUE
FILTER_NOT_OVERDUE = f"NOT coalesce(({_OVERDUE}), false)"
_STATUS_ORDER = ", ".join(f"'{s.value}'" for s in Status)
_PRIORITY_RANK = """CASE coalesce(r.priority, r.form->>'urgency_requested')
    WHEN 'urgent' THEN 0 WHEN 'soon' THEN 1 ELSE 2 END"""
_SUBMITTED = "coalesce(r.submitted_at, r.created_at)"
# Sort keys of GET /referrals → expressions. priority ascending: most urgent first, then longest waiting.
LIST_SORTS: dict[str, tuple[str, ...]] = {
    "submitted": (_SUBMITTED,),
    "updated": ("r.updated_at",),
    "priority": (_PRIORITY_RANK, _SUBMITTED),
    "status": (f"array_position(ARRAY[{_STATUS_ORDER}]::text[], r.status)", "r.updated_at"),
}
# A different employee e-mail unlinks the old account; the referral_link_employee trigger then
# links the account with the new address, if there is one.
UPDATE_FORM = """
UPDATE referral SET form = $2, employee_email = $3, employee_name = $4, department = $5,
       employee_user_id = CASE WHEN employee_email = $3 THEN employee_user_id END,
       updated_at = now(), version = version + 1
WHERE id = $1
"""
UPDATE_STATE = """
UPDATE referral SET status = $2, decision = decision || $3::jsonb,
       priority = coalesce($4, priority), modality = coalesce($5, modality),
       clinician_grade = coalesce($6, clinician_grade),
       submitted_at = CASE WHEN $2 = 'SUBMITTED' THEN now() ELSE submitted_at END,
       updated_at = now(), version = version + 1
WHERE id = $1
"""
# A deleted draft keeps its row (the append-only history refers to it) but nothing personal.
ERASE_DRAFT = """
UPDATE referral SET deleted_at = now(), form = '{}'::jsonb, employee_email = '', employee_name = '',
       department = '', employee_user_id = NULL, updated_at = now(), version = version + 1
WHERE id = $1 AND status = 'DRAFT'
"""
DELETE_ATTACHMENTS = "DELETE FROM referral_attachment WHERE referral_id = $1"
SET_ACKNOWLEDGED = "UPDATE referral SET acknowledged_at = now(), updated_at = now() WHERE id = $1"
INSERT_EVENT = """
INSERT INTO referral_event (referral_id, actor_id, actor_role, action, from_status, to_status, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
LIST_EVENTS = """
SELECT id, at, actor_id, actor_role, action, from_status, to_status, detail
FROM referral_event WHERE referral_id = $1 ORDER BY id
"""
INSERT_COMMENT = """
INSERT INTO referral_comment (referral_id, author_id, author_role, body) VALUES ($1, $2, $3, $4) RETURNING id
"""
LIST_COMMENTS = """
SELECT c.id, c.author_id, coalesce(nullif(u.full_name, ''), u.email) AS author_name, c.author_role, c.body,
       c.created_at
FROM referral_comment c JOIN app_user u ON u.id = c.author_id
WHERE c.referral_id = $1 ORDER BY c.created_at, c.id
"""
INSERT_ATTACHMENT = """
INSERT INTO referral_attachment (referral_id, kind, filename, content_type, size_bytes, sha256, scan_status,
                                 data, uploaded_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id, kind, filename, content_type, size_bytes, sha256, created_at
"""
ATTACHMENT_TOTAL = "SELECT coalesce(sum(size_bytes), 0) FROM referral_attachment WHERE referral_id = $1"
LIST_ATTACHMENTS = """
SELECT id, kind, filename, content_type, size_bytes, sha256, created_at
FROM referral_attachment WHERE referral_id = $1 ORDER BY created_at, id
"""
GET_ATTACHMENT_DATA = """
SELECT filename, content_type, data FROM referral_attachment WHERE referral_id = $1 AND id = $2
"""
INSERT_LINK = """
INSERT INTO entry_link (token_hash, purpose, email, organisation_id, referral_id, expires_at)
VALUES ($1, 'referral_ack', $2, $3, $4, $5)
"""
REDEEM_LINK = """
UPDATE entry_link SET used_at = now()
WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
RETURNING email, organisation_id, referral_id
"""


def _summary(row: asyncpg.Record) -> ReferralSummary:
    return ReferralSummary.model_validate({k: row[k] for k in ReferralSummary.model_fields})


async def insert_referral(conn: asyncpg.Connection, **f: Any) -> UUID:
    referral_id: UUID = await conn.fetchval(
        INSERT_REFERRAL,
        f["organisation_id"],
        f["provider_id"],
        f["referrer_id"],
        f["employee_email"],
        f["employee_name"],
        f["department"],
        f["form"],
    )
    return referral_id


async def get_visible(
    conn: asyncpg.Connection, referral_id: UUID, scope: Scope, *, lock: bool = False
) -> ReferralRead | None:
    row = await conn.fetchrow(LOCK_VISIBLE if lock else GET_VISIBLE, referral_id, *scope.params())
    return ReferralRead.model_validate(dict(row)) if row else None


SUBJECTS = "SELECT id, employee_user_id, employee_email FROM referral WHERE id = ANY($1::uuid[]) ORDER BY id"


async def subjects(conn: asyncpg.Connection, ids: list[UUID]) -> list[tuple[UUID, UUID | None, str]]:
    """Whom each referral is about (account, e-mail): what a list read's audit rows name."""
    rows = await conn.fetch(SUBJECTS, ids) if ids else []
    return [(r["id"], r["employee_user_id"], r["employee_email"]) for r in rows]


async def list_visible(
    conn: asyncpg.Connection, scope: Scope, *, page: ListParams, filters: ReferralFilters
) -> tuple[list[ReferralSummary], int]:
    """One page of the referrals in scope matching the filters, and how many match in all."""
    sql = SqlParams(*scope.params())
    where = sql.where(LIST_VISIBLE_WHERE)
    _add_filters(where, filters, page.q)
    order = order_by(page.sort, descending=page.descending, columns=LIST_SORTS, tiebreak="r.id")
    cut = f"LIMIT {sql.add(page.limit)} OFFSET {sql.add(page.offset)}"
    statement = f"{LIST_SELECT} WHERE {where} {order} {cut}"
    rows = await conn.fetch(statement, *sql.values)
    if rows:
        return [_summary(r) for r in rows], int(rows[0]["total"])
    if page.offset == 0:
        return [], 0
    count_sql = f"{LIST_COUNT} WHERE {where}"
    return [], int(await conn.fetchval(count_sql, *sql.values[:-2]))


def _add_filters(where: Where, filters: ReferralFilters, search: str | None) -> None:
    if search:
        where.add(FILTER_SEARCH, like_pattern(search))
    if filters.statuses:
        where.add(FILTER_STATUS, [s.value for s in filters.statuses])
    if filters.department:
        where.add(FILTER_DEPARTMENT, filters.department.strip().lower())
    if filters.submitted_from:
        where.add(FILTER_SUBMITTED_FROM, filters.submitted_from)
    if filters.submitted_to:
        where.add(FILTER_SUBMITTED_TO, filters.submitted_to)
    if filters.overdue is not None:
        where.add(FILTER_OVERDUE if filters.overdue else FILTER_NOT_OVERDUE, OVERDUE_DAYS)


async def update_form(
    conn: asyncpg.Connection, referral_id: UUID, form: dict[str, Any], email: str, name: str, department: str
) -> None:
    await conn.execute(UPDATE_FORM, referral_id, form, email, name, department)


async def update_state(
    conn: asyncpg.Connection,
    referral_id: UUID,
    status: str,
    decision: dict[str, Any],
    triage: dict[str, str | None],
) -> None:
    await conn.execute(
        UPDATE_STATE,
        referral_id,
        status,
        decision,
        triage.get("priority"),
        triage.get("modality"),
        triage.get("clinician_grade"),
    )


async def erase_draft(conn: asyncpg.Connection, referral_id: UUID) -> None:
    await conn.execute(DELETE_ATTACHMENTS, referral_id)
    await conn.execute(ERASE_DRAFT, referral_id)


async def set_acknowledged(conn: asyncpg.Connection, referral_id: UUID) -> None:
    await conn.execute(SET_ACKNOWLEDGED, referral_id)


LOCK_STATUS = "SELECT status FROM referral WHERE id = $1 AND deleted_at IS NULL FOR UPDATE"


async def lock_status(conn: asyncpg.Connection, referral_id: UUID) -> str | None:
    """The referral's state, locked for an event that records a fact without changing it."""
    found = await conn.fetchval(LOCK_STATUS, referral_id)
    return str(found) if found is not None else None


async def insert_event(
    conn: asyncpg.Connection,
    referral_id: UUID,
    actor_id: UUID | None,
    actor_role: str,
    action: str,
    from_status: str | None,
    to_status: str,
    detail: dict[str, Any],
) -> None:
    await conn.execute(
        INSERT_EVENT, referral_id, actor_id, actor_role, action, from_status, to_status, detail
    )


async def list_events(conn: asyncpg.Connection, referral_id: UUID) -> list[ReferralEvent]:
    return [ReferralEvent.model_validate(dict(r)) for r in await conn.fetch(LIST_EVENTS, referral_id)]


async def insert_comment(
    conn: asyncpg.Connection, referral_id: UUID, author_id: UUID, role: str, body: str
) -> UUID:
    comment_id: UUID = await conn.fetchval(INSERT_COMMENT, referral_id, author_id, role, body)
    return comment_id


async def list_comments(conn: asyncpg.Connection, referral_id: UUID) -> list[Comment]:
    return [Comment.model_validate(dict(r)) for r in await conn.fetch(LIST_COMMENTS, referral_id)]


async def attachment_total(conn: asyncpg.Connection, referral_id: UUID) -> int:
    return int(await conn.fetchval(ATTACHMENT_TOTAL, referral_id))


async def insert_attachment(conn: asyncpg.Connection, **f: Any) -> Attachment:
    row = await conn.fetchrow(
        INSERT_ATTACHMENT,
        f["referral_id"],
        f["kind"],
        f["filename"],
        f["content_type"],
        f["size_bytes"],
        f["sha256"],
        f["scan_status"],
        f["data"],
        f["uploaded_by"],
    )
    if row is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    return Attachment.model_validate(dict(row))


async def list_attachments(conn: asyncpg.Connection, referral_id: UUID) -> list[Attachment]:
    return [Attachment.model_validate(dict(r)) for r in await conn.fetch(LIST_ATTACHMENTS, referral_id)]


async def get_attachment_data(
    conn: asyncpg.Connection, referral_id: UUID, attachment_id: UUID
) -> tuple[str, str, bytes] | None:
    row = await conn.fetchrow(GET_ATTACHMENT_DATA, referral_id, attachment_id)
    return (row["filename"], row["content_type"], bytes(row["data"])) if row else None


async def insert_link(
    conn: asyncpg.Connection,
    token_hash: bytes,
    email: str,
    org_id: UUID,
    referral_id: UUID,
    expires_at: datetime,
) -> None:
    await conn.execute(INSERT_LINK, token_hash, email, org_id, referral_id, expires_at)


async def redeem_link(conn: asyncpg.Connection, token_hash: bytes) -> tuple[str, UUID, UUID] | None:
    row = await conn.fetchrow(REDEEM_LINK, token_hash)
    return (row["email"], row["organisation_id"], row["referral_id"]) if row else None
