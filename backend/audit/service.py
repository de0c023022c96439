"""Append-only audit records.

Every read or change of personal or clinical data calls ``record`` inside the same transaction
as the read or change, so the data and its audit row commit (or vanish) together. A row about a
person's records names that person (``subject=Subject(...)``), so that they find it in their
access log; ``record`` cannot be called without saying whom the record is about (``NoSubject``
for records about nobody). A list read writes one row per record listed (``record_each``).
A refusal is written with ``refused``, which outlives the caller's transaction however deeply
the refused use-case was nested (ADR 0002).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import overload
from uuid import UUID

import asyncpg

from backend.audit import queries
from backend.audit.schemas import AccessLogEntry, Actor, AuditSubject, NoSubject, Outcome, Subject
from backend.core.errors import AppError, Conflict, Forbidden, Invalid, NotFound, PayloadTooLarge
from backend.core.http import current_request_id
from backend.db import pool

__all__ = [
    "NoSubject",
    "Subject",
    "access_log_for",
    "audited_refusals",
    "event_record",
    "event_values",
    "record",
    "record_each",
    "refused",
]


class _Unset:
    """A legacy subject keyword that was not given."""


_UNSET = _Unset()


def _subject_columns(
    subject: AuditSubject | None, user_id: UUID | _Unset | None, email: str | _Unset | None
) -> tuple[UUID | None, str | None]:
    """The subject's two columns, from ``subject=`` or the older ``subject_user_id=``/``subject_email=``."""
    legacy = not (isinstance(user_id, _Unset) and isinstance(email, _Unset))
    if subject is None and not legacy:
        raise TypeError("an audit row names its subject: subject=Subject(...) or subject=NoSubject")
    if subject is not None and legacy:
        raise TypeError("give subject= or subject_user_id=/subject_email=, not both")
    if isinstance(subject, Subject):
        return subject.user_id, subject.email
    if subject is NoSubject:
        return None, None
    return (
        None if isinstance(user_id, _Unset) else user_id,
        None if isinstance(email, _Unset) else (email or None),
    )


def event_values(
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: UUID | str | None = None,
    *,
    outcome: Outcome = "ok",
    subject: AuditSubject | None = None,
    subject_user_id: UUID | _Unset | None = _UNSET,
    subject_email: str | _Unset | None = _UNSET,
) -> list[object]:
    """One audit event's ten values, in the column order of ``queries.INSERT_EVENT``."""
    user_id, email = _subject_columns(subject, subject_user_id, subject_email)
    return [
        actor.id if actor else None,
        actor.role if actor else "system",
        actor.organisation_id if actor else None,
        action,
        entity,
        str(entity_id) if entity_id is not None else None,
        user_id,
        email,
        outcome,
        current_request_id(),
    ]


def event_record(values: list[object]) -> dict[str, object]:
    """``event_values`` by column name (``queries.EVENT_COLUMNS``), for a statement that takes its
    audit rows from JSON (``queries.insert_events_from_json``)."""
    return dict(zip(queries.EVENT_COLUMNS, values, strict=True))


@overload
async def record(
    conn: asyncpg.Connection,
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: UUID | str | None = None,
    *,
    subject: AuditSubject,
    outcome: Outcome = "ok",
) -> None: ...


@overload
async def record(
    conn: asyncpg.Connection,
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: UUID | str | None = None,
    *,
    subject_user_id: UUID | None,
    subject_email: str | None = None,
    outcome: Outcome = "ok",
) -> None: ...


@overload
async def record(
    conn: asyncpg.Connection,
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: UUID | str | None = None,
    *,
    subject_email: str | None,
    outcome: Outcome = "ok",
) -> None: ...


async def record(
    conn: asyncpg.Connection,
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: UUID | str | None = None,
    *,
    subject: AuditSubject | None = None,
    subject_user_id: UUID | _Unset | None = _UNSET,
    subject_email: str | _Unset | None = _UNSET,
    outcome: Outcome = "ok",
) -> None:
    """One audit row, in the caller's transaction. The subject is required: ``subject=Subject(...)``
    for anything about a person's records, ``subject=NoSubject`` for anything else (the older
    ``subject_user_id=``/``subject_email=`` keywords still work)."""
    values = event_values(
        actor, action, entity, entity_id, outcome=outcome,
        subject=subject, subject_user_id=subject_user_id, subject_email=subject_email,
    )  # fmt: skip
    await queries.insert_event(conn, values)


async def record_each(
    conn: asyncpg.Connection,
    actor: Actor | None,
    action: str,
    entity: str,
    listed: Sequence[tuple[UUID | str, AuditSubject]],
) -> None:
    """A list read: one row per record listed (its id and its person), so that everyone listed finds
    the read in their access log; one row naming nobody when the list is empty. One statement."""
    if not listed:
        await record(conn, actor, action, entity, None, subject=NoSubject)
        return
    first = event_values(actor, action, entity, None, subject=NoSubject)
    people = [s if isinstance(s, Subject) else None for _, s in listed]
    await queries.insert_events(
        conn,
        first,
        entity_ids=[str(entity_id) for entity_id, _ in listed],
        user_ids=[p.user_id if p else None for p in people],
        emails=[p.email if p else None for p in people],
    )


async def refused(
    conn: asyncpg.Connection,
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: UUID | str | None = None,
    *,
    outcome: Outcome,
    subject: AuditSubject,
) -> None:
    """A refused request (not found, denied, invalid), written so that no rollback can take it back.

    Call it after the refused use-case's transaction has rolled back. With no transaction open
    on ``conn`` the row is written at once. Otherwise the refused use-case ran inside another
    use-case's transaction, which the refusal is about to roll back too: the row is written and
    committed on another connection of the same pool. (A connection from no pool, such as a
    test's own, writes in place.)
    """
    values = event_values(actor, action, entity, entity_id, outcome=outcome, subject=subject)
    if not conn.is_in_transaction() or not pool.pooled(conn):
        await queries.insert_event(conn, values)
        return
    async with pool.separate(conn) as other:
        await queries.insert_event(other, values)


def refusal_outcome(error: AppError) -> Outcome | None:
    """How a refusal is audited: not found, denied (forbidden or not in this state), invalid."""
    if isinstance(error, NotFound):
        return "not_found"
    if isinstance(error, Forbidden | Conflict):
        return "denied"
    if isinstance(error, Invalid | PayloadTooLarge):
        return "invalid"
    return None


@asynccontextmanager
async def audited_refusals(
    conn: asyncpg.Connection,
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: UUID | str | None,
    *,
    subject: AuditSubject = NoSubject,
) -> AsyncIterator[None]:
    """Around a use-case (outside its transaction): a refusal raised inside is written with
    ``refused`` under this use-case's action, then raised again."""
    try:
        yield
    except AppError as error:
        outcome = refusal_outcome(error)
        if outcome is not None:
            await refused(conn, actor, action, entity, entity_id, outcome=outcome, subject=subject)
        raise


async def access_log_for(
    conn: asyncpg.Connection, actor: Actor, email: str, *, limit: int, offset: int
) -> list[AccessLogEntry]:
    """Who read or changed records about this person; reading it is itself audited."""
    if actor.id is None:
        raise ValueError("an access log belongs to a person")
    async with conn.transaction():
        entries = await queries.access_log(conn, actor.id, email, limit, offset)
        await record(conn, actor, "access_log.read", "app_user", actor.id, subject=Subject(user_id=actor.id))
    return entries
