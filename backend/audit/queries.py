"""SQL for audit_event only. The table is append-only (INSERT and SELECT)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from backend.audit.schemas import AccessLogEntry

INSERT_EVENT = """
INSERT INTO audit_event (actor_id, actor_role, organisation_id, action, entity, entity_id,
                         subject_user_id, subject_email, outcome, request_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
"""

# Events about a person: rows naming them as subject, and rows on referrals about them.
ACCESS_LOG = """
SELECT e.at, coalesce(nullif(u.full_name, ''), 'System') AS actor_name, e.actor_role,
       o.name AS actor_organisation, e.action, e.entity, e.entity_id, e.outcome
FROM audit_event e
LEFT JOIN app_user u ON u.id = e.actor_id
LEFT JOIN organisation o ON o.id = e.organisation_id
WHERE e.subject_user_id = $1 OR e.subject_email = $2
ORDER BY e.at DESC, e.id DESC
LIMIT $3 OFFSET $4
"""

COUNT_FOR_ENTITY = "SELECT count(*) FROM audit_event WHERE entity = $1 AND entity_id = $2 AND action = $3"


async def insert_event(
    conn: asyncpg.Connection,
    *,
    actor_id: UUID | None,
    actor_role: str | None,
    organisation_id: UUID | None,
    action: str,
    entity: str,
    entity_id: str | None,
    subject_user_id: UUID | None,
    subject_email: str | None,
    outcome: str,
    request_id: str | None,
) -> None:
    await conn.execute(
        INSERT_EVENT,
        actor_id,
        actor_role,
        organisation_id,
        action,
        entity,
        entity_id,
        subject_user_id,
        subject_email,
        outcome,
        request_id,
    )


async def access_log(
    conn: asyncpg.Connection, user_id: UUID, email: str, limit: int, offset: int
) -> list[AccessLogEntry]:
    rows = await conn.fetch(ACCESS_LOG, user_id, email, limit, offset)
    return [AccessLogEntry.model_validate(dict(r)) for r in rows]
