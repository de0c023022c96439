"""A referral that closes while it is booked takes its appointment with it: cancelled in the same
transaction, join links dead, the slot free, the employee and referrer sent a calendar cancellation;
and an open offer of slots for it is withdrawn."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx
from icalendar import Calendar

from tests.booking.helpers import book_into_new_clinic, plan_clinic
from tests.clinics.helpers import outbox_links, triaged_referral
from tests.factories import login, make_world

EMPLOYEE = "alex.example@employer.example"


async def cancellations(conn: asyncpg.Connection, recipient: str) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT body, calendar_ics FROM outbox_message"
            " WHERE recipient = $1 AND kind LIKE 'booking.cancelled%'",
            recipient,
        )
    )


async def test_withdrawing_a_booked_referral_cancels_its_appointment(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    nurse = await login(client, world.users["clinician"])
    manager = await login(client, world.users["manager"])
    referral = await triaged_referral(client, world, nurse)
    appointment = await book_into_new_clinic(client, nurse, referral["id"])
    token = (await outbox_links(conn, EMPLOYEE))[-1]
    assert (await client.post("/api/v1/clinics/join/preview", json={"token": token})).status_code == 200

    withdrawn = await client.post(
        f"/api/v1/referrals/{referral['id']}/transitions", json={"action": "withdraw"}, headers=manager
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "WITHDRAWN"

    read = await client.get(f"/api/v1/booking/appointments/{appointment['id']}", headers=nurse)
    assert read.json()["status"] == "cancelled"
    assert {p["state"] for p in read.json()["participants"]} == {"done"}
    dead = await client.post("/api/v1/clinics/join/preview", json={"token": token})
    assert dead.status_code == 404
    assert dead.json()["code"] == "join_link_invalid"
    free = await conn.fetchval(
        "SELECT count(*) FROM appointment WHERE slot_id = $1 AND status = 'booked'",
        appointment["slot_id"],
    )
    assert free == 0

    [to_employee] = await cancellations(conn, EMPLOYEE)
    assert "referral has closed, so you do not need to attend" in to_employee["body"]
    assert "arrange another" not in to_employee["body"]
    [to_manager] = await cancellations(conn, world.users["manager"].email)
    for message in (to_employee, to_manager):
        calendar = Calendar.from_ical(message["calendar_ics"])
        assert str(calendar["METHOD"]) == "CANCEL"
        assert str(calendar.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
    audited = await conn.fetchrow(
        "SELECT actor_id, subject_email FROM audit_event WHERE action = 'booking.appointment.cancel'"
        " AND entity_id = $1",
        appointment["id"],
    )
    assert audited is not None
    assert (audited["actor_id"], audited["subject_email"]) == (world.users["manager"].id, EMPLOYEE)
    event = await conn.fetchval(
        "SELECT detail->>'reason' FROM call_event WHERE appointment_id = $1 AND kind = 'cancelled'",
        appointment["id"],
    )
    assert event == "referral withdraw"


async def test_a_failure_while_cancelling_rolls_the_withdrawal_back(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """One transaction: if the appointment cannot be cancelled, the referral stays booked."""
    world = await make_world(conn)
    nurse = await login(client, world.users["clinician"])
    manager = await login(client, world.users["manager"])
    referral = await triaged_referral(client, world, nurse)
    appointment = await book_into_new_clinic(client, nurse, referral["id"])
    await conn.execute(
        "CREATE FUNCTION refuse_cancel() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN IF NEW.status = 'cancelled' THEN RAISE EXCEPTION 'cancel refused by test'; END IF;"
        " RETURN NEW; END $$"
    )
    await conn.execute(
        "CREATE TRIGGER refuse_cancel BEFORE UPDATE ON appointment"
        " FOR EACH ROW EXECUTE FUNCTION refuse_cancel()"
    )
    refused = await client.post(
        f"/api/v1/referrals/{referral['id']}/transitions", json={"action": "withdraw"}, headers=manager
    )
    assert refused.status_code == 500
    still = await client.get(f"/api/v1/referrals/{referral['id']}", headers=nurse)
    assert still.json()["status"] == "BOOKED"
    status = await conn.fetchval("SELECT status FROM appointment WHERE id = $1", appointment["id"])
    assert status == "booked"
    assert await cancellations(conn, EMPLOYEE) == []


async def test_withdrawing_a_referral_withdraws_its_open_offer(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    nurse = await login(client, world.users["clinician"])
    manager = await login(client, world.users["manager"])
    referral = await triaged_referral(client, world, nurse)
    clinic = await plan_clinic(client, nurse, start_in=timedelta(days=3))
    made = await client.post(
        "/api/v1/booking/offers",
        json={"referral_id": referral["id"], "session_id": clinic["id"]},
        headers=nurse,
    )
    assert made.status_code == 201, made.text
    withdrawn = await client.post(
        f"/api/v1/referrals/{referral['id']}/transitions", json={"action": "withdraw"}, headers=manager
    )
    assert withdrawn.status_code == 200, withdrawn.text
    employee = await login(client, world.users["employee"])
    [offer] = (await client.get("/api/v1/booking/offers/mine", headers=employee)).json()
    assert offer["status"] == "withdrawn"
    chosen = await client.post(
        f"/api/v1/booking/offers/{offer['id']}/book",
        json={"slot_id": clinic["slots"][0]["id"]},
        headers=employee,
    )
    assert chosen.status_code == 409
