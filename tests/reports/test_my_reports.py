"""GET /api/v1/me/reports: the employee's own reports, and the message that one waits for them."""

from __future__ import annotations

import asyncpg
import httpx

from tests.factories import login
from tests.reports.test_management_report import drafting, move


async def test_the_employee_is_told_and_sees_the_report_waiting_then_released(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world, _manager, nurse, rid = await drafting(client, conn)
    employee = await login(client, world.users["employee"])
    assert (await client.get("/api/v1/me/reports", headers=employee)).json() == []  # still drafting

    sent = await client.post(f"/api/v1/referrals/{rid}/report/send-for-review", headers=nurse)
    assert sent.status_code == 200, sent.text
    message = await conn.fetchrow(
        "SELECT recipient, subject, body FROM outbox_message WHERE kind = 'report.review_requested'"
    )
    assert message is not None
    assert message["recipient"] == world.users["employee"].email
    assert f"/me.html#report={rid}" in message["body"]
    assert "Lumbar" not in message["body"]
    assert "forklift" not in message["body"]

    waiting = (await client.get("/api/v1/me/reports", headers=employee)).json()
    assert [(r["referral_id"], r["stage"]) for r in waiting] == [(rid, "to_review")]
    assert waiting[0]["review_since"] is not None
    assert waiting[0]["released_at"] is None

    await move(client, employee, rid, action="approve")
    assert (await client.get("/api/v1/me/reports", headers=employee)).json()[0]["stage"] == "approved"
    released = await client.post(
        f"/api/v1/referrals/{rid}/report/release",
        headers=nurse,
        json={"recipients": [world.users["manager"].email]},
    )
    assert released.status_code == 200, released.text
    final = (await client.get("/api/v1/me/reports", headers=employee)).json()
    assert final[0]["stage"] == "released"
    assert final[0]["released_at"] is not None

    audited = await conn.fetch(
        "SELECT subject_user_id, entity_id FROM audit_event"
        " WHERE action = 'report.list_own' AND entity_id IS NOT NULL"
    )
    assert {(r["subject_user_id"], r["entity_id"]) for r in audited} == {(world.users["employee"].id, rid)}


async def test_only_the_employee_sees_their_reports(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world, _manager, nurse, rid = await drafting(client, conn)
    assert (
        await client.post(f"/api/v1/referrals/{rid}/report/send-for-review", headers=nurse)
    ).status_code == 200
    other = await login(client, world.users["other_employee"])
    assert (await client.get("/api/v1/me/reports", headers=other)).json() == []
    for role in ("manager", "clinician", "client_admin", "provider_admin"):
        refused = await client.get("/api/v1/me/reports", headers=await login(client, world.users[role]))
        assert refused.status_code == 403, (role, refused.text)
    client.cookies.clear()  # signed out
    assert (await client.get("/api/v1/me/reports")).status_code == 401


async def test_withholding_the_report_shows_it_as_not_released(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world, _manager, nurse, rid = await drafting(client, conn)
    assert (
        await client.post(f"/api/v1/referrals/{rid}/report/send-for-review", headers=nurse)
    ).status_code == 200
    employee = await login(client, world.users["employee"])
    await move(client, employee, rid, action="withdraw_consent")
    assert (await client.get("/api/v1/me/reports", headers=employee)).json()[0]["stage"] == "not_released"
