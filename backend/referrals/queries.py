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

from backend.referrals.schemas import Attachment, Comment, ReferralEvent, ReferralRead, ReferralSummary


@dataclass(frozen=True)
class Scope:
    kind: str  # provider | client_admin | manager | employee
    organisation_id: UUID
    user_id: UUID
    department: str

    def params(self) -> tuple[str, UUID, UUID, str]:
        return (self.kind, self.organisation_id, self.user_id, self.department.strip().lower())


_VISIBLE = """(
    ($2 = 'provider' AND r.provider_id = $3 AND r.status <> 'DRAFT')
 OR ($2 = 'client_admin' AND r.organisation_id = $3 AND (r.status <> 'DRAFT' OR r.referrer_id = $4))
 OR ($2 = 'manager' AND r.organisation_id = $3 AND (r.referrer_id = $4
        OR ($5 <> '' AND lower(r.department) = $5 AND r.status <> 'DRAFT')))
 OR ($2 = 'employee' AND r.employee_user_id = $4 AND r.status <> 'DRAFT')
)"""

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
# Priority first (urgent, soon, routine, untriaged), then the oldest submission first.
LIST_VISIBLE = f"""
SELECT {_SUMMARY_COLUMNS}, count(*) OVER () AS total
FROM referral r JOIN organisation o ON o.id = r.organisation_id
WHERE {_VISIBLE}
  AND ($1::text[] IS NULL OR r.status = ANY($1::text[]))
ORDER BY CASE WHEN $8 THEN CASE coalesce(r.priority, r.form->>'urgency_requested')
                                WHEN 'urgent' THEN 0 WHEN 'soon' THEN 1 ELSE 2 END END,
         CASE WHEN $8 THEN coalesce(r.submitted_at, r.created_at) END ASC,
         r.updated_at DESC, r.id
LIMIT $6 OFFSET $7
"""
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
    conn: asyncpg.Connection, scope: Scope, statuses: list[str] | None, limit: int, offset: int, queue: bool
) -> tuple[list[ReferralSummary], int]:
    rows = await conn.fetch(LIST_VISIBLE, statuses, *scope.params(), limit, offset, queue)
    total = int(rows[0]["total"]) if rows else 0
    return [_summary(r) for r in rows], total


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


async def set_acknowledged(conn: asyncpg.Connection, referral_id: UUID) -> None:
    await conn.execute(SET_ACKNOWLEDGED, referral_id)


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
