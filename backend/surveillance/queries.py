"""SQL for programmes, people, enrolments and recall lists.

Visibility of people's records is one predicate over the caller's scope ($2 kind,
$3 organisation, $4 department, $5 e-mail), as in referrals: outside the scope a
record is simply not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from backend.core.listing import ListParams
from backend.db.sqlparams import SqlParams, like_pattern, order_by
from backend.surveillance.result_schemas import ClinicalRecord, ResultRead
from backend.surveillance.schemas import (
    Enrolment,
    EnrolmentPerson,
    PersonIn,
    Programme,
    ProgrammeCounts,
    RecallItem,
    SurveillanceCounts,
)


@dataclass(frozen=True)
class Scope:
    kind: str  # clinician | provider_admin | client_admin | manager | employee
    organisation_id: UUID  # the caller's organisation (for provider staff: the provider)
    user_id: UUID
    department: str
    email: str

    def params(self) -> tuple[str, UUID, str, str]:
        return (self.kind, self.organisation_id, self.department.strip().lower(), self.email)


# Which employers' programmes the caller may administer: their own, or their provider's clients.
_ADMINISTERS = """(
    ($2 IN ('clinician', 'provider_admin') AND g.provider_id = $3)
 OR ($2 = 'client_admin' AND g.organisation_id = $3)
)"""

_PROGRAMME_COLUMNS = (
    "g.id, g.organisation_id, g.provider_id, g.kind, g.task_type, g.name, g.recall, g.standards, g.created_at"
)

INSERT_PROGRAMME = """
INSERT INTO hs_programme (organisation_id, provider_id, kind, task_type, name, recall, standards, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id, organisation_id, provider_id, kind, task_type, name, recall, standards, created_at
"""
GET_PROGRAMME = f"""
SELECT {_PROGRAMME_COLUMNS} FROM hs_programme g WHERE g.id = $1 AND g.archived_at IS NULL AND {_ADMINISTERS}
"""
LIST_PROGRAMMES = f"""
SELECT {_PROGRAMME_COLUMNS} FROM hs_programme g
WHERE g.archived_at IS NULL AND {_ADMINISTERS} AND ($1::uuid IS NULL OR g.organisation_id = $1)
ORDER BY g.organisation_id, lower(g.name)
"""
EMPLOYER_OF_PROVIDER = "SELECT provider_id FROM organisation WHERE id = $1 AND kind = 'employer'"
PROGRAMME_NAME_TAKEN = (
    "SELECT EXISTS (SELECT 1 FROM hs_programme WHERE organisation_id = $1 AND lower(name) = lower($2))"
)

UPSERT_PERSON = """
INSERT INTO hs_person (organisation_id, email, full_name, employee_number, date_of_birth, sex, department,
                       job_title)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (organisation_id, email) DO UPDATE
SET full_name = EXCLUDED.full_name, employee_number = EXCLUDED.employee_number,
    date_of_birth = EXCLUDED.date_of_birth, sex = EXCLUDED.sex, department = EXCLUDED.department,
    job_title = EXCLUDED.job_title, updated_at = now()
RETURNING id
"""
PERSON_NUMBER_OWNER = "SELECT email FROM hs_person WHERE organisation_id = $1 AND employee_number = $2"
ACTIVE_ENROLMENT = (
    "SELECT id FROM hs_enrolment WHERE programme_id = $1 AND person_id = $2 AND ended_at IS NULL"
)
INSERT_ENROLMENT = """
INSERT INTO hs_enrolment (programme_id, person_id, organisation_id, exposure, start_date, next_due_date,
                          enrolled_by)
VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id
"""

_ENROLMENT_COLUMNS = """
e.id, e.programme_id, g.name AS programme_name, g.kind AS programme_kind, e.person_id, p.full_name,
p.employee_number, p.department, e.exposure, e.start_date, e.next_due_date, e.checks_done, e.last_check_date
"""
GET_ENROLMENT = f"""
SELECT {_ENROLMENT_COLUMNS} FROM hs_enrolment e
JOIN hs_programme g ON g.id = e.programme_id JOIN hs_person p ON p.id = e.person_id
WHERE e.id = $1 AND {_ADMINISTERS}
"""
LIST_ENROLMENTS = f"""
SELECT {_ENROLMENT_COLUMNS} FROM hs_enrolment e
JOIN hs_programme g ON g.id = e.programme_id JOIN hs_person p ON p.id = e.person_id
WHERE e.programme_id = $1 AND e.ended_at IS NULL AND {_ADMINISTERS}
ORDER BY lower(p.full_name), e.id
"""
END_ENROLMENT = "UPDATE hs_enrolment SET ended_at = now() WHERE id = $1 AND ended_at IS NULL"

# Named recall list: client administrators (their employer) and clinicians (their provider's).
RECALLS = """
SELECT e.id AS enrolment_id, e.programme_id, g.name AS programme_name, p.full_name, p.employee_number,
       p.department, e.next_due_date, p.email
FROM hs_enrolment e
JOIN hs_programme g ON g.id = e.programme_id JOIN hs_person p ON p.id = e.person_id
WHERE e.ended_at IS NULL AND g.archived_at IS NULL AND e.organisation_id = $1
  AND e.next_due_date <= $2
ORDER BY e.next_due_date, lower(p.full_name), e.id
LIMIT $3
"""

# What the results service needs about an enrolment (provider staff only call this).
ENROLMENT_PERSON = """
SELECT e.id AS enrolment_id, g.id AS programme_id, g.kind AS programme_kind, g.name AS programme_name,
       g.task_type, g.recall, g.standards, e.organisation_id, g.provider_id, p.id AS person_id, p.full_name,
       p.email, p.department, p.date_of_birth, p.sex, e.checks_done
FROM hs_enrolment e JOIN hs_programme g ON g.id = e.programme_id JOIN hs_person p ON p.id = e.person_id
WHERE e.id = $1 AND g.provider_id = $2 AND e.ended_at IS NULL
"""
LOCK_ENROLMENT = "SELECT id FROM hs_enrolment WHERE id = $1 FOR UPDATE"
RECORD_CHECK = """
UPDATE hs_enrolment SET checks_done = checks_done + 1, last_check_date = greatest(last_check_date, $2),
       next_due_date = $3
WHERE id = $1
"""


async def insert_programme(conn: asyncpg.Connection, **f: Any) -> Programme:
    row = await conn.fetchrow(
        INSERT_PROGRAMME,
        f["organisation_id"],
        f["provider_id"],
        f["kind"],
        f["task_type"],
        f["name"],
        f["recall"],
        f["standards"],
        f["created_by"],
    )
    return Programme.model_validate(dict(row or {}))


async def get_programme(conn: asyncpg.Connection, programme_id: UUID, scope: Scope) -> Programme | None:
    row = await conn.fetchrow(GET_PROGRAMME, programme_id, scope.kind, scope.organisation_id)
    return Programme.model_validate(dict(row)) if row else None


async def list_programmes(
    conn: asyncpg.Connection, scope: Scope, organisation_id: UUID | None
) -> list[Programme]:
    rows = await conn.fetch(LIST_PROGRAMMES, organisation_id, scope.kind, scope.organisation_id)
    return [Programme.model_validate(dict(r)) for r in rows]


async def provider_of_employer(conn: asyncpg.Connection, organisation_id: UUID) -> UUID | None:
    found: UUID | None = await conn.fetchval(EMPLOYER_OF_PROVIDER, organisation_id)
    return found


async def programme_name_taken(conn: asyncpg.Connection, organisation_id: UUID, name: str) -> bool:
    return bool(await conn.fetchval(PROGRAMME_NAME_TAKEN, organisation_id, name))


async def number_owner(conn: asyncpg.Connection, organisation_id: UUID, number: str) -> str | None:
    owner: str | None = await conn.fetchval(PERSON_NUMBER_OWNER, organisation_id, number)
    return owner


async def upsert_person(conn: asyncpg.Connection, organisation_id: UUID, person: PersonIn) -> UUID:
    person_id: UUID = await conn.fetchval(
        UPSERT_PERSON,
        organisation_id,
        person.email,
        person.full_name,
        person.employee_number,
        person.date_of_birth,
        person.sex,
        person.department,
        person.job_title,
    )
    return person_id


async def active_enrolment(conn: asyncpg.Connection, programme_id: UUID, person_id: UUID) -> UUID | None:
    found: UUID | None = await conn.fetchval(ACTIVE_ENROLMENT, programme_id, person_id)
    return found


async def insert_enrolment(conn: asyncpg.Connection, **f: Any) -> UUID:
    enrolment_id: UUID = await conn.fetchval(
        INSERT_ENROLMENT,
        f["programme_id"],
        f["person_id"],
        f["organisation_id"],
        f["exposure"],
        f["start_date"],
        f["enrolled_by"],
    )
    return enrolment_id


async def get_enrolment(conn: asyncpg.Connection, enrolment_id: UUID, scope: Scope) -> Enrolment | None:
    row = await conn.fetchrow(GET_ENROLMENT, enrolment_id, scope.kind, scope.organisation_id)
    return Enrolment.model_validate(dict(row)) if row else None


async def list_enrolments(conn: asyncpg.Connection, programme_id: UUID, scope: Scope) -> list[Enrolment]:
    rows = await conn.fetch(LIST_ENROLMENTS, programme_id, scope.kind, scope.organisation_id)
    return [Enrolment.model_validate(dict(r)) for r in rows]


async def end_enrolment(conn: asyncpg.Connection, enrolment_id: UUID) -> None:
    await conn.execute(END_ENROLMENT, enrolment_id)


async def recalls(
    conn: asyncpg.Connection, organisation_id: UUID, until: date, limit: int
) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(RECALLS, organisation_id, until, limit)]


async def enrolment_person(
    conn: asyncpg.Connection, enrolment_id: UUID, provider_id: UUID
) -> EnrolmentPerson | None:
    row = await conn.fetchrow(ENROLMENT_PERSON, enrolment_id, provider_id)
    return EnrolmentPerson.model_validate(dict(row)) if row else None


async def lock_enrolment(conn: asyncpg.Connection, enrolment_id: UUID) -> None:
    await conn.execute(LOCK_ENROLMENT, enrolment_id)


async def record_check(
    conn: asyncpg.Connection, enrolment_id: UUID, checked_on: date, next_due: date
) -> None:
    await conn.execute(RECORD_CHECK, enrolment_id, checked_on, next_due)


def recall_item(row: dict[str, Any], state: str) -> RecallItem:
    return RecallItem.model_validate({**row, "state": state})


# ---- Results (checks and outcomes) ----

_RESULT_VISIBLE = """(
    ($2 = 'clinician' AND r.provider_id = $3)
 OR ($2 = 'client_admin' AND r.organisation_id = $3 AND r.status = 'signed')
 OR ($2 = 'manager' AND r.organisation_id = $3 AND r.status = 'signed'
     AND $4 <> '' AND lower(p.department) = $4)
 OR ($2 = 'employee' AND r.organisation_id = $3 AND r.status = 'signed' AND p.email = $5)
)"""
_RESULT_FROM = """
FROM hs_result r
JOIN hs_programme g ON g.id = r.programme_id
JOIN hs_person p ON p.id = r.person_id
JOIN organisation o ON o.id = r.organisation_id
"""
# The employer's health record only: never a column of hs_result_clinical.
_RESULT_COLUMNS = """
r.id, r.status, r.enrolment_id, r.programme_id, g.name AS programme_name, g.kind AS programme_kind,
g.task_type,
r.organisation_id, o.name AS organisation_name, r.person_id, p.full_name, p.employee_number, p.department,
r.performed_on, r.modality, r.procedure, r.outcome, r.restrictions, r.review_date, r.refer_to, r.due_by,
r.incomplete_reason, r.employer_actions, r.next_due_date, r.assessor_name, r.assessor_role,
r.assessor_registration, r.signed_at
"""
INSERT_RESULT = """
INSERT INTO hs_result (enrolment_id, programme_id, person_id, organisation_id, provider_id, performed_on,
                       modality,
                       procedure, assessor_id, assessor_name, assessor_role)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id
"""
INSERT_CLINICAL = """
INSERT INTO hs_result_clinical (result_id, questionnaire, measurements, readings_stream_id, proposal,
                                clinical_category,
                                clinical_notes)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
UPDATE_DRAFT = """
UPDATE hs_result SET performed_on = $2, modality = $3, updated_at = now(), version = version + 1 WHERE id = $1
"""
UPDATE_CLINICAL = """
UPDATE hs_result_clinical SET questionnaire = $2, measurements = $3, readings_stream_id = $4, proposal = $5,
       clinical_category = $6, clinical_notes = $7
WHERE result_id = $1
"""
GET_RESULT = f"SELECT {_RESULT_COLUMNS} {_RESULT_FROM} WHERE r.id = $1 AND {_RESULT_VISIBLE}"
LOCK_RESULT = GET_RESULT + " FOR UPDATE OF r"
# The results list (list kit): $1 status, $2..$5 scope; search, order and paging added by list_results.
LIST_RESULTS = f"SELECT {_RESULT_COLUMNS}, count(*) OVER () AS total {_RESULT_FROM}"
COUNT_RESULTS = f"SELECT count(*) {_RESULT_FROM}"
RESULTS_WHERE = f"{_RESULT_VISIBLE} AND ($1::text IS NULL OR r.status = $1)"
RESULTS_SEARCH = "p.full_name ILIKE {0} ESCAPE '\\' OR p.employee_number ILIKE {0} ESCAPE '\\'"
RESULT_SORTS: dict[str, tuple[str, ...]] = {
    "updated": ("coalesce(r.signed_at, r.updated_at)",),
    "performed": ("r.performed_on",),
    "name": ("lower(p.full_name)",),
}
GET_CLINICAL = """
SELECT questionnaire, measurements, readings_stream_id, proposal, clinical_category, override_reason,
       clinical_notes
FROM hs_result_clinical WHERE result_id = $1
"""
SIGN_RESULT = """
UPDATE hs_result SET status = 'signed', outcome = $2, restrictions = $3, review_date = $4, refer_to = $5,
       due_by = $6,
       incomplete_reason = $7, employer_actions = $8, next_due_date = $9, outcome_consent = $10,
       assessor_registration = $11, signed_at = now(), updated_at = now(), version = version + 1
WHERE id = $1 AND status = 'draft'
"""
SIGN_CLINICAL = (
    "UPDATE hs_result_clinical SET clinical_category = $2, override_reason = $3 WHERE result_id = $1"
)
INSERT_RESULT_EVENT = (
    "INSERT INTO hs_result_event (result_id, actor_id, action, detail) VALUES ($1, $2, $3, $4)"
)
# Earlier signed audiograms of the same person (any noise programme), for the rapid-loss rule.
PREVIOUS_AUDIOGRAMS = """
SELECT r.performed_on, c.measurements
FROM hs_result r JOIN hs_programme g ON g.id = r.programme_id JOIN hs_result_clinical c ON c.result_id = r.id
WHERE r.person_id = $1 AND g.kind = 'noise' AND r.status = 'signed' AND r.performed_on < $2
  AND c.measurements ? 'audiogram'
ORDER BY r.performed_on DESC LIMIT 10
"""
# Who is told a certificate is ready: the person's department managers and the client administrators.
CERTIFICATE_RECIPIENTS = """
SELECT u.email FROM app_user u
WHERE u.organisation_id = $1 AND u.disabled_at IS NULL
  AND (u.role = 'client_admin' OR (u.role = 'manager' AND $2 <> '' AND lower(u.department) = lower($2)))
ORDER BY u.email
"""
PERSON_EMAIL_DOB = "SELECT email, date_of_birth, sex FROM hs_person WHERE id = $1"


async def insert_result(conn: asyncpg.Connection, **f: Any) -> UUID:
    result_id: UUID = await conn.fetchval(
        INSERT_RESULT,
        f["enrolment_id"],
        f["programme_id"],
        f["person_id"],
        f["organisation_id"],
        f["provider_id"],
        f["performed_on"],
        f["modality"],
        f["procedure"],
        f["assessor_id"],
        f["assessor_name"],
        f["assessor_role"],
    )
    return result_id


def _clinical_args(f: dict[str, Any]) -> tuple[Any, ...]:
    """The clinical-record columns, in the order INSERT_CLINICAL and UPDATE_CLINICAL take them ($2..$7)."""
    keys = (
        "questionnaire",
        "measurements",
        "readings_stream_id",
        "proposal",
        "clinical_category",
        "clinical_notes",
    )
    return tuple(f[key] for key in keys)


async def insert_clinical(conn: asyncpg.Connection, result_id: UUID, **f: Any) -> None:
    await conn.execute(INSERT_CLINICAL, result_id, *_clinical_args(f))


async def update_draft(conn: asyncpg.Connection, result_id: UUID, performed_on: date, modality: str) -> None:
    await conn.execute(UPDATE_DRAFT, result_id, performed_on, modality)


async def update_clinical(conn: asyncpg.Connection, result_id: UUID, **f: Any) -> None:
    await conn.execute(UPDATE_CLINICAL, result_id, *_clinical_args(f))


async def get_result(
    conn: asyncpg.Connection, result_id: UUID, scope: Scope, *, lock: bool = False
) -> ResultRead | None:
    row = await conn.fetchrow(LOCK_RESULT if lock else GET_RESULT, result_id, *scope.params())
    return ResultRead.model_validate(dict(row)) if row else None


async def list_results(
    conn: asyncpg.Connection, scope: Scope, status: str | None, *, page: ListParams
) -> tuple[list[ResultRead], int]:
    sql = SqlParams(status, *scope.params())
    where = sql.where(RESULTS_WHERE)
    if page.q:
        where.add(RESULTS_SEARCH, like_pattern(page.q))
    order = order_by(page.sort, descending=page.descending, columns=RESULT_SORTS, tiebreak="r.id")
    cut = f"LIMIT {sql.add(page.limit)} OFFSET {sql.add(page.offset)}"
    rows = await conn.fetch(f"{LIST_RESULTS} WHERE {where} {order} {cut}", *sql.values)
    if rows:
        total = int(rows[0]["total"])
    else:  # past the last page (or nothing at all): the real total still
        total = int(await conn.fetchval(f"{COUNT_RESULTS} WHERE {where}", *sql.values[:-2]))
    return [ResultRead.model_validate({k: r[k] for k in ResultRead.model_fields}) for r in rows], total


async def get_clinical(conn: asyncpg.Connection, result_id: UUID) -> ClinicalRecord | None:
    row = await conn.fetchrow(GET_CLINICAL, result_id)
    return ClinicalRecord.model_validate(dict(row)) if row else None


async def sign_result(conn: asyncpg.Connection, result_id: UUID, **f: Any) -> None:
    await conn.execute(
        SIGN_RESULT,
        result_id,
        f["outcome"],
        f["restrictions"],
        f["review_date"],
        f["refer_to"],
        f["due_by"],
        f["incomplete_reason"],
        f["employer_actions"],
        f["next_due_date"],
        f["outcome_consent"],
        f["assessor_registration"],
    )
    await conn.execute(SIGN_CLINICAL, result_id, f["clinical_category"], f["override_reason"])


async def insert_result_event(
    conn: asyncpg.Connection, result_id: UUID, actor_id: UUID | None, action: str, detail: dict[str, Any]
) -> None:
    await conn.execute(INSERT_RESULT_EVENT, result_id, actor_id, action, detail)


async def previous_audiograms(
    conn: asyncpg.Connection, person_id: UUID, before: date
) -> list[tuple[date, dict[str, Any]]]:
    return [
        (r["performed_on"], r["measurements"])
        for r in await conn.fetch(PREVIOUS_AUDIOGRAMS, person_id, before)
    ]


async def certificate_recipients(
    conn: asyncpg.Connection, organisation_id: UUID, department: str
) -> list[str]:
    return [r["email"] for r in await conn.fetch(CERTIFICATE_RECIPIENTS, organisation_id, department)]


PERSON_EMAILS = "SELECT id, email FROM hs_person WHERE id = ANY($1::uuid[])"


async def person_emails(conn: asyncpg.Connection, person_ids: list[UUID]) -> dict[UUID, str]:
    """Each person's e-mail address: whom the audit rows of a read name (surveillance records are
    found in a person's access log by this address)."""
    rows = await conn.fetch(PERSON_EMAILS, person_ids) if person_ids else []
    return {r["id"]: r["email"] for r in rows}


async def person_email_dob(conn: asyncpg.Connection, person_id: UUID) -> tuple[str, date, str]:
    row = await conn.fetchrow(PERSON_EMAIL_DOB, person_id)
    if row is None:
        raise LookupError("person not found")
    return row["email"], row["date_of_birth"], row["sex"]


# ---- Counts for the aggregate report (unsuppressed; the reports feature suppresses them) ----

COVERAGE_COUNTS = """
SELECT g.id AS programme_id, g.name, g.kind,
       count(e.id) AS in_scope,
       count(e.id) FILTER (WHERE e.next_due_date >= $2) AS current,
       count(e.id) FILTER (WHERE e.next_due_date < $2) AS overdue
FROM hs_programme g LEFT JOIN hs_enrolment e ON e.programme_id = g.id AND e.ended_at IS NULL
WHERE g.organisation_id = $1 AND g.archived_at IS NULL
GROUP BY g.id, g.name, g.kind
ORDER BY lower(g.name), g.id
"""
OUTCOME_COUNTS = """
SELECT r.programme_id, r.outcome, count(*) AS n
FROM hs_result r
WHERE r.organisation_id = $1 AND r.status = 'signed' AND r.performed_on >= $2 AND r.performed_on < $3
GROUP BY r.programme_id, r.outcome
"""
CHECKS_BY_QUARTER = """
SELECT date_trunc('quarter', r.performed_on)::date AS quarter, count(*) AS n
FROM hs_result r
WHERE r.organisation_id = $1 AND r.status = 'signed' AND r.performed_on >= $2 AND r.performed_on < $3
GROUP BY 1
"""


async def surveillance_counts(
    conn: asyncpg.Connection, organisation_id: UUID, start: date, end: date, today: date
) -> SurveillanceCounts:
    programmes = {
        r["programme_id"]: ProgrammeCounts.model_validate(dict(r))
        for r in await conn.fetch(COVERAGE_COUNTS, organisation_id, today)
    }
    for row in await conn.fetch(OUTCOME_COUNTS, organisation_id, start, end):
        if row["programme_id"] in programmes:
            programmes[row["programme_id"]].outcomes[row["outcome"]] = int(row["n"])
    quarters = {
        r["quarter"]: int(r["n"]) for r in await conn.fetch(CHECKS_BY_QUARTER, organisation_id, start, end)
    }
    return SurveillanceCounts(programmes=list(programmes.values()), checks_by_quarter=quarters)


# ---- Bulk loading of seed data (the demo cohort): pipelined inserts into these columns only ----

COPY_COLUMNS: dict[str, tuple[str, ...]] = {
    "hs_person": (
        "id", "organisation_id", "email", "full_name", "employee_number", "date_of_birth", "sex",
        "department", "job_title",
    ),
    "hs_enrolment": (
        "id", "programme_id", "person_id", "organisation_id", "exposure", "start_date", "next_due_date",
        "checks_done", "last_check_date", "enrolled_by",
    ),
    "hs_result": (
        "id", "enrolment_id", "programme_id", "person_id", "organisation_id", "provider_id", "status",
        "performed_on", "modality", "procedure", "outcome", "restrictions", "review_date", "refer_to",
        "due_by", "incomplete_reason", "employer_actions", "next_due_date", "outcome_consent",
        "assessor_id", "assessor_name", "assessor_role", "assessor_registration", "signed_at",
    ),
    "hs_result_clinical": ("result_id", "questionnaire", "measurements", "clinical_notes"),
    "hs_result_event": ("result_id", "at", "actor_id", "action", "detail"),
}  # fmt: skip


# Pipelined inserts, not COPY: COPY FROM is refused on tables under row-level security (migration
# 0012), and tables with jsonb columns cannot take binary COPY through the text jsonb codec.
BULK_INSERT: dict[str, str] = {
    table: f"INSERT INTO {table} ({', '.join(columns)}) "
    f"VALUES ({', '.join(f'${n}' for n in range(1, len(columns) + 1))})"
    for table, columns in COPY_COLUMNS.items()
}


async def copy_rows(conn: asyncpg.Connection, table: str, rows: list[tuple[Any, ...]]) -> None:
    """Bulk-load rows (in ``COPY_COLUMNS[table]`` order) into one of the surveillance tables."""
    if not rows:
        return
    await conn.executemany(BULK_INSERT[table], rows)
