"""Employees book themselves: offers of slots for a referral or a surveillance recall, the choice,
moving it within the notice rule, and that nobody else sees or uses someone's offer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx
from icalendar import Calendar

from tests.booking.helpers import plan_clinic
from tests.clinics.helpers import make_clinic, triaged_referral
from tests.factories import World, login, make_world

EMPLOYEE = "alex.example@employer.example"


async def offered(
    client: httpx.AsyncClient, world: World, **body: object
) -> tuple[dict[str, str], dict[str, Any]]:
    admin = await login(client, world.users["provider_admin"])
    response = await client.post("/api/v1/booking/offers", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return admin, response.json()


async def test_employee_picks_an_offered_slot_and_moves_it_within_the_rules(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    nurse = await login(client, world.users["clinician"])
    referral = await triaged_referral(client, world, nurse)
    clinic = await plan_clinic(client, nurse, start_in=timedelta(days=3))
    slots = clinic["slots"]
    _admin, offer = await offered(client, world, referral_id=referral["id"], session_id=clinic["id"])
    assert offer["status"] == "open"
    assert [s["id"] for s in offer["slots"]] == [s["id"] for s in slots]
    told = await conn.fetchval(
        "SELECT body FROM outbox_message WHERE recipient = $1 AND kind = 'booking.offered'", EMPLOYEE
    )
    assert "4 appointment times" in told

    employee = await login(client, world.users["employee"])
    mine = await client.get("/api/v1/booking/offers/mine", headers=employee)
    assert mine.status_code == 200
    assert [o["id"] for o in mine.json()] == [offer["id"]]
    someone = await login(client, world.users["other_employee"])
    assert (await client.get("/api/v1/booking/offers/mine", headers=someone)).json() == []
    stolen = await client.post(
        f"/api/v1/booking/offers/{offer['id']}/book", json={"slot_id": slots[0]["id"]}, headers=someone
    )
    assert stolen.status_code == 404
    manager = await login(client, world.users["manager"])
    assert (await client.get("/api/v1/booking/offers/mine", headers=manager)).status_code == 403
    not_offered = await plan_clinic(client, nurse, start_in=timedelta(days=4))
    refused = await client.post(
        f"/api/v1/booking/offers/{offer['id']}/book",
        json={"slot_id": not_offered["slots"][0]["id"]},
        headers=employee,
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "slot_not_offered"

    booked = await client.post(
        f"/api/v1/booking/offers/{offer['id']}/book", json={"slot_id": slots[1]["id"]}, headers=employee
    )
    assert booked.status_code == 201, booked.text
    appointment = booked.json()
    assert appointment["starts_at"] == slots[1]["starts_at"]
    assert appointment["kind"] == "video"
    assert appointment["can_reschedule"] is True
    now = (await client.get(f"/api/v1/referrals/{referral['id']}", headers=nurse)).json()
    assert now["status"] == "BOOKED"
    again = await client.post(
        f"/api/v1/booking/offers/{offer['id']}/book", json={"slot_id": slots[2]["id"]}, headers=employee
    )
    assert again.status_code == 409
    listed = await client.get("/api/v1/booking/appointments/mine", headers=employee)
    assert [a["id"] for a in listed.json()] == [appointment["id"]]
    assert (await client.get("/api/v1/booking/appointments/mine", headers=someone)).json() == []
    ics = await client.get(appointment["calendar_url"], headers=employee)
    assert ics.status_code == 200
    assert ics.headers["content-type"].startswith("text/calendar")
    assert str(Calendar.from_ical(ics.text).walk("VEVENT")[0]["DTSTART"].params["TZID"]) == "Europe/London"
    assert (await client.get(appointment["calendar_url"], headers=someone)).status_code == 404

    path = f"/api/v1/booking/appointments/{appointment['id']}/mine/reschedule"
    outside = await client.post(path, json={"slot_id": not_offered["slots"][1]["id"]}, headers=employee)
    assert outside.status_code == 409
    assert outside.json()["code"] == "slot_not_offered"
    assert (await client.post(path, json={"slot_id": slots[3]["id"]}, headers=someone)).status_code == 404
    moved = await client.post(path, json={"slot_id": slots[3]["id"]}, headers=employee)
    assert moved.status_code == 200, moved.text
    assert moved.json()["starts_at"] == slots[3]["starts_at"]
    sequences = await conn.fetch(
        "SELECT calendar_ics FROM outbox_message WHERE recipient = $1 AND calendar_ics IS NOT NULL"
        " ORDER BY created_at, id",
        EMPLOYEE,
    )
    events = [Calendar.from_ical(r["calendar_ics"]).walk("VEVENT")[0] for r in sequences]
    assert [e.decoded("SEQUENCE") for e in events] == [0, 1]

    # Within the notice period (24 hours by default) the employee must ask OH instead.
    await conn.execute(
        "UPDATE clinic_slot SET starts_at = now() + interval '2 hours',"
        " ends_at = now() + interval '150 minutes' WHERE id = $1",
        UUID(slots[3]["id"]),
    )
    late = await client.post(path, json={"slot_id": slots[0]["id"]}, headers=employee)
    assert late.status_code == 409
    assert late.json()["code"] == "too_late_to_change"


async def test_a_surveillance_recall_is_self_booked_into_an_on_site_clinic(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    hr = world.users["client_admin"]
    programme = await conn.fetchval(
        "INSERT INTO hs_programme (organisation_id, provider_id, kind, name, recall, created_by)"
        " VALUES ($1, $2, 'noise', 'Noise (test)', '{}'::jsonb, $3) RETURNING id",
        world.employer.id,
        world.provider.id,
        hr.id,
    )
    person = await conn.fetchval(
        "INSERT INTO hs_person (organisation_id, email, full_name, employee_number, date_of_birth, sex)"
        " VALUES ($1, $2, 'Alex Example', 'E-1', '1985-04-12', 'female') RETURNING id",
        world.employer.id,
        EMPLOYEE,
    )
    enrolment = await conn.fetchval(
        "INSERT INTO hs_enrolment (programme_id, person_id, organisation_id, start_date, next_due_date,"
        " enrolled_by) VALUES ($1, $2, $3, current_date, current_date, $4) RETURNING id",
        programme,
        person,
        world.employer.id,
        hr.id,
    )
    admin = await login(client, world.users["provider_admin"])
    nurse_id = str(world.users["clinician"].id)
    video = await plan_clinic(client, admin, start_in=timedelta(days=2), clinician_id=nurse_id)
    unsuitable = await client.post(
        "/api/v1/booking/offers",
        json={"enrolment_id": str(enrolment), "session_id": video["id"]},
        headers=admin,
    )
    assert unsuitable.status_code == 409
    assert unsuitable.json()["code"] == "slot_kind_mismatch"
    elsewhere = await plan_clinic(
        client,
        admin,
        start_in=timedelta(days=2, hours=3),
        kind="on_site",
        location="Other Co, 2 Far Road",
        employer_id=str(world.other_employer.id),
        clinician_id=nurse_id,
    )
    wrong_site = await client.post(
        "/api/v1/booking/offers",
        json={"enrolment_id": str(enrolment), "session_id": elsewhere["id"]},
        headers=admin,
    )
    assert wrong_site.status_code == 409
    site = await plan_clinic(
        client,
        admin,
        start_in=timedelta(days=3),
        kind="on_site",
        location="Unit 4, Example Park",
        employer_id=str(world.employer.id),
        clinician_id=nurse_id,
    )
    offer_slots = [site["slots"][0]["id"], site["slots"][1]["id"]]
    _, offer = await offered(client, world, enrolment_id=str(enrolment), slot_ids=offer_slots)
    assert [s["id"] for s in offer["slots"]] == offer_slots
    assert offer["kind"] == "on_site"
    assert offer["location"] == "Unit 4, Example Park"

    employee = await login(client, world.users["employee"])
    booked = await client.post(
        f"/api/v1/booking/offers/{offer['id']}/book", json={"slot_id": offer_slots[1]}, headers=employee
    )
    assert booked.status_code == 201, booked.text
    assert booked.json()["enrolment_id"] == str(enrolment)
    assert booked.json()["location"] == "Unit 4, Example Park"
    assert "Unit 4, Example Park" in booked.json()["how_to_join"]
    diary = await client.get(
        "/api/v1/booking/diary", params={"week_start": site["session_date"]}, headers=admin
    )
    slot = next(s for c in diary.json()["sessions"] for s in c["slots"] if s["id"] == offer_slots[1])
    assert slot["appointment"]["enrolment_id"] == str(enrolment)
    body = await conn.fetchval(
        "SELECT body FROM outbox_message WHERE recipient = $1 AND kind = 'booking.booked'", EMPLOYEE
    )
    assert "on site" in body


async def test_a_signed_in_employee_sees_their_appointment_and_can_join_it(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic = await make_clinic(client, conn)
    appointment = clinic.appointments[0]["id"]
    # Booked before the employee had an account: their place is not yet linked to one.
    await conn.execute(
        "UPDATE clinic_participant SET user_id = NULL WHERE appointment_id = $1::uuid", appointment
    )
    await conn.execute("UPDATE appointment SET employee_user_id = NULL WHERE id = $1::uuid", appointment)
    employee = await login(client, clinic.world.users["employee"])
    before = await client.get(f"/api/v1/clinics/appointments/{appointment}/mine", headers=employee)
    assert before.status_code == 404
    mine = (await client.get("/api/v1/booking/appointments/mine", headers=employee)).json()
    assert [a["id"] for a in mine] == [appointment]
    assert mine[0]["join_url"].endswith(f"/join.html#appointment={appointment}")
    assert mine[0]["can_reschedule"] is False  # booked by OH: they ask OH to move it
    assert "video" in mine[0]["how_to_join"]
    after = await client.get(f"/api/v1/clinics/appointments/{appointment}/mine", headers=employee)
    assert after.status_code == 200, after.text


async def test_the_employees_own_reads_name_them_and_nobody_else_has_a_list_of_their_own(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """Moved from the clinics' temporary list: only employees, only their own, and each read is in
    their access log (one audit row per appointment or offer, naming them)."""
    clinic = await make_clinic(client, conn, bookings=2, start_in=timedelta(hours=3))
    world = clinic.world
    other_referral = await triaged_referral(client, world, clinic.nurse)
    later = await plan_clinic(client, clinic.nurse, start_in=timedelta(days=3))
    _admin, offer = await offered(client, world, referral_id=other_referral["id"], session_id=later["id"])
    employee_user = world.users["employee"]
    employee = await login(client, employee_user)
    mine = await client.get("/api/v1/booking/appointments/mine", headers=employee)
    assert mine.status_code == 200, mine.text
    # The second booking is for someone else (another e-mail address): not listed.
    assert [a["id"] for a in mine.json()] == [clinic.appointments[0]["id"]]
    assert mine.json()[0]["starts_at"] == clinic.appointments[0]["starts_at"]
    assert mine.json()[0]["status"] == "booked"
    offers = await client.get("/api/v1/booking/offers/mine", headers=employee)
    assert [o["id"] for o in offers.json()] == [offer["id"]]
    for action, entity_id in (
        ("booking.appointment.list_own", clinic.appointments[0]["id"]),
        ("booking.offer.list_own", offer["id"]),
    ):
        audited = await conn.fetch(
            "SELECT entity_id, subject_user_id, subject_email FROM audit_event WHERE action = $1", action
        )
        assert [(r["entity_id"], r["subject_user_id"], r["subject_email"]) for r in audited] == [
            (entity_id, employee_user.id, employee_user.email)
        ], action

    booked = await client.post(
        f"/api/v1/booking/offers/{offer['id']}/book",
        json={"slot_id": later["slots"][0]["id"]},
        headers=employee,
    )
    assert booked.status_code == 201, booked.text
    # A booked offer still lists the other free times: the ones the employee may move to.
    after = (await client.get("/api/v1/booking/offers/mine", headers=employee)).json()
    assert after[0]["status"] == "booked"
    assert [s["id"] for s in after[0]["slots"]] == [s["id"] for s in later["slots"][1:]]

    other = await login(client, world.users["other_employee"])
    assert (await client.get("/api/v1/booking/appointments/mine", headers=other)).json() == []
    for role in ("clinician", "provider_admin", "manager", "client_admin"):
        staff = await login(client, world.users[role])
        for path in ("/api/v1/booking/appointments/mine", "/api/v1/booking/offers/mine"):
            refused = await client.get(path, headers=staff)
            assert refused.status_code == 403, (role, path, refused.text)
    client.cookies.clear()  # signed out
    assert (await client.get("/api/v1/booking/appointments/mine")).status_code == 401
