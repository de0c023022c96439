"""Demo data: idempotent, fictional, and every printed sign-in works."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx

from backend import demo, demo_cohort, demo_diary, demo_history
from backend.booking.diary import today_uk
from backend.core.config import Settings
from tests.conftest import Server

TABLES = (
    "organisation",
    "app_user",
    "referral",
    "referral_event",
    "entry_link",
    "outbox_message",
    "hs_programme",
    "hs_person",
    "hs_enrolment",
    "hs_result",
    "hs_result_clinical",
    "hs_result_event",
    "clinic_session",
    "clinic_slot",
    "appointment",
    "booking_offer",
    "mr_report",
)
# Every state a referral spends time in, before and after the consultation.
STATES = {
    "DRAFT", "AWAITING_TRIAGE", "INFO_REQUESTED", "DECLINED", "AWAITING_BOOKING", "BOOKED", "IN_CONSULTATION",
    "REPORT_DRAFTING", "EMPLOYEE_REVIEW", "READY_FOR_RELEASE", "RELEASED", "CLOSED", "CLOSED_NOT_RELEASED",
    "WITHDRAWN",
}  # fmt: skip
SETTINGS = Settings(environment="test")
# The hand-made results, not the bulk cohort's.
NAMED_RESULTS = (
    "SELECT r.id, r.status, r.outcome FROM hs_result r JOIN hs_programme g ON g.id = r.programme_id"
    " WHERE g.name NOT LIKE 'Demo cohort%'"
)


async def counts(conn: asyncpg.Connection) -> dict[str, int]:
    return {table: await conn.fetchval(f"SELECT count(*) FROM {table}") for table in TABLES}  # noqa: S608


async def test_second_run_changes_nothing(conn: asyncpg.Connection) -> None:
    first = await demo.seed(conn, SETTINGS)
    after_first = await counts(conn)
    second = await demo.seed(conn, SETTINGS)

    assert (first.created_organisations, first.created_users) == (3, len(first.sign_ins))
    assert first.created_referrals == 2 * len(demo.REFERRAL_PLAN)
    assert (second.created_organisations, second.created_users, second.created_referrals) == (0, 0, 0)
    surveillance = (demo.SURVEILLANCE_PROGRAMMES, demo.SURVEILLANCE_ENROLMENTS, demo.SURVEILLANCE_RESULTS)
    assert (first.created_programmes, first.created_enrolments, first.created_results) == surveillance
    assert (second.created_programmes, second.created_enrolments, second.created_results) == (0, 0, 0)
    cohort = first.cohort
    bakery_programmes, bakery_workers = demo_cohort.BAKERY
    assert (cohort.programmes, cohort.people) == (
        len(demo_cohort.PROGRAMMES) + len(bakery_programmes),
        demo_cohort.WORKERS + bakery_workers,
    )
    assert second.cohort == demo_cohort.Created(0, 0, 0, 0)
    assert (
        after_first["hs_programme"],
        after_first["hs_enrolment"],
        after_first["hs_result"],
    ) == (
        surveillance[0] + cohort.programmes,
        surveillance[1] + cohort.enrolments,
        surveillance[2] + cohort.results,
    )
    assert first.created_clinics == after_first["clinic_session"] > 0
    assert (first.created_history, first.created_failed_messages) == (2 * 4 * demo_history.PER_QUARTER, 1)
    assert (second.created_clinics, second.created_history, second.created_failed_messages) == (0, 0, 0)
    assert await counts(conn) == after_first
    assert second.sign_ins == first.sign_ins
    assert {r["status"] for r in await conn.fetch("SELECT DISTINCT status FROM referral")} == STATES
    outcomes = await conn.fetch(NAMED_RESULTS + " ORDER BY outcome")
    assert [(r["status"], r["outcome"]) for r in outcomes] == [
        ("signed", "FIT"),
        ("signed", "FIT_WITH_RESTRICTIONS"),
    ]


async def test_data_is_obviously_fictional(conn: asyncpg.Connection) -> None:
    result = await demo.seed(conn, SETTINGS)
    emails = [s.email for s in result.sign_ins]
    assert all(e.endswith(".example") for e in emails)
    assert all(("demo" in s.organisation or "fictional" in s.organisation) for s in result.sign_ins)
    roles = {s.role for s in result.sign_ins}
    assert roles == {"provider_admin", "clinician", "client_admin", "manager", "employee"}
    table = demo.sign_in_table(result.sign_ins)
    assert all(e in table for e in emails)
    assert demo.NOISE_PROGRAMME in table
    assert demo.FITNESS_PROGRAMME in table
    programmes = [r["name"] for r in await conn.fetch("SELECT name FROM hs_programme")]
    assert programmes
    assert all("fictional" in name for name in programmes)
    people = await conn.fetch("SELECT email, full_name FROM hs_person")
    named = {p.name for p in demo.EMPLOYERS[0].people}
    assert all(p["full_name"] in named or p["full_name"].endswith("(fictional)") for p in people)
    assert all(p["email"].endswith(".example") for p in people)


async def login(client: httpx.AsyncClient, sign_in: demo.SignIn) -> httpx.Response:
    body = {"email": sign_in.email, "password": sign_in.password}
    return await client.post("/api/v1/auth/login", json=body)


async def test_demo_sign_ins_work(
    conn: asyncpg.Connection, server: Server, client: httpx.AsyncClient
) -> None:
    result = await demo.seed(conn, server.settings)
    for sign_in in result.sign_ins:
        response = await login(client, sign_in)
        assert response.status_code == 200, (sign_in.email, response.text)
        assert response.json()["user"]["role"] == sign_in.role
    nurse = next(s for s in result.sign_ins if s.role == "clinician")
    token = (await login(client, nurse)).json()["access_token"]
    queue = await client.get("/api/v1/referrals", headers={"Authorization": f"Bearer {token}"})
    assert queue.status_code == 200, queue.text
    # The provider sees every submitted referral of both employers (a year's worth), never the drafts.
    drafts = sum(1 for walk in demo.REFERRAL_PLAN if walk.target == "DRAFT")
    assert queue.json()["total"] == 2 * (len(demo.REFERRAL_PLAN) - drafts + 4 * demo_history.PER_QUARTER)


def sign_in(result: demo.SeedResult, email: str) -> demo.SignIn:
    return next(s for s in result.sign_ins if s.email == email)


async def test_demo_surveillance_certificates_and_recalls(
    conn: asyncpg.Connection, server: Server, client: httpx.AsyncClient
) -> None:
    await demo.seed(conn, server.settings)
    result = await demo.seed(conn, server.settings)
    employer = demo.EMPLOYERS[0]
    people = {p.key: p for p in employer.people}
    hr = (await login(client, sign_in(result, people["hr"].email))).json()["access_token"]
    manager = (await login(client, sign_in(result, people["mgr_ops"].email))).json()["access_token"]
    signed = [r["id"] for r in await conn.fetch(NAMED_RESULTS + " AND r.status = 'signed'")]
    assert signed
    for token in (hr, manager):
        for result_id in signed:
            response = await client.get(
                f"/api/v1/surveillance/results/{result_id}/certificate.pdf",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].startswith("application/pdf")
            assert response.content.startswith(b"%PDF")
    recalls = await client.get("/api/v1/surveillance/recalls", headers={"Authorization": f"Bearer {hr}"})
    assert recalls.status_code == 200, recalls.text
    states = {
        (r["full_name"], r["programme_name"]): r["state"]
        for r in recalls.json()
        if not r["programme_name"].startswith("Demo cohort")
    }
    assert states == {
        (people["emp2"].name, demo.NOISE_PROGRAMME): "overdue",
        (people["emp3"].name, demo.FITNESS_PROGRAMME): "due",
    }


async def test_the_employer_dashboard_shows_real_figures(
    conn: asyncpg.Connection, server: Server, client: httpx.AsyncClient
) -> None:
    result = await demo.seed(conn, server.settings)
    hr = demo.EMPLOYERS[0].people[0]
    token = (await login(client, sign_in(result, hr.email))).json()["access_token"]
    org = await conn.fetchval("SELECT id FROM organisation WHERE name = $1", demo.EMPLOYERS[0].name)
    response = await client.get(
        f"/api/v1/organisations/{org}/dashboard", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    report = response.json()
    cohort = [r for r in report["coverage"] if r["programme"].startswith("Demo cohort")]
    assert len(cohort) == len(demo_cohort.PROGRAMMES)
    for row in cohort:  # hundreds of people: figures, not stars
        assert row["in_scope"]["value"], row
        assert row["current"]["value"], row
        assert row["coverage"].endswith("%"), row
    assert all(q["checks"]["value"] for q in report["quarters"]), report["quarters"]
    assert all(q["referrals"]["value"] for q in report["quarters"]), report["quarters"]
    fit = [
        r["outcomes"]["FIT"]["value"] for r in report["outcomes"] if r["programme"].startswith("Demo cohort")
    ]
    assert all(fit), fit


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def token_of(client: httpx.AsyncClient, result: demo.SeedResult, email: str) -> str:
    response = await login(client, sign_in(result, email))
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def test_the_diary_has_every_kind_of_clinic_with_free_and_booked_slots_this_week_and_next(
    conn: asyncpg.Connection, server: Server, client: httpx.AsyncClient
) -> None:
    result = await demo.seed(conn, server.settings)
    admin = await token_of(client, result, demo.PROVIDER_STAFF[0].email)
    this_week = demo_diary.monday(today_uk())
    for monday in (this_week, this_week + timedelta(days=7)):
        response = await client.get(
            "/api/v1/booking/diary", params={"week_start": monday.isoformat()}, headers=bearer(admin)
        )
        assert response.status_code == 200, response.text
        sessions = response.json()["sessions"]
        assert {s["kind"] for s in sessions} == {"video", "phone", "face_to_face", "on_site"}, monday
        slots = [slot for s in sessions for slot in s["slots"]]
        booked = [slot for slot in slots if slot["appointment"]]
        assert booked, monday
        assert len(slots) - len(booked) >= 50, monday  # plenty still free


async def test_every_role_finds_something_to_do(
    conn: asyncpg.Connection, server: Server, client: httpx.AsyncClient
) -> None:
    result = await demo.seed(conn, server.settings)
    people = {p.key: p for p in demo.EMPLOYERS[0].people}
    alex = bearer(await token_of(client, result, people["emp1"].email))
    offers = (await client.get("/api/v1/booking/offers/mine", headers=alex)).json()
    assert [o["status"] for o in offers] == ["open"]
    appointments = (await client.get("/api/v1/booking/appointments/mine", headers=alex)).json()
    assert appointments, appointments
    stages = sorted(r["stage"] for r in (await client.get("/api/v1/me/reports", headers=alex)).json())
    assert stages == ["released", "to_review"]
    admin = bearer(await token_of(client, result, demo.PROVIDER_STAFF[0].email))
    failed = await client.get("/api/v1/messages", params={"status": "failed"}, headers=admin)
    assert failed.status_code == 200, failed.text
    assert failed.json()["total"] == 1
    nurse = bearer(await token_of(client, result, demo.PROVIDER_STAFF[1].email))
    queue = await client.get("/api/v1/referrals", params={"status": "REPORT_DRAFTING"}, headers=nurse)
    assert queue.status_code == 200, queue.text
    assert queue.json()["total"] == 2 * sum(1 for w in demo.REFERRAL_PLAN if w.target == "REPORT_DRAFTING")


async def test_both_employers_have_hundreds_of_people_in_several_programmes(conn: asyncpg.Connection) -> None:
    await demo.seed(conn, SETTINGS)
    rows = await conn.fetch(
        "SELECT o.name, count(DISTINCT p.id) AS people, count(DISTINCT g.id) AS programmes"
        " FROM organisation o JOIN hs_person p ON p.organisation_id = o.id"
        " JOIN hs_programme g ON g.organisation_id = o.id GROUP BY o.name"
    )
    assert {r["name"] for r in rows} == {e.name for e in demo.EMPLOYERS}
    assert all(r["people"] >= 200 and r["programmes"] >= 3 for r in rows), rows
    quarters = await conn.fetch(
        "SELECT DISTINCT date_trunc('quarter', at) AS q FROM referral_event WHERE action = 'release'"
    )
    assert len(quarters) >= 3, quarters
