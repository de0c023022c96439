"""Moving an appointment re-sends its guests' links: an interpreter invited by e-mail gets a new
link and the new time; one without an address has a new link returned to staff; old links die.
Cancelling it tells the guests invited by e-mail."""

from __future__ import annotations

import asyncpg
import httpx

from tests.booking.helpers import plan_clinic
from tests.clinics.helpers import outbox_links, triaged_referral
from tests.factories import login, make_world

INTERPRETER = "sam@interpreters.example"


async def test_reschedule_reissues_and_resends_guest_links(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    nurse = await login(client, world.users["clinician"])
    referral = await triaged_referral(client, world, nurse)
    clinic = await plan_clinic(client, nurse)
    first, later = clinic["slots"][0], clinic["slots"][3]
    booked = await client.post(
        "/api/v1/booking/appointments",
        json={
            "referral_id": referral["id"],
            "slot_id": first["id"],
            "interpreter": {"name": "Sam Interpreter", "role": "interpreter", "email": INTERPRETER},
        },
        headers=nurse,
    )
    assert booked.status_code == 201, booked.text
    appointment = booked.json()["appointment"]
    companion = await client.post(
        f"/api/v1/clinics/appointments/{appointment['id']}/guests",
        json={"name": "Jo Companion", "role": "companion"},
        headers=nurse,
    )
    assert companion.status_code in (200, 201), companion.text
    companion_old = companion.json()["url"].split("#token=")[1]
    [interpreter_old] = await outbox_links(conn, INTERPRETER)

    moved = await client.post(
        f"/api/v1/booking/appointments/{appointment['id']}/reschedule",
        json={"slot_id": later["id"]},
        headers=nurse,
    )
    assert moved.status_code == 200, moved.text
    guests = {g["participant"]["display_name"]: g for g in moved.json()["guests"]}
    assert set(guests) == {"Sam Interpreter", "Jo Companion"}

    [_, interpreter_new] = await outbox_links(conn, INTERPRETER)
    mail = await conn.fetchrow(
        "SELECT subject, body FROM outbox_message WHERE recipient = $1 AND kind = 'booking.guest_moved'",
        INTERPRETER,
    )
    assert mail is not None
    assert mail["subject"] == "Your occupational health video appointment has moved"
    assert "earlier link no longer works" in mail["body"]
    assert guests["Sam Interpreter"]["url"].endswith(interpreter_new)
    companion_new = guests["Jo Companion"]["url"].split("#token=")[1]

    for stale in (interpreter_old, companion_old):
        gone = await client.post("/api/v1/clinics/join/preview", json={"token": stale})
        assert gone.status_code == 404, gone.text
    for fresh in (interpreter_new, companion_new):
        works = await client.post("/api/v1/clinics/join/preview", json={"token": fresh})
        assert works.status_code == 200, works.text
        assert works.json()["starts_at"] == later["starts_at"]

    cancelled = await client.post(
        f"/api/v1/booking/appointments/{appointment['id']}/cancel", json={}, headers=nurse
    )
    assert cancelled.status_code == 200, cancelled.text
    told = await conn.fetchval(
        "SELECT body FROM outbox_message WHERE recipient = $1 AND kind = 'booking.guest_cancelled'",
        INTERPRETER,
    )
    assert "is cancelled. Your link no longer works." in told
    gone = await client.post("/api/v1/clinics/join/preview", json={"token": interpreter_new})
    assert gone.status_code in (404, 409), gone.text
