"""Programmes, enrolment (one by one and by CSV) and named recall lists.

Who administers programmes: the employer's client administrators, and the staff of the employer's
OH provider. Named due/overdue lists go only to client administrators and clinicians (§8.2
rule 9). Each public function owns its transaction and writes its audit rows in it.
"""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

import asyncpg

from backend.audit import service as audit
from backend.audit.schemas import NoSubject, Subject
from backend.auth.schemas import Role, User
from backend.core.clock import utc_now
from backend.surveillance import csv_import, queries
from backend.surveillance.errors import (
    EnrolmentNotFound,
    ProgrammeNotFound,
    SurveillanceConflict,
    SurveillanceForbidden,
    SurveillanceInvalid,
)
from backend.surveillance.queries import Scope
from backend.surveillance.recall import DEFAULT_RECALL, recall_state
from backend.surveillance.schemas import (
    Enrolment,
    EnrolmentCreate,
    FitnessStandards,
    ImportReport,
    ImportRow,
    Programme,
    ProgrammeCreate,
    RecallItem,
    SurveillanceCounts,
)

ADMIN_ROLES = frozenset({Role.client_admin, Role.clinician, Role.provider_admin})
NAMED_LIST_ROLES = frozenset({Role.client_admin, Role.clinician})
DUE_SOON_DAYS = 30


def scope_for(user: User) -> Scope:
    return Scope(user.role.value, user.organisation_id, user.id, user.department or "", user.email)


def _require(user: User, roles: frozenset[Role], what: str) -> None:
    if user.role not in roles:
        raise SurveillanceForbidden(f"Your role cannot {what}.")


async def _employer_for(conn: asyncpg.Connection, user: User, organisation_id: UUID | None) -> UUID:
    """The employer a programme is for: a client admin's own; provider staff name one of their clients."""
    if user.role == Role.client_admin:
        if organisation_id not in (None, user.organisation_id):
            raise ProgrammeNotFound("No such employer.")
        return user.organisation_id
    if organisation_id is None:
        raise SurveillanceInvalid(
            "Say which employer the programme is for.",
            errors=[
                {"field": "organisation_id", "message": "required for provider staff", "type": "missing"}
            ],
        )
    if await queries.provider_of_employer(conn, organisation_id) != user.provider_id:
        raise ProgrammeNotFound("No such employer.")
    return organisation_id


async def create_programme(conn: asyncpg.Connection, user: User, body: ProgrammeCreate) -> Programme:
    _require(user, ADMIN_ROLES, "set up surveillance programmes")
    async with conn.transaction():
        employer = await _employer_for(conn, user, body.organisation_id)
        if await queries.programme_name_taken(conn, employer, body.name):
            raise SurveillanceConflict(f"This employer already has a programme named {body.name!r}.")
        recall = body.recall or DEFAULT_RECALL[body.kind]
        standards = body.standards.model_dump() if body.standards else {}
        if body.kind == "fitness_for_task" and not standards:
            standards = FitnessStandards().model_dump()
        programme = await queries.insert_programme(
            conn,
            organisation_id=employer,
            provider_id=user.provider_id,
            kind=body.kind,
            task_type=body.task_type,
            name=body.name,
            recall=[i.model_dump() for i in recall],
            standards=standards,
            created_by=user.id,
        )
        await audit.record(
            conn, user.actor(), "hs_programme.create", "hs_programme", programme.id, subject=NoSubject
        )
    return programme


async def list_programmes(
    conn: asyncpg.Connection, user: User, organisation_id: UUID | None
) -> list[Programme]:
    _require(user, ADMIN_ROLES, "see surveillance programmes")
    async with conn.transaction():
        found = await queries.list_programmes(conn, scope_for(user), organisation_id)
        await audit.record(conn, user.actor(), "hs_programme.list", "hs_programme", None, subject=NoSubject)
    return found


async def _programme(conn: asyncpg.Connection, user: User, programme_id: UUID) -> Programme:
    programme = await queries.get_programme(conn, programme_id, scope_for(user))
    if programme is None:
        raise ProgrammeNotFound()
    return programme


async def _enrol_one(
    conn: asyncpg.Connection, user: User, programme: Programme, body: EnrolmentCreate
) -> UUID:
    """Enrol within the caller's transaction; raises SurveillanceConflict/Invalid naming the problem."""
    owner = await queries.number_owner(conn, programme.organisation_id, body.person.employee_number)
    if owner is not None and owner != body.person.email:
        raise SurveillanceConflict(
            "This employee number belongs to someone else.",
            errors=[
                {
                    "field": "employee_number",
                    "message": "already used for another person",
                    "type": "duplicate",
                }
            ],
        )
    person_id = await queries.upsert_person(conn, programme.organisation_id, body.person)
    if await queries.active_enrolment(conn, programme.id, person_id):
        raise SurveillanceConflict(
            "This person is already enrolled in the programme.",
            errors=[{"field": "email", "message": "already enrolled in this programme", "type": "duplicate"}],
        )
    enrolment_id = await queries.insert_enrolment(
        conn,
        programme_id=programme.id,
        person_id=person_id,
        organisation_id=programme.organisation_id,
        exposure=body.exposure,
        start_date=body.start_date or utc_now().date(),
        enrolled_by=user.id,
    )
    await audit.record(
        conn,
        user.actor(),
        "hs_enrolment.create",
        "hs_enrolment",
        enrolment_id,
        subject=Subject(email=body.person.email),
    )
    return enrolment_id


