"""Benchmark: signing an outcome -> certificate PDF bytes, and the aggregate report of a large employer.

Both are measured through the real app (its own process, uvicorn, one worker) on a fresh database
on the test PostgreSQL, each next to a baseline measured in the same run:

* certificate: ``POST /api/v1/surveillance/results/{id}/sign`` then
  ``GET .../certificate.pdf`` (one sequential pair per draft), against a bare reportlab one-page
  PDF rendered in this process;
* aggregate: ``GET /api/v1/organisations/{id}/dashboard`` and ``.../report.pdf`` for an employer
  with 10,000 employees and three years of results (seeded with generate_series), against a bare
  ``count(*)`` over the same employer's results.

Run from the repository root (pytest does not collect this file):
    python -m tests.bench.bench_reports [--signs 100] [--reports 15] [--employees 10000] [--keep-db]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import argparse
import asyncio
import io
import os
import time
from collections.abc import Awaitable, Callable
from uuid import UUID

import asyncpg
import httpx
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from backend.auth import service as auth_service
from backend.auth.schemas import Role
from backend.core.config import Settings
from backend.db import migrate
from tests.bench.bench_referrals import Server, drop_database
from tests.pg import admin_dsn, with_database

PASSWORD = "bench password not secret"
AUDIOGRAM = {
    "left": {"1000": 10, "2000": 15, "3000": 20, "4000": 30, "6000": 30},
    "right": {"1000": 10, "2000": 15, "3000": 25, "4000": 30, "6000": 30},
}
SEED_PROGRAMME = """
INSERT INTO hs_programme (organisation_id, provider_id, kind, task_type, name, recall, standards,
                          created_by)
VALUES ($1, $2, $3, $4, $5, '[{"months": 12}]', '{}', $6) RETURNING id
"""
SEED_PEOPLE = """
INSERT INTO hs_person (organisation_id, email, full_name, employee_number, date_of_birth, sex,
                       department)
SELECT $1, 'p' || i || '@big.example', 'Person ' || i, 'B' || i, date '1960-01-01' + (i % 12000),
       CASE WHEN i % 3 = 0 THEN 'female' ELSE 'male' END, 'Dept ' || (i % 40)
FROM generate_series(1, $2) AS i
"""
# Everyone in the first programme, 40% in the second, 20% in the third; some overdue.
SEED_ENROLMENTS = """
INSERT INTO hs_enrolment (programme_id, person_id, organisation_id, start_date, next_due_date, checks_done,
                          enrolled_by)
SELECT g.id, p.id, p.organisation_id, current_date - 1200,
       current_date + ((p.n * 7 + g.k * 13) % 400)::int - 30, 3, $2
FROM (SELECT id, organisation_id, row_number() OVER (ORDER BY id) AS n
      FROM hs_person WHERE organisation_id = $1) p
JOIN (SELECT id, row_number() OVER (ORDER BY name) AS k FROM hs_programme WHERE organisation_id = $1) g
  ON g.k = 1 OR (g.k = 2 AND p.n % 5 < 2) OR (g.k = 3 AND p.n % 5 = 4)
"""
# Seven in ten fit; the rest spread over restrictions, further assessment and unfit.
SEED_RESULTS = """
INSERT INTO hs_result (enrolment_id, programme_id, person_id, organisation_id, provider_id, status,
                       performed_on, modality, procedure, outcome, next_due_date, outcome_consent,
                       assessor_id, assessor_name, assessor_role, signed_at)
SELECT e.id, e.programme_id, e.person_id, e.organisation_id, $2, 'signed',
       current_date - (y * 365 + (abs(hashtext(e.id::text)) % 360)), 'in_person', 'Check',
       (ARRAY['FIT', 'FIT', 'FIT', 'FIT', 'FIT', 'FIT', 'FIT', 'FIT_WITH_RESTRICTIONS', 'FURTHER_ASSESSMENT',
              'UNFIT'])[1 + abs(hashtext(e.id::text || y)) % 10],
       current_date + 30, true, $3, 'Nurse', 'Clinician', now()
