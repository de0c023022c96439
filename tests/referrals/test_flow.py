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
