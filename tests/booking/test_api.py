"""Booking over real HTTP: planning clinics of every kind, the week's diary, booking a referral into
a slot and every refusal, moving and cancelling (slots, join links, calendar invitations)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
from icalendar import Calendar

from tests.booking.helpers import book_referral, plan_clinic
from tests.clinics.helpers import outbox_links, triaged_referral
from tests.factories import World, login, make_world

EMPLOYEE = "alex.example@employer.example"


async def staff(client: httpx.AsyncClient, world: World) -> tuple[dict[str, str], dict[str, str]]:
    return await login(client, world.users["provider_admin"]), await login(client, world.users["clinician"])


async def calendars(conn: asyncpg.Connection, recipient: str) -> list[Calendar]:
    rows = await conn.fetch(
        "SELECT calendar_ics FROM outbox_message WHERE recipient = $1 AND calendar_ics IS NOT NULL"
        " ORDER BY created_at, id",
        recipient,
    )
    return [Calendar.from_ical(r["calendar_ics"]) for r in rows]


def event_of(calendar: Calendar) -> Any:
    return calendar.walk("VEVENT")[0]


async def test_booking_staff_plan_clinics_of_every_kind_and_read_the_week(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    admin, nurse = await staff(client, world)
    nurse_id = str(world.users["clinician"].id)
    site: dict[str, Any] = {
        "kind": "on_site",
        "location": "Unit 4, Example Park",
        "employer_id": str(world.employer.id),
    }
    planned = [
        await plan_clinic(client, admin, start_in=timedelta(days=2), clinician_id=nurse_id),
        await plan_clinic(
            client, admin, start_in=timedelta(days=2, hours=3), kind="phone", clinician_id=nurse_id
        ),
        await plan_clinic(
            client,
            admin,
            start_in=timedelta(days=3),
            kind="face_to_face",
            location="1 Clinic Road",
            clinician_id=nurse_id,
        ),
        await plan_clinic(client, admin, start_in=timedelta(days=3, hours=3), clinician_id=nurse_id, **site),
        await plan_clinic(client, nurse, start_in=timedelta(days=3, hours=6), kind="phone"),  # their own
    ]
    assert [c["kind"] for c in planned] == ["video", "phone", "face_to_face", "on_site", "phone"]
    assert planned[3]["employer_name"] == world.employer.name
    assert all(len(c["slots"]) == 4 for c in planned)

    async def refused(headers: dict[str, str], changes: dict[str, Any]) -> httpx.Response:
        body = {
            "starts_at": planned[0]["starts_at"],
            "ends_at": planned[0]["ends_at"],
            "slot_minutes": 30,
            "clinician_id": nurse_id,
            **changes,
        }
        return await client.post("/api/v1/booking/clinics", json=body, headers=headers)

    def fields(response: httpx.Response) -> list[str]:
        return [e["field"] for e in response.json().get("errors") or []]

    assert (await refused(admin, {})).json()["code"] == "clinic_overlap"
    far = {"starts_at": "2031-03-04T09:00:00Z", "ends_at": "2031-03-04T10:00:00Z"}
    over = {"starts_at": "2020-01-06T09:00:00Z", "ends_at": "2020-01-06T10:00:00Z"}
    assert "ends_at" in fields(await refused(admin, over))
    assert "location" in fields(await refused(admin, {**far, "kind": "face_to_face"}))
    assert "employer_id" in fields(await refused(admin, {**far, "kind": "on_site", "location": "Site"}))
    assert "employer_id" in fields(await refused(admin, {**far, "employer_id": str(world.employer.id)}))
    assert "clinician_id" in fields(await refused(admin, {**far, "clinician_id": None}))
    other = str(world.users["other_clinician"].id)
    assert "clinician_id" in fields(await refused(admin, {**far, "clinician_id": other}))
    foreign = await refused(
        admin, {**far, "kind": "on_site", "location": "Site", "employer_id": str(world.provider.id)}
    )
    assert "employer_id" in fields(foreign)
    assert (
        await refused(nurse, {**far, "clinician_id": str(world.users["provider_admin"].id)})
    ).status_code == 403
    manager = await login(client, world.users["manager"])
    assert (await refused(manager, far)).status_code == 403

    week = await client.get(
        "/api/v1/booking/diary", params={"week_start": planned[0]["session_date"]}, headers=admin
    )
    assert week.status_code == 200, week.text
    diary = week.json()
    assert len(diary["days"]) == 7
    assert diary["days"][0] == diary["week_start"]
    shown = {c["id"] for c in diary["sessions"]}
    in_week = {c["id"] for c in planned if diary["days"][0] <= c["session_date"] <= diary["days"][-1]}
    assert in_week
    assert in_week <= shown
    assert all(s["appointment"] is None for c in diary["sessions"] for s in c["slots"])
    for who in ("employee", "manager"):
        headers = await login(client, world.users[who])
        assert (await client.get("/api/v1/booking/diary", headers=headers)).status_code == 403
    elsewhere = await login(client, world.users["other_provider_admin"])
    theirs = (
        await client.get(
            "/api/v1/booking/diary", params={"week_start": planned[0]["session_date"]}, headers=elsewhere
        )
    ).json()
    assert theirs["sessions"] == []
    assert (
        await client.get(f"/api/v1/booking/clinics/{planned[0]['id']}", headers=elsewhere)
    ).status_code == 404


async def test_booking_into_a_slot_and_every_refusal(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    admin, nurse = await staff(client, world)
    referral = await triaged_referral(client, world, nurse)
    nurse_id = str(world.users["clinician"].id)
    past = await plan_clinic(
        client, nurse, start_in=timedelta(hours=-1)
    )  # under way: its first slot has passed
    video = await plan_clinic(client, admin, start_in=timedelta(days=1), clinician_id=nurse_id)
    phone = await plan_clinic(
        client, admin, start_in=timedelta(days=1, hours=3), kind="phone", clinician_id=nurse_id
    )
    elsewhere = await login(client, world.users["other_clinician"])
    theirs = await plan_clinic(client, elsewhere, start_in=timedelta(days=1))

    cases = [
        (past["slots"][0]["id"], admin, 409, "slot_in_past"),
        (phone["slots"][0]["id"], admin, 409, "slot_kind_mismatch"),
        (theirs["slots"][0]["id"], admin, 404, "slot_not_found"),
        ("5d1c2b7e-8a41-4f3e-9b0c-6e2d4a1f7c90", admin, 404, "slot_not_found"),
        (video["slots"][0]["id"], await login(client, world.users["manager"]), 403, None),
        (video["slots"][0]["id"], await login(client, world.users["employee"]), 403, None),
    ]
    for slot_id, headers, status, code in cases:
        response = await book_referral(client, headers, referral["id"], slot_id)
        assert response.status_code == status, (slot_id, response.text)
        if code:
            assert response.json()["code"] == code
    still = await client.get(f"/api/v1/referrals/{referral['id']}", headers=nurse)
    assert still.json()["status"] == "AWAITING_BOOKING"

    booked = await book_referral(client, admin, referral["id"], video["slots"][0]["id"])
    assert booked.status_code == 201, booked.text
    appointment = booked.json()["appointment"]
    assert appointment["kind"] == "video"
    assert appointment["sequence"] == 0
    second = await triaged_referral(client, world, nurse, email="second@employer.example")
    full = await book_referral(client, admin, second["id"], video["slots"][0]["id"])
    assert full.status_code == 409
    assert full.json()["code"] == "slot_taken"
    free_form = await client.post(
        f"/api/v1/referrals/{second['id']}/transitions",
        json={"action": "book", "slot_id": video["slots"][1]["id"]},
        headers=admin,
    )
    assert free_form.status_code == 422
    assert "/api/v1/booking/appointments" in free_form.json()["detail"]
    old = await client.post(
        f"/api/v1/referrals/{second['id']}/transitions",
        json={"action": "book", "appointment_at": "2030-01-01T09:00:00Z"},
        headers=admin,
    )
    assert old.status_code == 422

    # The employee is told the time, the kind and how to join; the referrer the time, never the reason.
    body = await conn.fetchval(
        "SELECT body FROM outbox_message WHERE recipient = $1 AND kind = 'booking.booked'", EMPLOYEE
    )
    assert "by video" in body
    assert "join.html#token=" in body
    assert "(UK time)" in body
    referrer = await conn.fetchrow(
        "SELECT body, calendar_ics, provider_id FROM outbox_message"
        " WHERE recipient = $1 AND kind = 'booking.booked.referrer'",
        world.users["manager"].email,
    )
    assert referrer is not None
    assert "Alex Example" in referrer["body"]
    assert "back pain" not in referrer["body"].lower()
    assert referrer["provider_id"] == world.provider.id
    assert "METHOD:REQUEST" in referrer["calendar_ics"]
    diary = (
        await client.get("/api/v1/booking/diary", params={"week_start": video["session_date"]}, headers=admin)
    ).json()
    slot = next(
        s
        for c in diary["sessions"]
        if c["id"] == video["id"]
        for s in c["slots"]
        if s["id"] == video["slots"][0]["id"]
    )
    assert slot["appointment"]["referral_id"] == referral["id"]


async def test_reschedule_moves_the_slot_and_link_and_cancel_frees_it(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    admin, nurse = await staff(client, world)
    referral = await triaged_referral(client, world, nurse)
    clinic = await plan_clinic(
        client, admin, start_in=timedelta(days=1), clinician_id=str(world.users["clinician"].id)
    )
    first, second = clinic["slots"][0], clinic["slots"][2]
    booked = (await book_referral(client, admin, referral["id"], first["id"])).json()["appointment"]
    old_token = (await outbox_links(conn, EMPLOYEE))[-1]

    moved = await client.post(
        f"/api/v1/booking/appointments/{booked['id']}/reschedule",
        json={"slot_id": second["id"]},
        headers=admin,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["appointment"]["slot_id"] == second["id"]
    assert moved.json()["appointment"]["starts_at"] == second["starts_at"]
    stale = await client.post("/api/v1/clinics/join/preview", json={"token": old_token})
    assert stale.status_code == 404
    assert stale.json()["code"] == "join_link_invalid"
    new_token = (await outbox_links(conn, EMPLOYEE))[-1]
    assert new_token != old_token
    fresh = await client.post("/api/v1/clinics/join/preview", json={"token": new_token})
    assert fresh.status_code == 200
    assert fresh.json()["starts_at"] == second["starts_at"]
    now = (await client.get(f"/api/v1/referrals/{referral['id']}", headers=nurse)).json()
    assert now["status"] == "BOOKED"
    assert now["decision"]["starts_at"] == second["starts_at"]
    taken = await client.post(
        f"/api/v1/booking/appointments/{booked['id']}/reschedule",
        json={"slot_id": second["id"]},
        headers=admin,
    )
    assert taken.status_code == 409
    assert taken.json()["code"] == "slot_taken"

    cancelled = await client.post(
        f"/api/v1/booking/appointments/{booked['id']}/cancel",
        json={"reason": "Asked for another day"},
        headers=admin,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    gone = await client.post("/api/v1/clinics/join/preview", json={"token": new_token})
    assert gone.status_code == 404
    after = (await client.get(f"/api/v1/referrals/{referral['id']}", headers=nurse)).json()
    assert after["status"] == "AWAITING_BOOKING"
    diary = (
        await client.get(
            "/api/v1/booking/diary", params={"week_start": clinic["session_date"]}, headers=admin
        )
    ).json()
    slots = {s["id"]: s for c in diary["sessions"] for s in c["slots"]}
    assert slots[first["id"]]["appointment"] is None
    assert slots[second["id"]]["appointment"] is None
    again = await book_referral(client, admin, referral["id"], second["id"])  # the slot is free again
    assert again.status_code == 201, again.text

    for recipient in (EMPLOYEE, world.users["manager"].email):
        found = await calendars(conn, recipient)
        events = [event_of(c) for c in found[:3]]
        assert [str(c["METHOD"]) for c in found[:3]] == ["REQUEST", "REQUEST", "CANCEL"]
        assert len({str(e["UID"]) for e in events}) == 1
        assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2]
        assert all(e["DTSTART"].params["TZID"] == "Europe/London" for e in events)
        assert found[0].walk("VTIMEZONE")[0]["TZID"] == "Europe/London"
        moved_to = datetime.fromisoformat(second["starts_at"].replace("Z", "+00:00"))
        assert events[1].decoded("DTSTART") == moved_to
        assert events[1].decoded("DTSTART") == events[2].decoded("DTSTART")
        assert events[0].decoded("DTSTART") < events[1].decoded("DTSTART")
        assert str(events[2]["STATUS"]) == "CANCELLED"
        assert str(event_of(found[3])["UID"]) != str(events[0]["UID"])  # the new booking is a new event


async def test_phone_and_face_to_face_messages_say_how_to_join(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    admin, nurse = await staff(client, world)
    manager = await login(client, world.users["manager"])
    nurse_id = str(world.users["clinician"].id)
    from tests.factories import make_referral

    phone_ref = await make_referral(client, manager)
    triage = {"action": "triage", "modality": "phone", "clinician_grade": "ohn", "priority": "routine"}
    assert (
        await client.post(f"/api/v1/referrals/{phone_ref['id']}/transitions", json=triage, headers=nurse)
    ).status_code == 200
    phone = await plan_clinic(client, admin, start_in=timedelta(days=1), kind="phone", clinician_id=nurse_id)
    booked = await book_referral(client, admin, phone_ref["id"], phone["slots"][0]["id"])
    assert booked.status_code == 201, booked.text
    assert booked.json()["invitations"] == []  # no join link for a telephone appointment
    body = await conn.fetchval(
        "SELECT body FROM outbox_message WHERE recipient = $1 AND kind = 'booking.booked'", EMPLOYEE
    )
    assert "by telephone" in body
    assert "will call you" in body
    assert "join.html" not in body

    other = "jo.f2f@employer.example"
    from tests.factories import referral_form

    form = referral_form(employee={**referral_form()["employee"], "email": other})
    f2f_ref = await make_referral(client, manager, form=form)
    triage["modality"] = "face_to_face"
    assert (
        await client.post(f"/api/v1/referrals/{f2f_ref['id']}/transitions", json=triage, headers=nurse)
    ).status_code == 200
    site = await plan_clinic(
        client,
        admin,
        start_in=timedelta(days=1, hours=3),
        kind="on_site",
        location="Unit 4, Example Park",
        employer_id=str(world.employer.id),
        clinician_id=nurse_id,
    )
    assert (await book_referral(client, admin, f2f_ref["id"], site["slots"][0]["id"])).status_code == 201
    row = await conn.fetchrow(
        "SELECT body, calendar_ics FROM outbox_message WHERE recipient = $1 AND kind = 'booking.booked'",
        other,
    )
    assert row is not None
    assert "Unit 4, Example Park" in row["body"]
    assert "on site" in row["body"]
    assert str(event_of(Calendar.from_ical(row["calendar_ics"]))["LOCATION"]) == "Unit 4, Example Park"
