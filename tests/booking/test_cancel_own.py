"""Employees cancel their own appointment while the notice rule allows: the referral awaits booking,
an offer it came from opens again (they choose another time), the clinician and referrer are told,
their calendar entry is cancelled, and nobody else can cancel it."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import asyncpg
import httpx
from icalendar import Calendar

from tests.booking.helpers import book_into_new_clinic, plan_clinic
from tests.clinics.helpers import outbox_links, triaged_referral
from tests.factories import login, make_world

EMPLOYEE = "alex.example@employer.example"


async def test_employee_cancels_an_offered_booking_and_chooses_again(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    nurse = await login(client, world.users["clinician"])
    referral = await triaged_referral(client, world, nurse)
    clinic = await plan_clinic(client, nurse, start_in=timedelta(days=3))
    slots = clinic["slots"]
    offer = await client.post(
        "/api/v1/booking/offers",
        json={"referral_id": referral["id"], "session_id": clinic["id"]},
        headers=nurse,
    )
    assert offer.status_code == 201, offer.text
    employee = await login(client, world.users["employee"])
    booked = await client.post(
        f"/api/v1/booking/offers/{offer.json()['id']}/book",
        json={"slot_id": slots[1]["id"]},
        headers=employee,
    )
    assert booked.status_code == 201, booked.text
    assert booked.json()["can_cancel"] is True
    path = f"/api/v1/booking/appointments/{booked.json()['id']}/mine/cancel"
    token = (await outbox_links(conn, EMPLOYEE))[-1]

    someone = await login(client, world.users["other_employee"])
    assert (await client.post(path, json={}, headers=someone)).status_code == 404
    assert (await client.post(path, json={}, headers=nurse)).status_code == 403
    too_long = await client.post(path, json={"reason": "x" * 501}, headers=employee)
    assert too_long.status_code == 422

    cancelled = await client.post(path, json={"reason": "I am on leave that week"}, headers=employee)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["can_cancel"] is False
    assert cancelled.json()["offer_id"] == offer.json()["id"]
    assert (await client.post(path, json={}, headers=employee)).json()["code"] == "appointment_closed"
    gone = await client.post("/api/v1/clinics/join/preview", json={"token": token})
    assert gone.status_code == 404
    now = await client.get(f"/api/v1/referrals/{referral['id']}", headers=nurse)
    assert now.json()["status"] == "AWAITING_BOOKING"

    told = await conn.fetchrow(
        "SELECT body, calendar_ics FROM outbox_message WHERE recipient = $1 AND kind = 'booking.cancelled'",
        EMPLOYEE,
    )
    assert told is not None
    assert "choose another time under 'My occupational health'" in told["body"]
    assert str(Calendar.from_ical(told["calendar_ics"])["METHOD"]) == "CANCEL"
    staff = await conn.fetchval(
        "SELECT body FROM outbox_message WHERE recipient = $1 AND kind = 'booking.cancelled.staff'",
        world.users["clinician"].email,
    )
    assert "Alex Example cancelled their appointment" in staff
    assert "may choose another of the times offered" in staff
    referrer = await conn.fetchval(
        "SELECT count(*) FROM outbox_message WHERE recipient = $1 AND kind = 'booking.cancelled.referrer'",
        world.users["manager"].email,
    )
    assert referrer == 1
    audited = await conn.fetchrow(
        "SELECT actor_id, subject_email FROM audit_event WHERE action = 'booking.appointment.cancel_own'"
    )
    assert audited is not None
    assert (audited["actor_id"], audited["subject_email"]) == (world.users["employee"].id, EMPLOYEE)

    [again] = (await client.get("/api/v1/booking/offers/mine", headers=employee)).json()
    assert again["status"] == "open"
    assert slots[1]["id"] in [s["id"] for s in again["slots"]]  # the freed time is offered again
    rebooked = await client.post(
        f"/api/v1/booking/offers/{again['id']}/book", json={"slot_id": slots[2]["id"]}, headers=employee
    )
    assert rebooked.status_code == 201, rebooked.text
    after = await client.get(f"/api/v1/referrals/{referral['id']}", headers=nurse)
    assert after.json()["status"] == "BOOKED"


async def test_staff_booked_appointment_cancel_and_the_notice_rule(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    nurse = await login(client, world.users["clinician"])
    employee = await login(client, world.users["employee"])
    referral = await triaged_referral(client, world, nurse)
    appointment = await book_into_new_clinic(client, nurse, referral["id"])
    path = f"/api/v1/booking/appointments/{appointment['id']}/mine/cancel"
    await conn.execute(  # within the notice period (24 hours by default)
        "UPDATE clinic_slot SET starts_at = now() + interval '2 hours',"
        " ends_at = now() + interval '150 minutes' WHERE id = $1",
        UUID(appointment["slot_id"]),
    )
    [mine] = (await client.get("/api/v1/booking/appointments/mine", headers=employee)).json()
    assert mine["can_cancel"] is False
    late = await client.post(path, json={}, headers=employee)
    assert late.status_code == 409
    assert late.json()["code"] == "too_late_to_change"

    await conn.execute(
        "UPDATE clinic_slot SET starts_at = now() + interval '3 days',"
        " ends_at = now() + interval '3 days 30 minutes' WHERE id = $1",
        UUID(appointment["slot_id"]),
    )
    cancelled = await client.post(path, json={}, headers=employee)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["offer_id"] is None
    told = await conn.fetchval(
        "SELECT body FROM outbox_message WHERE recipient = $1 AND kind = 'booking.cancelled'", EMPLOYEE
    )
    assert "We will contact you to arrange another." in told
    staff = await conn.fetchval(
        "SELECT body FROM outbox_message WHERE kind = 'booking.cancelled.staff'",
    )
    assert "They need a new appointment." in staff
    now = await client.get(f"/api/v1/referrals/{referral['id']}", headers=nurse)
    assert now.json()["status"] == "AWAITING_BOOKING"