FROM hs_enrolment e CROSS JOIN generate_series(0, 2) AS y
WHERE e.organisation_id = $1
"""
SEED_REFERRALS = """
WITH r AS (
    INSERT INTO referral (organisation_id, provider_id, referrer_id, employee_email, employee_name,
                          department, status, form, submitted_at)
    SELECT $1, $2, $3, 'p' || i || '@big.example', 'Person ' || i, 'Dept 1', 'RELEASED', '{}'::jsonb,
           now() - make_interval(days => (i * 37) % 1095)
    FROM generate_series(1, $4) AS i
    RETURNING id, submitted_at
)
INSERT INTO referral_event (referral_id, actor_role, action, to_status, at)
SELECT r.id, 'system', e.action, e.status, r.submitted_at + make_interval(days => e.offset_days)
FROM r CROSS JOIN (VALUES ('submit', 'SUBMITTED', 0), ('triage', 'AWAITING_BOOKING', 2),
                          ('finish_consultation', 'REPORT_DRAFTING', 12), ('release', 'RELEASED', 14))
     AS e(action, status, offset_days)
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def line(label: str, values: list[float]) -> str:
    return (
        f"{label:<44} n={len(values):<4} p50 {percentile(values, 0.5):8.1f} ms   "
        f"p95 {percentile(values, 0.95):8.1f} ms"
    )


async def timed(n: int, operation: Callable[[int], Awaitable[None]]) -> list[float]:
    found = []
    for i in range(n):
        start = time.perf_counter()
        await operation(i)
        found.append(time.perf_counter() - start)
    return found


async def create_database(admin: str, name: str) -> str:
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    dsn = with_database(admin, name)
    await migrate.migrate(dsn, app_role=Settings().db_app_role)
    return dsn