async def enrol(conn: asyncpg.Connection, user: User, programme_id: UUID, body: EnrolmentCreate) -> Enrolment:
    _require(user, ADMIN_ROLES, "enrol employees")
    async with conn.transaction():
        programme = await _programme(conn, user, programme_id)
        enrolment_id = await _enrol_one(conn, user, programme, body)
        found = await queries.get_enrolment(conn, enrolment_id, scope_for(user))
    if found is None:
        raise EnrolmentNotFound()
    return found


async def enrol_csv(conn: asyncpg.Connection, user: User, programme_id: UUID, data: bytes) -> ImportReport:
    """Valid rows are imported (each in its own savepoint); invalid rows are reported, never half-stored."""
    _require(user, ADMIN_ROLES, "enrol employees")
    async with conn.transaction():
        programme = await _programme(conn, user, programme_id)
        rows: list[ImportRow] = []
        for parsed in csv_import.parse(data):
            rows.append(await _import_row(conn, user, programme, parsed))
        imported = sum(1 for r in rows if r.status == "imported")
        await audit.record(
            conn, user.actor(), "hs_enrolment.import", "hs_programme", programme.id, subject=NoSubject
        )
    return ImportReport(imported=imported, failed=len(rows) - imported, rows=rows)


async def _import_row(
    conn: asyncpg.Connection, user: User, programme: Programme, parsed: csv_import.ParsedRow
) -> ImportRow:
    if parsed.enrolment is None:
        return ImportRow(row=parsed.line, status="error", errors=parsed.errors)
    try:
        async with conn.transaction():
            enrolment_id = await _enrol_one(conn, user, programme, parsed.enrolment)
    except (SurveillanceConflict, SurveillanceInvalid) as exc:
        return ImportRow(
            row=parsed.line,
            status="error",
            errors=exc.errors or [{"field": "row", "message": exc.detail, "type": "invalid"}],
        )
    return ImportRow(row=parsed.line, status="imported", enrolment_id=enrolment_id)


async def list_enrolments(conn: asyncpg.Connection, user: User, programme_id: UUID) -> list[Enrolment]:
    _require(user, ADMIN_ROLES, "see enrolments")
    async with conn.transaction():
        programme = await _programme(conn, user, programme_id)
        found = await queries.list_enrolments(conn, programme.id, scope_for(user))
        emails = await queries.person_emails(conn, list({e.person_id for e in found}))
        await audit.record_each(
            conn, user.actor(), "hs_enrolment.list", "hs_enrolment",
            [(e.id, Subject(email=emails[e.person_id])) for e in found],
        )  # fmt: skip
    return found


async def end_enrolment(conn: asyncpg.Connection, user: User, enrolment_id: UUID) -> None:
    _require(user, ADMIN_ROLES, "end enrolments")
    async with conn.transaction():
        found = await queries.get_enrolment(conn, enrolment_id, scope_for(user))
        if found is None:
            raise EnrolmentNotFound()
        await queries.end_enrolment(conn, enrolment_id)
        emails = await queries.person_emails(conn, [found.person_id])
        await audit.record(
            conn, user.actor(), "hs_enrolment.end", "hs_enrolment", enrolment_id,
            subject=Subject(email=emails[found.person_id]),
        )  # fmt: skip


async def recalls(
    conn: asyncpg.Connection, user: User, organisation_id: UUID | None, *, limit: int
) -> list[RecallItem]:
    """Who is overdue or due within 30 days, by name: client administrators and clinicians only."""
    _require(user, NAMED_LIST_ROLES, "see named recall lists")
    today = utc_now().date()
    async with conn.transaction():
        employer = await _employer_for(conn, user, organisation_id)
        rows = await queries.recalls(conn, employer, today + timedelta(days=DUE_SOON_DAYS), limit)
        await audit.record_each(
            conn, user.actor(), "hs_recall.list", "hs_enrolment",
            [(r["enrolment_id"], Subject(email=r["email"])) for r in rows],
        )  # fmt: skip
    return [
        queries.recall_item(r, recall_state(r["next_due_date"], today, soon_days=DUE_SOON_DAYS)) for r in rows
    ]


async def counts(
    conn: asyncpg.Connection, organisation_id: UUID, *, start: date, end: date, today: date
) -> SurveillanceCounts:
    """Unsuppressed programme counts for the employer report (which suppresses them and audits the read)."""
    return await queries.surveillance_counts(conn, organisation_id, start, end, today)
