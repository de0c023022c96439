"""Clinic sessions, booking a referral, invitations, join links, consent and DNA over real HTTP."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import asyncpg
import httpx
import pytest

from tests.clinics.helpers import (
    EMPLOYEE_DOB,
    bearer,
    book,
    join_employee,
    make_clinic,
    make_session,
    outbox_code,
    outbox_links,
    triaged_referral,
)
from tests.conftest import Server
from tests.factories import login, make_world

EMPLOYEE = "alex.example@employer.example"


async def test_session_slots_and_booking_moves_referral_to_booked(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic = await make_clinic(client, conn)
    session, appointment = clinic.session, clinic.appointments[0]
    assert session["slots"][0]["starts_at"] == session["starts_at"]
    assert len(session["slots"]) == 4  # two hours of 30-minute slots
    referral = await client.get(f"/api/v1/referrals/{appointment['referral_id']}", headers=clinic.nurse)
    assert referral.json()["status"] == "BOOKED"
    assert referral.json()["decision"]["starts_at"].startswith(session["slots"][0]["starts_at"][:16])
    employee = [p for p in appointment["participants"] if p["kind"] == "employee"]
    assert employee[0]["state"] == "not_arrived"

    listed = await client.get(
        "/api/v1/clinics/sessions", params={"date": session["session_date"]}, headers=clinic.nurse
    )
    assert listed.status_code == 200
    slot = listed.json()[0]["slots"][0]
    assert slot["appointment"]["employee_name"] == "Alex Example"

    # the employee gets a link and a code; the manager is told the date, never the reason
    assert len(await outbox_links(conn, EMPLOYEE)) == 1
    assert len(await outbox_code(conn, EMPLOYEE)) == 6
    assert (
        await conn.fetchval("SELECT recipient FROM outbox_message WHERE channel = 'sms'") == "+447700900123"
    )
    manager_mail = await conn.fetchval(
        "SELECT body FROM outbox_message WHERE recipient = $1 AND subject LIKE '%booked%'",
        clinic.world.users["manager"].email,
    )
    assert "Alex Example" in manager_mail
    assert "back pain" not in manager_mail.lower()
    audited = await conn.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'booking.appointment.book' AND entity_id = $1",
        appointment["id"],
    )
    assert audited == 1


async def test_double_booking_and_wrong_state_are_refused(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic = await make_clinic(client, conn)
    slot = clinic.session["slots"][0]["id"]
    other = await triaged_referral(client, clinic.world, clinic.nurse, email="second@employer.example")
    taken = await book(client, clinic.nurse, other["id"], slot)
    assert taken.status_code == 409
    assert taken.json()["code"] == "slot_taken"
    # the refused booking left the other referral untouched
    still = await client.get(f"/api/v1/referrals/{other['id']}", headers=clinic.nurse)
    assert still.json()["status"] == "AWAITING_BOOKING"
    again = await book(client, clinic.nurse, clinic.referrals[0]["id"], clinic.session["slots"][1]["id"])
    assert again.status_code == 409
    assert again.json()["code"] == "referral_state_conflict"


async def test_other_providers_and_employers_see_nothing(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic = await make_clinic(client, conn)
    appointment = clinic.appointments[0]["id"]
    stranger = await login(client, clinic.world.users["other_clinician"])
    for path in (
        f"/api/v1/clinics/appointments/{appointment}",
        f"/api/v1/clinics/sessions/{clinic.session['id']}",
        f"/api/v1/clinics/appointments/{appointment}/activity",
    ):
        response = await client.get(path, headers=stranger)
        assert response.status_code == 404, path
    manager = await login(client, clinic.world.users["manager"])
    assert (
        await client.get(f"/api/v1/clinics/appointments/{appointment}", headers=manager)
    ).status_code == 403
    other_employee = await login(client, clinic.world.users["other_employee"])
    mine = await client.get(f"/api/v1/clinics/appointments/{appointment}/mine", headers=other_employee)
    assert mine.status_code == 404


async def test_join_link_is_single_use_and_checks_identity(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic = await make_clinic(client, conn)
    token = (await outbox_links(conn, EMPLOYEE))[0]
    wrong = await client.post("/api/v1/clinics/join", json={"token": "x" * 43})
    assert wrong.status_code == 404
    assert wrong.json()["code"] == "join_link_invalid"

    preview = await client.post("/api/v1/clinics/join/preview", json={"token": token})
    assert preview.status_code == 200
    assert preview.json()["is_open"] is True
    assert preview.json()["check"] == "date_of_birth_or_code"

    mismatch = await client.post("/api/v1/clinics/join", json={"token": token, "date_of_birth": "1990-01-01"})
    assert mismatch.status_code == 422
    assert mismatch.json()["code"] == "identity_mismatch"
    assert "4 more tries" in mismatch.json()["detail"]

    joined = await client.post("/api/v1/clinics/join", json={"token": token, "date_of_birth": EMPLOYEE_DOB})
    assert joined.status_code == 200, joined.text
    assert joined.json()["kind"] == "employee"
    assert "ohc_session" in joined.cookies

    reused = await client.post("/api/v1/clinics/join", json={"token": token, "date_of_birth": EMPLOYEE_DOB})
    assert reused.status_code == 404
    assert reused.json()["code"] == "join_link_invalid"

    headers = bearer(joined.json()["access_token"])
    mine = await client.get(
        f"/api/v1/clinics/appointments/{clinic.appointments[0]['id']}/mine", headers=headers
    )
    assert mine.status_code == 200
    assert mine.json()["consent_needed"] is True
    assert (
        await conn.fetchval("SELECT count(*) FROM audit_event WHERE action = 'clinic.join_link.redeem'")
    ) == 1


async def test_code_works_instead_of_birth_date_and_a_resent_link_replaces_the_old(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic = await make_clinic(client, conn)
    old = (await outbox_links(conn, EMPLOYEE))[0]
    resent = await client.post(
        f"/api/v1/clinics/appointments/{clinic.appointments[0]['id']}/invitations", headers=clinic.nurse
    )
    assert resent.status_code == 200, resent.text
    assert (await client.post("/api/v1/clinics/join/preview", json={"token": old})).status_code == 404
    new = (await outbox_links(conn, EMPLOYEE))[-1]
    code = await outbox_code(conn, EMPLOYEE)
    joined = await client.post("/api/v1/clinics/join", json={"token": new, "code": f"{code[:3]} {code[3:]}"})
    assert joined.status_code == 200, joined.text


async def test_link_locks_after_five_wrong_answers(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await make_clinic(client, conn)
    token = (await outbox_links(conn, EMPLOYEE))[0]
    for _ in range(5):
        response = await client.post("/api/v1/clinics/join", json={"token": token, "code": "000000"})
        assert response.status_code == 422
    locked = await client.post("/api/v1/clinics/join", json={"token": token, "date_of_birth": EMPLOYEE_DOB})
    assert locked.status_code == 404


async def test_waiting_room_opens_a_set_time_before_the_slot(
    client: httpx.AsyncClient, conn: asyncpg.Connection, server: Server
) -> None:
    clinic = await make_clinic(client, conn, start_in=timedelta(hours=3))
    token = (await outbox_links(conn, EMPLOYEE))[0]
    preview = await client.post("/api/v1/clinics/join/preview", json={"token": token})
    assert preview.json()["is_open"] is False
    early = await client.post("/api/v1/clinics/join", json={"token": token, "date_of_birth": EMPLOYEE_DOB})
    assert early.status_code == 409
    assert early.json()["code"] == "room_not_open"
    assert "opens at" in early.json()["detail"]
    # not spent: it still previews
    assert (await client.post("/api/v1/clinics/join/preview", json={"token": token})).status_code == 200
    assert clinic.appointments[0]["opens_at"] < clinic.appointments[0]["starts_at"]


async def test_consent_interpreter_and_activity_log(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic = await make_clinic(
        client,
        conn,
        interpreter={"name": "Sam Interpreter", "role": "interpreter", "email": "sam@interpreters.example"},
    )
    appointment = clinic.appointments[0]
    assert [p["kind"] for p in appointment["participants"]] == ["employee", "guest"]
    joined = await join_employee(client, conn)
    headers = {**bearer(joined["access_token"])}
    consent = await client.post(
        f"/api/v1/clinics/appointments/{appointment['id']}/consent",
        json={"video_assessment": True},
        headers=headers,
    )
    assert consent.status_code == 200, consent.text
    assert consent.json()["consent_needed"] is False

    guest_token = (await outbox_links(conn, "sam@interpreters.example"))[0]
    guest = await client.post(
        "/api/v1/clinics/join", json={"token": guest_token, "name": "Sam (Polish interpreter)"}
    )
    assert guest.status_code == 200, guest.text
    assert guest.json()["kind"] == "guest"
    assert "ohc_guest" in guest.cookies
    mine = await client.get(
        f"/api/v1/clinics/appointments/{appointment['id']}/mine", headers=bearer(guest.json()["access_token"])
    )
    assert mine.json()["display_name"] == "Sam (Polish interpreter)"

    log = await client.get(f"/api/v1/clinics/appointments/{appointment['id']}/activity", headers=clinic.nurse)
    assert [e["kind"] for e in log.json()] == ["booked", "invited", "link_used", "consent", "link_used"]


async def test_dna_moves_referral_and_tells_the_manager_the_same_day(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic = await make_clinic(client, conn)
    appointment = clinic.appointments[0]
    too_early = await client.post(
        f"/api/v1/clinics/appointments/{appointment['id']}/dna", headers=clinic.nurse
    )
    assert too_early.status_code == 409
    await conn.execute(
        "UPDATE clinic_slot SET starts_at = now() - interval '20 minutes' WHERE id = $1",
        UUID(appointment["slot_id"]),
    )
    dna = await client.post(f"/api/v1/clinics/appointments/{appointment['id']}/dna", headers=clinic.nurse)
    assert dna.status_code == 200, dna.text
    assert dna.json()["status"] == "dna"
    assert {p["state"] for p in dna.json()["participants"]} == {"dna"}
    referral = await client.get(f"/api/v1/referrals/{appointment['referral_id']}", headers=clinic.nurse)
    assert referral.json()["status"] == "DNA"
    mail = await conn.fetchrow(
        "SELECT body, created_at::date = now()::date AS today FROM outbox_message"
        " WHERE recipient = $1 AND subject LIKE '%not attended%'",
        clinic.world.users["manager"].email,
    )
    assert mail is not None
    assert mail["today"] is True
    assert "did not attend" in mail["body"]
    # a join link for a DNA appointment no longer works
    token = (await outbox_links(conn, EMPLOYEE))[0]
    closed = await client.post("/api/v1/clinics/join", json={"token": token, "date_of_birth": EMPLOYEE_DOB})
    assert closed.status_code == 409
    assert closed.json()["code"] == "appointment_closed"


async def test_overlapping_sessions_and_bad_times_are_refused(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    nurse = await login(client, world.users["clinician"])
    first = await make_session(client, nurse, start_in=timedelta(hours=1))
    overlap = {"starts_at": first["slots"][1]["starts_at"], "ends_at": first["ends_at"], "slot_minutes": 30}
    response = await client.post("/api/v1/booking/clinics", json=overlap, headers=nurse)
    assert response.status_code == 409
    backwards = {"starts_at": first["ends_at"], "ends_at": first["starts_at"], "slot_minutes": 30}
    response = await client.post("/api/v1/booking/clinics", json=backwards, headers=nurse)
    assert response.status_code == 422
    naive = {"starts_at": "2026-12-03T09:00:00", "ends_at": "2026-12-03T10:00:00", "slot_minutes": 30}
    response = await client.post("/api/v1/booking/clinics", json=naive, headers=nurse)
    assert response.status_code == 422


@pytest.mark.parametrize(
    "settings_overrides",
    [
        {
            "turn_urls": ["turn:127.0.0.1:3478?transport=udp"],
            "stun_urls": ["stun:127.0.0.1:3478"],
            "turn_secret": "test-secret",
            "turn_ttl_seconds": 600,
        }
    ],
)
async def test_ice_servers_carry_short_lived_turn_credentials(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    import base64
    import hashlib
    import hmac
    import time

    world = await make_world(conn)
    assert (await client.get("/api/v1/clinics/ice-servers")).status_code == 401
    headers = await login(client, world.users["clinician"])
    body = (await client.get("/api/v1/clinics/ice-servers", headers=headers)).json()
    stun, turn = body["ice_servers"]
    assert stun == {"urls": ["stun:127.0.0.1:3478"], "username": None, "credential": None}
    expiry, who = turn["username"].split(":", 1)
    assert who == str(world.users["clinician"].id)
    assert 590 <= int(expiry) - time.time() <= 610
    expected = base64.b64encode(
        hmac.new(b"test-secret", turn["username"].encode(), hashlib.sha1).digest()
    ).decode()
    assert turn["credential"] == expected