async def seed(dsn: str, *, signs: int, employees: int) -> dict[str, UUID | str]:
    conn = await asyncpg.connect(dsn)
    try:
        provider = await auth_service.create_organisation(conn, name="Bench OH (fictional)", kind="provider")
        small = await auth_service.create_organisation(
            conn, name="Bench Small (fictional)", kind="employer", provider_id=provider.id
        )
        big = await auth_service.create_organisation(
            conn, name="Bench Big (fictional)", kind="employer", provider_id=provider.id
        )
        nurse = await auth_service.create_user(
            conn,
            organisation_id=provider.id,
            role=Role.clinician,
            email="nurse@bench.example",
            password=PASSWORD,
            full_name="Nurse",
        )
        admin = await auth_service.create_user(
            conn,
            organisation_id=small.id,
            role=Role.client_admin,
            email="admin@bench.example",
            password=PASSWORD,
            full_name="Admin",
        )
        big_admin = await auth_service.create_user(
            conn,
            organisation_id=big.id,
            role=Role.client_admin,
            email="big@bench.example",
            password=PASSWORD,
            full_name="Big",
        )
        noise = await conn.fetchval(SEED_PROGRAMME, small.id, provider.id, "noise", None, "Noise", admin.id)
        await conn.execute(SEED_PEOPLE.replace("@big.example", "@small.example"), small.id, signs)
        await conn.execute(SEED_ENROLMENTS, small.id, admin.id)
        for kind, task, name in (
            ("noise", None, "A noise"),
            ("havs", None, "B vibration"),
            ("fitness_for_task", "confined_space", "C confined"),
        ):
            await conn.fetchval(SEED_PROGRAMME, big.id, provider.id, kind, task, name, big_admin.id)
        await conn.execute(SEED_PEOPLE, big.id, employees)
        await conn.execute(SEED_ENROLMENTS, big.id, big_admin.id)
        await conn.execute(SEED_RESULTS, big.id, provider.id, nurse.id)
        await conn.execute(SEED_REFERRALS, big.id, provider.id, big_admin.id, employees // 7)
        await conn.execute("ANALYZE")
        results = await conn.fetchval("SELECT count(*) FROM hs_result WHERE organisation_id = $1", big.id)
        print(
            f"seeded: {employees} employees, {results} signed results over 3 years, "
            f"{employees // 7} referrals"
        )
        return {"noise": noise, "big": big.id, "small": small.id}
    finally:
        await conn.close()


def bare_pdf() -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setFont("Helvetica", 12)
    for i, text in enumerate(
        ("Health surveillance certificate", "Outcome: Fit", "Next check due: 20 May 2027")
    ):
        canvas.drawString(72, 770 - 20 * i, text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


async def sign_in(http: httpx.AsyncClient, email: str) -> dict[str, str]:
    response = await http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def certificate_bench(http: httpx.AsyncClient, dsn: str, signs: int) -> list[float]:
    nurse = await sign_in(http, "nurse@bench.example")
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT e.id FROM hs_enrolment e JOIN hs_person p ON p.id = e.person_id "
            "WHERE p.email LIKE '%@small.example' ORDER BY e.id"
        )
    finally:
        await conn.close()
    drafts = []
    for row in rows[:signs]:
        created = await http.post(
            "/api/v1/surveillance/results",
            headers=nurse,
            json={
                "enrolment_id": str(row["id"]),
                "performed_on": "2026-11-20",
                "measurements": {"audiogram": AUDIOGRAM},
            },
        )
        created.raise_for_status()
        drafts.append(created.json()["id"])
    outcome = {"outcome": "FIT", "next_due_date": "2027-11-20", "outcome_consent": True}

    async def sign_then_fetch(i: int) -> None:
        signed = await http.post(
            f"/api/v1/surveillance/results/{drafts[i]}/sign", headers=nurse, json=outcome
        )
        signed.raise_for_status()
        pdf = await http.get(f"/api/v1/surveillance/results/{drafts[i]}/certificate.pdf", headers=nurse)
        pdf.raise_for_status()
        assert pdf.content.startswith(b"%PDF")

    return await timed(len(drafts), sign_then_fetch)


async def aggregate_bench(http: httpx.AsyncClient, dsn: str, big: UUID, n: int) -> dict[str, list[float]]:
    headers = await sign_in(http, "big@bench.example")

    async def get(path: str) -> None:
        response = await http.get(f"/api/v1/organisations/{big}/{path}", headers=headers)
        response.raise_for_status()

    await get("dashboard")  # warm-up
    conn = await asyncpg.connect(dsn)
    try:

        async def count(_: int) -> None:
            await conn.fetchval("SELECT count(*) FROM hs_result WHERE organisation_id = $1", big)

        baseline = await timed(n, count)
    finally:
        await conn.close()
    return {
        "baseline: bare count(*) of the employer's results": baseline,
        "GET /organisations/{id}/dashboard": await timed(n, lambda _: get("dashboard")),
        "GET /organisations/{id}/report.pdf": await timed(n, lambda _: get("report.pdf")),
    }


async def main(signs: int, reports: int, employees: int, keep_db: bool) -> int:
    admin = admin_dsn()
    name = f"ohc_bench_reports_{os.getpid()}"
    dsn = await create_database(admin, name)
    try:
        ids = await seed(dsn, signs=signs, employees=employees)

        async def render_bare(_: int) -> None:
            bare_pdf()

        bare = await timed(signs, render_bare)
        server = Server(
            "backend.main:create_app",
            {"DATABASE_URL": dsn, "OHCONNECT_ENVIRONMENT": "test", "OHCONNECT_LOG_LEVEL": "WARNING"},
        )
        try:
            await server.ready("/healthz")
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
                certificate = await certificate_bench(http, dsn, signs)
                aggregate = await aggregate_bench(http, dsn, UUID(str(ids["big"])), reports)
        finally:
            server.stop()
        print(line("baseline: bare reportlab one-page PDF", bare))
        print(line("sign outcome + GET certificate.pdf", certificate))
        for label, values in aggregate.items():
            print(line(label, values))
    finally:
        if not keep_db:
            await drop_database(admin, name)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signs", type=int, default=100)
    parser.add_argument("--reports", type=int, default=15)
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.signs, args.reports, args.employees, args.keep_db)))
