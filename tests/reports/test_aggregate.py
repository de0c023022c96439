"""The employer dashboard, PDF and CSV: suppressed figures on a constructed workforce, and scope."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import httpx
from pypdf import PdfReader

from tests.factories import World, login, make_referral, make_world

SEED_PROGRAMME = """
INSERT INTO hs_programme (organisation_id, provider_id, kind, name, recall, created_by)
VALUES ($1, $2, 'noise', $3, '[{"months": 12}]', $4) RETURNING id
"""
# n people enrolled; the first `current` are not yet due, the rest overdue; `outcomes` signed this quarter.
SEED_PEOPLE = """
WITH people AS (
    INSERT INTO hs_person (organisation_id, email, full_name, employee_number, date_of_birth, sex)
    SELECT $1, lower($2) || i || '@employer.example', 'Seeded ' || i, $2 || i, '1980-01-01', 'male'
    FROM generate_series(1, $3) AS i RETURNING id, employee_number
)
INSERT INTO hs_enrolment (programme_id, person_id, organisation_id, start_date, next_due_date, enrolled_by)
SELECT $4, p.id, $1, '2025-01-01',
       CASE WHEN substring(p.employee_number FROM length($2) + 1)::int <= $5 THEN $6::date
            ELSE $7::date END,
       $8
FROM people p
"""
SEED_RESULTS = """
INSERT INTO hs_result (enrolment_id, programme_id, person_id, organisation_id, provider_id, status,
                       performed_on, modality, procedure, outcome, next_due_date, outcome_consent,
                       assessor_id, assessor_name, assessor_role, signed_at)
SELECT e.id, e.programme_id, e.person_id, e.organisation_id, $2, 'signed', $3, 'in_person', 'Audiometry',
       CASE WHEN row_number() OVER (ORDER BY e.id) <= $4 THEN 'FIT' ELSE 'FURTHER_ASSESSMENT' END,
       $3::date + 365, true, $5, 'Nurse', 'Clinician', now()
