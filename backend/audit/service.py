"""Append-only audit records, written in the caller's transaction.

Every read or change of personal or clinical data calls ``record`` inside the same
transaction as the read or change, so the data and its audit row commit (or vanish) together.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from backend.audit import queries
from backend.audit.schemas import AccessLogEntry, Actor, Outcome
from backend.core.http import current_request_id


def event_values(
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: UUID | str | None = None,
    *,
    outcome: Outcome = "ok",
    subject_user_id: UUID | None = None,
    subject_email: str | None = None,
) -> list[object]:
    """One audit event's ten values, in the column order of ``queries.INSERT_EVENT``."""
    return [
        actor.id if actor else None,
        actor.role if actor else "system",
        actor.organisation_id if actor else None,
        action,
        entity,
        str(entity_id) if entity_id is not None else None,
        subject_user_id,
        subject_email,
        outcome,
        current_request_id(),
    ]


async def record(
    conn: asyncpg.Connection,
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: UUID | str | None = None,
    *,
    outcome: Outcome = "ok",
    subject_user_id: UUID | None = None,
    subject_email: str | None = None,
) -> None:
    values = event_values(
        actor, action, entity, entity_id,
        outcome=outcome, subject_user_id=subject_user_id, subject_email=subject_email,
    )  # fmt: skip
    await queries.insert_event(conn, values)


async def access_log_for(
    conn: asyncpg.Connection, actor: Actor, email: str, *, limit: int, offset: int
) -> list[AccessLogEntry]:
    """Who read or changed records about this person; reading it is itself audited."""
    if actor.id is None:
        raise ValueError("an access log belongs to a person")
    async with conn.transaction():
        entries = await queries.access_log(conn, actor.id, email, limit, offset)
        await record(conn, actor, "access_log.read", "app_user", actor.id, subject_user_id=actor.id)
    return entries
