from __future__ import annotations

import httpx

from tests.factories import login, make_referral, make_world


async def test_manager_submits_and_clinician_triages(client: httpx.AsyncClient, conn) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    referral = await make_referral(client, manager)
    assert referral["status"] == "AWAITING_TRIAGE"
    assert referral["employee_user_id"] == str(world.users["employee"].id)

    clinician = await login(client, world.users["clinician"])
    queue = await client.get("/api/v1/referrals", params={"sort": "priority"}, headers=clinician)
    assert [r["id"] for r in queue.json()["items"]] == [referral["id"]]
    triaged = await client.post(
        f"/api/v1/referrals/{referral['id']}/transitions",
        json={"action": "triage", "modality": "video", "clinician_grade": "ohn", "priority": "urgent"},
        headers=clinician,
    )
    assert triaged.status_code == 200, triaged.text
    assert triaged.json()["status"] == "AWAITING_BOOKING"
    assert triaged.json()["priority"] == "urgent"
    events = await client.get(f"/api/v1/referrals/{referral['id']}/events", headers=manager)
    assert [e["action"] for e in events.json()] == ["create", "submit", "queue", "triage"]


async def test_queue_puts_requested_urgency_first_before_triage(client: httpx.AsyncClient, conn) -> None:
    from tests.factories import referral_form

    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    routine = await make_referral(client, manager)
    urgent_form = referral_form(urgency_requested="urgent", urgency_reason="Safety-critical driving role")
    urgent = await make_referral(client, manager, form=urgent_form)
    clinician = await login(client, world.users["clinician"])
    queue = await client.get("/api/v1/referrals", params={"sort": "priority"}, headers=clinician)
    assert [r["id"] for r in queue.json()["items"]] == [urgent["id"], routine["id"]]
    assert all(r["acknowledged_at"] is None for r in queue.json()["items"])


async def test_state_changes_notify_the_people_concerned(client: httpx.AsyncClient, conn) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    clinician = await login(client, world.users["clinician"])
    first = await make_referral(client, manager)
    second = await make_referral(client, manager)
    asked = await client.post(
        f"/api/v1/referrals/{first['id']}/transitions",
        json={"action": "request_info", "message": "Please attach the absence record"},
        headers=clinician,
    )
    assert asked.status_code == 200
    withdrawn = await client.post(
        f"/api/v1/referrals/{second['id']}/transitions", json={"action": "withdraw"}, headers=manager
    )
    assert withdrawn.status_code == 200
    rows = await conn.fetch("SELECT recipient, body FROM outbox_message ORDER BY created_at")
    to_manager = [r["body"] for r in rows if r["recipient"] == world.users["manager"].email]
    to_employee = [r["body"] for r in rows if r["recipient"] == world.users["employee"].email]
    assert any("more information" in body for body in to_manager)
    assert any("withdrawn" in body for body in to_employee)
    # The message itself never travels by e-mail: it may be confidential.
    assert all("absence record" not in r["body"] for r in rows)
