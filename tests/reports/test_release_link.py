"""The release message links to pages, never to an API address: recipients to the referral's page
(which shows the report), the employee to their own page."""

from __future__ import annotations

import httpx

from tests.reports.test_management_report import drafting


async def test_release_message_links_to_the_referral_page(client: httpx.AsyncClient, conn, server) -> None:
    world, manager, nurse, rid = await drafting(client, conn, choice="release")
    ready = await client.post(f"/api/v1/referrals/{rid}/report/ready", headers=nurse)
    assert ready.status_code == 200, ready.text
    released = await client.post(
        f"/api/v1/referrals/{rid}/report/release",
        headers=nurse,
        json={"recipients": [world.users["manager"].email]},
    )
    assert released.status_code == 200, released.text
    bodies = {
        r["recipient"]: r["body"]
        for r in await conn.fetch(
            "SELECT recipient, body FROM outbox_message WHERE subject = 'Occupational health report released'"
        )
    }
    assert f"{server.url}/referrals.html#view={rid}" in bodies[world.users["manager"].email]
    assert f"{server.url}/me.html" in bodies[world.users["employee"].email]
    assert not any("/api/" in body for body in bodies.values())
    page = await client.get(f"/referrals.html#view={rid}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    shown = await client.get(f"/api/v1/referrals/{rid}/report", headers=manager)
    assert shown.status_code == 200
    assert shown.json()["released"] is True
    assert shown.json()["addenda"] == []
