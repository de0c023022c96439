"""SQL for audit_event only. The table is append-only (INSERT and SELECT)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from backend.audit.schemas import AccessLogEntry

_EVENT_COLUMNS = """actor_id, actor_role, organisation_id, action, entity, entity_id, subject_user_id,
                    subject_email, outcome, request_id"""
_EVENT_TYPES = ("uuid", "text", "uuid", "text", "text", "text", "uuid", "text", "text", "text")
INSERT_EVENT = f"""
INSERT INTO audit_event ({_EVENT_COLUMNS})
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
"""


EVENT_COLUMNS = tuple(name.strip() for name in _EVENT_COLUMNS.split(","))


def insert_events_from_json(source: str, record: str) -> str:
    """SQL for a data-modifying CTE adding one audit event per row of ``source`` (a join of the
    same statement's CTEs), its columns taken by name from the JSON object ``record`` (an
    expression over ``source`` whose keys are ``EVENT_COLUMNS``, as ``service.event_record``
    gives): a change and its audit rows in one statement."""
    picked = ", ".join(f"e.{name}" for name in EVENT_COLUMNS)
    return (
        f"INSERT INTO audit_event ({_EVENT_COLUMNS}) SELECT {picked} "
        f"FROM {source}, jsonb_populate_record(NULL::audit_event, {record}) e"
    )


# One event per listed record: the first eight values shared ($1-$6 and $9-$10 in INSERT_EVENT's
# order, the subject columns left out), then the arrays of entity ids, subject user ids and e-mails.
INSERT_EVENTS = f"""
INSERT INTO audit_event ({_EVENT_COLUMNS})
SELECT $1::uuid, $2::text, $3::uuid, $4::text, $5::text, l.entity_id, l.user_id, l.email, $6::text, $7::text
FROM unnest($8::text[], $9::uuid[], $10::text[]) AS l(entity_id, user_id, email)
"""

# Events about a person: every row naming them as its subject, by their account or by the e-mail
# address their records carry (referrals before they had an account, surveillance records).
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


async def insert_event(conn: asyncpg.Connection, values: Sequence[object]) -> None:
    """One audit event from its ten values, in the column order of ``INSERT_EVENT``."""
    await conn.execute(INSERT_EVENT, *values)


async def insert_events(
    conn: asyncpg.Connection,
    shared: Sequence[object],
    *,
    entity_ids: Sequence[str],
    user_ids: Sequence[UUID | None],
    emails: Sequence[str | None],
) -> None:
    """One audit event per listed record; ``shared`` is one event's ten values (subject ignored)."""
    actor_id, role, organisation_id, action, entity, _id, _user, _email, outcome, request_id = shared
    await conn.execute(
        INSERT_EVENTS,
        actor_id, role, organisation_id, action, entity, outcome, request_id,
        list(entity_ids), list(user_ids), list(emails),
    )  # fmt: skip


async def access_log(
    conn: asyncpg.Connection, user_id: UUID, email: str, limit: int, offset: int
) -> list[AccessLogEntry]:
    rows = await conn.fetch(ACCESS_LOG, user_id, email, limit, offset)
    return [AccessLogEntry.model_validate(dict(r)) for r in rows]
