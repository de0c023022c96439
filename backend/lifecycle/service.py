"""The data subject's rights, exercised by the provider admin on request (domain.md §4.3).

- Subject access: everything held on one person at the provider's client employers, as JSON and as
  a readable PDF, free of charge. Producing it is audited with the person as subject.
- Rectification: name, e-mail, phone and date of birth corrected where they are current (account,
  surveillance register, appointments still to come); the old and new values are kept. Clinical
  history (referral forms, reports, results) is never rewritten.
- Erasure: only where no record about the person must still be kept; otherwise refused with the
  reason and the date until which the records are kept (``RetentionApplies``).

A person outside the admin's client employers does not exist for the admin (404).
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from backend.audit import service as audit
from backend.auth.schemas import User
from backend.lifecycle import export_queries, policy, queries, render
from backend.lifecycle.errors import EmailTaken, NotAnEmployee, PersonNotFound, RetentionApplies
from backend.lifecycle.schemas import (
    DetailChange,
    DetailsChange,
    Erasure,
    PersonRow,
    Rectification,
    Section,
    SubjectAccessExport,
    SubjectQuery,
)

ROW_LIMIT = 5000
# Links in messages carry single-use tokens; long opaque strings may be tokens too.
_LINK = re.compile(r"https?://\S+")
_OPAQUE = re.compile(r"\b[A-Za-z0-9_-]{24,}\b")


def redact(text: str) -> str:
    return _OPAQUE.sub("[removed]", _LINK.sub("[link removed]", text))


async def _subject(conn: asyncpg.Connection, admin: User, query: SubjectQuery) -> tuple[UUID | None, str]:
    if query.user_id is not None:
        person = await queries.get_person(conn, query.user_id, admin.provider_id)
        if person is None:
            raise PersonNotFound("No such person at your client employers.")
        return person.id, person.email
    assert query.email is not None  # noqa: S101  (SubjectQuery requires one of the two)
    found = await queries.find_person_by_email(conn, query.email, admin.provider_id)
    return (found.id if found else None), query.email


async def _sections(conn: asyncpg.Connection, admin: User, user_id: UUID | None, email: str) -> list[Section]:
    sections = []
    for name in export_queries.SECTIONS:
        rows, truncated = await export_queries.section(
            conn, name, user_id=user_id, email=email, provider_id=admin.provider_id, row_limit=ROW_LIMIT
        )
        if name == "messages":
            rows = [{**row, "subject": redact(row["subject"]), "body": redact(row["body"])} for row in rows]
        sections.append(Section(name=name, rows=rows, truncated=truncated))
    return sections


async def export(
    conn: asyncpg.Connection, admin: User, query: SubjectQuery, *, now: datetime
) -> SubjectAccessExport:
    """Everything held on the person (one consistent snapshot); audited with the person as subject."""
    actor = admin.actor()
    refusals = audit.audited_refusals(conn, actor, "subject_access.export", "person", query.user_id)
    async with refusals, conn.transaction(isolation="repeatable_read"):
        user_id, email = await _subject(conn, admin, query)
        sections = await _sections(conn, admin, user_id, email)
        if not any(s.rows for s in sections):
            raise PersonNotFound("No such person at your client employers.")
        await audit.record(
            conn, actor, "subject_access.export", "person", user_id,
            subject=audit.Subject(user_id=user_id, email=email),
        )  # fmt: skip
    return SubjectAccessExport(
        produced_at=now, produced_by=admin.id, provider_id=admin.provider_id,
        subject_user_id=user_id, subject_email=email, sections=sections,
    )  # fmt: skip


async def export_pdf(conn: asyncpg.Connection, admin: User, query: SubjectQuery, *, now: datetime) -> bytes:
    found = await export(conn, admin, query, now=now)
    return await asyncio.to_thread(render.export_pdf, found)


# -- rectification -----------------------------------------------------------------------------


async def _person(conn: asyncpg.Connection, admin: User, user_id: UUID) -> PersonRow:
    """A person at the admin's client employers (deactivated accounts too: leavers keep their
    rights), locked for the change; an erased account is nobody."""
    person = await queries.get_person(conn, user_id, admin.provider_id)
    if person is None or person.email.endswith(queries.ERASED_DOMAIN):
        raise PersonNotFound("No such person at your client employers.")
    await queries.lock_person(conn, user_id)
    return person


def _changes(
    person: PersonRow, current: tuple[date | None, str | None], body: DetailsChange
) -> list[DetailChange]:
    birth, phone = current
    pairs: list[tuple[Any, Any, Any]] = [
        ("full_name", person.full_name, body.full_name),
        ("email", person.email, body.email),
        ("phone", phone, body.phone),
        (
            "date_of_birth",
            birth.isoformat() if birth else None,
            body.date_of_birth.isoformat() if body.date_of_birth else None,
        ),
    ]
    return [
        DetailChange(field=f, old_value=old, new_value=new)
        for f, old, new in pairs
        if new is not None and new != old
    ]


async def rectify(conn: asyncpg.Connection, admin: User, user_id: UUID, body: DetailsChange) -> Rectification:
    """Correct current personal details; each change is kept, old and new (append-only)."""
    actor = admin.actor()
    subject = audit.Subject(user_id=user_id)
    refusals = audit.audited_refusals(conn, actor, "person.rectify", "app_user", user_id, subject=subject)
    async with refusals, conn.transaction():
        person = await _person(conn, admin, user_id)
        changes = _changes(person, await queries.current_details(conn, person), body)
        email = body.email or person.email
        try:
            await queries.apply_details(
                conn, person, full_name=body.full_name or person.full_name, email=email,
                phone=body.phone, date_of_birth=body.date_of_birth,
            )  # fmt: skip
        except asyncpg.UniqueViolationError:
            raise EmailTaken("Another account already has this e-mail address.") from None
        for change in changes:
            await queries.insert_change(
                conn, user_id, field=change.field, old=change.old_value, new=change.new_value,
                reason=body.reason, changed_by=admin.id,
            )  # fmt: skip
        await audit.record(
            conn,
            actor,
            "person.rectify",
            "app_user",
            user_id,
            subject=audit.Subject(user_id=user_id, email=email),
        )
    return Rectification(user_id=user_id, changes=changes)


# -- erasure -----------------------------------------------------------------------------------


def _refusal(held: list[tuple[str, int, datetime]], today: date) -> RetentionApplies:
    problems, parts = [], []
    for record_class, records, last_entry in held:
        until = policy.keep_until(record_class, last_entry)
        why = policy.BY_NAME[record_class].why
        when = (
            f"must be kept until {until.isoformat()}"
            if until > today
            else (f"passed its retention period on {until.isoformat()} and awaits the clinical lead's review")
        )
        parts.append(f"{why} ({record_class}, {records} record(s)) {when}")
        problems.append(
            {"field": record_class, "message": f"kept until {until.isoformat()}", "type": "retention"}
        )
    detail = "Erasure refused: " + "; ".join(parts) + ". Rectification is still possible."
    return RetentionApplies(detail, errors=problems)


async def erase(conn: asyncpg.Connection, admin: User, user_id: UUID, *, now: datetime) -> Erasure:
    """Erase a person about whom nothing must be kept: their account, draft referrals never
    submitted, surveillance-register entry without enrolments, sessions, links and messages."""
    actor = admin.actor()
    subject = audit.Subject(user_id=user_id)
    refusals = audit.audited_refusals(conn, actor, "person.erase", "app_user", user_id, subject=subject)
    async with refusals, conn.transaction():
        person = await _person(conn, admin, user_id)
        if person.role != "employee":
            raise NotAnEmployee(
                "Only an employee's records are erased here; deactivate staff accounts instead."
            )
        held = await queries.holds(conn, person)
        if held:
            raise _refusal(held, now.date())
        drafts = await queries.erase_person(conn, person, actor_id=admin.id)
        await audit.record(conn, actor, "person.erase", "app_user", user_id, subject=subject)
    return Erasure(user_id=user_id, erased_at=now, draft_referrals_erased=drafts)
