"""Demo data: idempotent, fictional, and every printed sign-in works."""

from __future__ import annotations

import asyncpg
import httpx

from backend import demo
from backend.core.config import Settings
from tests.conftest import Server

TABLES = ("organisation", "app_user", "referral", "referral_event", "entry_link", "outbox_message")
STATES = {"DRAFT", "AWAITING_TRIAGE", "INFO_REQUESTED", "AWAITING_BOOKING", "DECLINED", "BOOKED"}
SETTINGS = Settings(environment="test")


async def counts(conn: asyncpg.Connection) -> dict[str, int]:
    return {table: await conn.fetchval(f"SELECT count(*) FROM {table}") for table in TABLES}  # noqa: S608


async def test_second_run_changes_nothing(conn: asyncpg.Connection) -> None:
    first = await demo.seed(conn, SETTINGS)
    after_first = await counts(conn)
    second = await demo.seed(conn, SETTINGS)

    assert (first.created_organisations, first.created_users) == (3, len(first.sign_ins))
    assert first.created_referrals == 2 * len(demo.REFERRAL_PLAN)
    assert (second.created_organisations, second.created_users, second.created_referrals) == (0, 0, 0)
    assert await counts(conn) == after_first
    assert second.sign_ins == first.sign_ins
    assert {r["status"] for r in await conn.fetch("SELECT DISTINCT status FROM referral")} == STATES


async def test_data_is_obviously_fictional(conn: asyncpg.Connection) -> None:
    result = await demo.seed(conn, SETTINGS)
    emails = [s.email for s in result.sign_ins]
    assert all(e.endswith(".example") for e in emails)
    assert all(("demo" in s.organisation or "fictional" in s.organisation) for s in result.sign_ins)
    roles = {s.role for s in result.sign_ins}
    assert roles == {"provider_admin", "clinician", "client_admin", "manager", "employee"}
    table = demo.sign_in_table(result.sign_ins)
    assert all(e in table for e in emails)


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
    # The provider sees every submitted referral of both employers, never the drafts.
    assert queue.json()["total"] == 2 * (len(demo.REFERRAL_PLAN) - 1)