FROM hs_enrolment e WHERE e.programme_id = $1
"""


async def seed_programme(conn, world: World, name: str, *, people: int, current: int, fit: int) -> UUID:
    admin, nurse = world.users["client_admin"], world.users["clinician"]
    programme_id: UUID = await conn.fetchval(
        SEED_PROGRAMME, world.employer.id, world.provider.id, name, admin.id
    )
    today = datetime.now(UTC).date()
    prefix = name[:3].upper()
    await conn.execute(
        SEED_PEOPLE,
        world.employer.id,
        prefix,
        people,
        programme_id,
        current,
        today + timedelta(days=100),
        today - timedelta(days=10),
        admin.id,
    )
    await conn.execute(SEED_RESULTS, programme_id, world.provider.id, today, fit, nurse.id)
    return programme_id


async def seeded(client: httpx.AsyncClient, conn):
    world = await make_world(conn)
    await seed_programme(conn, world, "Big workshop", people=23, current=20, fit=20)
    await seed_programme(conn, world, "Small yard", people=9, current=9, fit=9)
    await seed_programme(conn, world, "Mid press", people=15, current=15, fit=15)
    return world


async def test_dashboard_suppresses_every_count_about_people(client: httpx.AsyncClient, conn):
    world = await seeded(client, conn)
    manager = await login(client, world.users["manager"])
    response = await client.get(f"/api/v1/organisations/{world.employer.id}/dashboard", headers=manager)
    assert response.status_code == 200, response.text
    report = response.json()
    coverage = {r["programme"]: r for r in report["coverage"]}
    big = coverage["Big workshop"]
    assert (big["in_scope"]["shown"], big["current"]["shown"], big["overdue"]["shown"], big["coverage"]) == (
        "25",
        "20",
        "*",
        "80%",
    )
    small = coverage["Small yard"]
    assert small["in_scope"]["shown"] == "10"
    assert small["current"]["shown"] == small["overdue"]["shown"] == "group too small"
    mid = coverage["Mid press"]  # 15 of 15 current: 100% and 0% in a group under 20
    assert (mid["current"]["shown"], mid["overdue"]["shown"], mid["coverage"]) == ("*", "*", "*")
    total = report["coverage_total"]
    assert (total["in_scope"]["shown"], total["overdue"]["shown"]) == ("45", "*")  # 47 people, 3 overdue
    outcomes = {r["programme"]: r for r in report["outcomes"]}
    assert outcomes["Big workshop"]["checks"]["shown"] == "25"
    assert outcomes["Big workshop"]["outcomes"]["FIT"]["shown"] == "20"
    assert outcomes["Big workshop"]["outcomes"]["FURTHER_ASSESSMENT"]["shown"] == "*"
    assert outcomes["Big workshop"]["outcomes"]["UNFIT"]["shown"] == "0"
    assert {c["shown"] for c in outcomes["Small yard"]["outcomes"].values()} == {"group too small"}
    current_quarter = report["quarters"][-1]
    assert current_quarter["checks"]["shown"] == "45"
    assert len(report["quarters"]) == 4
    text = response.text
    assert "Seeded" not in text
    assert "@employer.example" not in text


async def test_csv_and_pdf_hold_the_same_suppressed_figures(client: httpx.AsyncClient, conn):
    world = await seeded(client, conn)
    admin = await login(client, world.users["client_admin"])
    dashboard = (
        await client.get(f"/api/v1/organisations/{world.employer.id}/dashboard", headers=admin)
    ).json()
    response = await client.get(f"/api/v1/organisations/{world.employer.id}/report.csv", headers=admin)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    figures = {(r["table"], r["row"], r["column"]): r["value"] for r in rows}
    assert figures[("coverage", "Big workshop", "overdue")] == "*"
    assert figures[("coverage", "Small yard", "current")] == "group too small"
    assert (
        figures[("coverage", "All programmes", "in scope")]
        == dashboard["coverage_total"]["in_scope"]["shown"]
    )
    assert figures[("outcomes", "Big workshop", "Further assessment needed")] == "*"
    for value in figures.values():
        assert (
            value in ("*", "0", "—", "group too small")
            or value.endswith("%")
            or int(value.replace(",", "").split(".")[0]) % 5 == 0
            or "." in value
        ), value

    pdf = await client.get(f"/api/v1/organisations/{world.employer.id}/report.pdf", headers=admin)
    assert pdf.status_code == 200
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    for phrase in (
        "Surveillance coverage",
        "Outcomes by programme",
        "Overdue recalls",
        "Trends by quarter",
        "group too small",
        "80%",
        pdf.headers["X-Document-Id"],
    ):
        assert phrase in text, phrase
    assert "Seeded" not in text
    stored = await conn.fetchrow(
        "SELECT kind, sha256, data FROM document WHERE id = $1", UUID(pdf.headers["X-Document-Id"])
    )
    assert stored["kind"] == "aggregate_report"
    assert stored["data"] is None
    assert stored["sha256"] == pdf.headers["X-Document-SHA256"]


async def test_referral_volumes_are_suppressed_too(client: httpx.AsyncClient, conn):
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    for _ in range(3):
        await make_referral(client, manager)
    report = (
        await client.get(f"/api/v1/organisations/{world.employer.id}/dashboard", headers=manager)
    ).json()
    current = report["quarters"][-1]
    assert current["referrals"]["shown"] == "*"
    assert current["median_days_to_triage"] == "*"
    assert [q["quarter"] for q in report["quarters"]][-1].startswith(str(date.today().year))  # noqa: DTZ011


async def test_only_the_employers_admins_and_managers_see_its_report(client: httpx.AsyncClient, conn):
    world = await seeded(client, conn)
    for suffix in ("dashboard", "report.pdf", "report.csv"):
        url = f"/api/v1/organisations/{world.employer.id}/{suffix}"
        for key in (
            "other_client_admin",
            "other_manager",
            "far_client_admin",
            "employee",
            "clinician",
            "provider_admin",
        ):
            response = await client.get(url, headers=await login(client, world.users[key]))
            assert response.status_code == 404, (suffix, key)
    denied = await conn.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'report.aggregate.read' AND outcome = 'not_found'"
    )
    assert denied == 18
    assert await conn.fetchval("SELECT count(*) FROM document") == 0
