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
    queue = await client.get("/api/v1/referrals", params={"order": "queue"}, headers=clinician)
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
    queue = await client.get("/api/v1/referrals", params={"order": "queue"}, headers=clinician)
    assert [r["id"] for r in queue.json()["items"]] == [urgent["id"], routine["id"]]
    assert all(r["acknowledged_at"] is None for r in queue.json()["items"])
