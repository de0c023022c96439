"""OH staff list the offers of slots their provider has made: open, booked, expired and withdrawn,
with filters, search, sort and paging; other providers' staff and everyone else see none of them."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx

from tests.booking.helpers import plan_clinic
from tests.clinics.helpers import triaged_referral
from tests.factories import login, make_world

EMPLOYEE = "alex.example@employer.example"
SECOND = "second@employer.example"


async def test_staff_list_their_offers_by_status(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    world = await make_world(conn)
    nurse = await login(client, world.users["clinician"])
    admin = await login(client, world.users["provider_admin"])
    booked_referral = await triaged_referral(client, world, nurse)
    open_referral = await triaged_referral(client, world, nurse, email=SECOND)
    clinic = await plan_clinic(client, nurse, start_in=timedelta(days=3))
    offers = {}
    for name, referral in (("booked", booked_referral), ("open", open_referral)):
        made = await client.post(
            "/api/v1/booking/offers",
            json={"referral_id": referral["id"], "session_id": clinic["id"]},
            headers=admin,
        )
        assert made.status_code == 201, made.text
        offers[name] = made.json()
    employee = await login(client, world.users["employee"])
    chosen = await client.post(
        f"/api/v1/booking/offers/{offers['booked']['id']}/book",
        json={"slot_id": clinic["slots"][1]["id"]},
        headers=employee,
    )
    assert chosen.status_code == 201, chosen.text
    await conn.execute(  # a third, whose time to choose has passed
        "INSERT INTO booking_offer (provider_id, organisation_id, employee_email, referral_id, session_id,"
        " created_by, expires_at, created_at) SELECT provider_id, organisation_id, 'late@employer.example',"
        " referral_id, session_id, created_by, now() - interval '1 hour', now() - interval '2 days'"
        " FROM booking_offer WHERE id = $1",
        offers["open"]["id"],
    )

    everything = await client.get("/api/v1/booking/offers", headers=nurse)
    assert everything.status_code == 200, everything.text
    page = everything.json()
    assert (page["total"], page["sort"], page["limit"]) == (3, "-created", 50)
    by_email = {o["employee_email"]: o for o in page["items"]}
    assert by_email[EMPLOYEE]["status"] == "booked"
    assert by_email[EMPLOYEE]["appointment_id"] == chosen.json()["id"]
    assert by_email[EMPLOYEE]["employee_name"] == "Alex Example"
    assert by_email[SECOND]["status"] == "open"
    assert by_email["late@employer.example"]["status"] == "expired"
    assert page["items"][-1]["employee_email"] == "late@employer.example"  # the oldest last

    async def listed(**params: str) -> list[str]:
        response = await client.get("/api/v1/booking/offers", params=params, headers=admin)
        assert response.status_code == 200, response.text
        return [o["employee_email"] for o in response.json()["items"]]

    assert await listed(status="open") == [SECOND]
    assert await listed(status="expired") == ["late@employer.example"]
    assert await listed(referral_id=booked_referral["id"]) == [EMPLOYEE]
    assert await listed(q="second@") == [SECOND]
    assert await listed(sort="expires", limit="1", offset="0") == ["late@employer.example"]

    withdrawn = await client.post(
        f"/api/v1/referrals/{open_referral['id']}/transitions",
        json={"action": "withdraw"},
        headers=await login(client, world.users["manager"]),
    )
    assert withdrawn.status_code == 200, withdrawn.text
    # both offers for that referral (the expired one too) are withdrawn with it
    assert sorted(await listed(status="withdrawn")) == sorted([SECOND, "late@employer.example"])
    audited = await conn.fetch(
        "SELECT entity_id, subject_email FROM audit_event WHERE action = 'booking.offer.list'"
        " AND actor_id = $1 AND entity_id = $2",
        world.users["provider_admin"].id,
        offers["open"]["id"],
    )
    assert audited
    assert {r["subject_email"] for r in audited} == {SECOND}

    for bad in ({"status": "taken"}, {"sort": "employee"}, {"limit": "101"}, {"referral_id": "nope"}):
        refused = await client.get("/api/v1/booking/offers", params=bad, headers=admin)
        assert refused.status_code == 422, (bad, refused.text)
    elsewhere = await client.get(
        "/api/v1/booking/offers", headers=await login(client, world.users["other_provider_admin"])
    )
    assert elsewhere.status_code == 200
    assert elsewhere.json()["items"] == []
    assert elsewhere.json()["total"] == 0
    for role in ("employee", "manager", "client_admin"):
        headers = await login(client, world.users[role])
        assert (await client.get("/api/v1/booking/offers", headers=headers)).status_code == 403
    client.cookies.clear()  # signed out
    assert (await client.get("/api/v1/booking/offers")).status_code == 401
