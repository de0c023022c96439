"""What the waiting room refuses, each with a clear error, while everything else carries on."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx
import pytest
from websockets.exceptions import InvalidStatus

from tests.clinics.agents import CallAgent, Socket
from tests.clinics.helpers import bearer, join_employee, make_clinic
from tests.clinics.test_call import arrive, ready_clinic
from tests.conftest import Server
from tests.factories import login

OFFER = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"


async def test_joining_needs_a_valid_identity_and_a_place(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic, nurse_token, _ = await ready_clinic(client, conn)
    appointment = clinic.appointments[0]["id"]
    socket = Socket(server.url, "stranger")
    refused = await socket.open({"appointment": appointment, "token": "not-a-real-token-at-all"})
    assert refused["code"] == "unauthenticated"
    assert "Sign in" in refused["detail"]
    other = await login(client, clinic.world.users["other_employee"])
    refused = await socket.open({"appointment": appointment, "token": other["Authorization"][7:]})
    assert refused["code"] == "participant_not_found"
    other_nurse = await login(client, clinic.world.users["other_clinician"])
    refused = await socket.open({"clinic": clinic.session["id"], "token": other_nurse["Authorization"][7:]})
    assert refused["code"] == "participant_not_found"
    refused = await socket.open({"clinic": clinic.session["id"], "token": "x" * 500})
    assert refused["code"] == "message_invalid"
    assert refused["detail"].startswith("token:")
    await socket.close()

    with pytest.raises(InvalidStatus):  # a page on another site cannot use the cookie
        await Socket(server.url, "forged").open(
            {"clinic": clinic.session["id"]}, origin="https://evil.example"
        )
    welcome = await Socket(server.url, "nurse").open(
        {"clinic": clinic.session["id"], "token": nurse_token}, origin=server.url
    )
    assert welcome["t"] == "welcome"


async def test_room_is_closed_before_its_opening_time(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic = await make_clinic(client, conn, start_in=timedelta(hours=3))
    await conn.execute("UPDATE clinic_slot SET starts_at = starts_at - interval '3 hours'")
    joined = await join_employee(client, conn)  # link used while open...
    await conn.execute("UPDATE clinic_slot SET starts_at = starts_at + interval '3 hours'")  # ...moved later
    socket = Socket(server.url, "early")
    refused = await socket.open(
        {"appointment": clinic.appointments[0]["id"], "token": joined["access_token"]}
    )
    assert refused["code"] == "room_not_open"
    assert "opens at" in refused["detail"]
    await socket.close()


@pytest.mark.parametrize("settings_overrides", [{"waiting_room_open_minutes": 120}])
async def test_signalling_is_refused_outside_the_call_and_the_call_carries_on(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic, nurse_token, employee_token = await ready_clinic(client, conn)
    appointment = clinic.appointments[0]["id"]
    # a second employee in the same clinic, waiting (not in the call)
    from tests.clinics.helpers import book, triaged_referral

    other_ref = await triaged_referral(client, clinic.world, clinic.nurse, email="second@employer.example")
    second = await book(client, clinic.nurse, other_ref["id"], clinic.session["slots"][1]["id"])
    second_appointment = second.json()["appointment"]["id"]
    second_join = await join_employee(client, conn, "second@employer.example")
    await client.post(
        f"/api/v1/clinics/appointments/{second_appointment}/consent",
        json={"video_assessment": True},
        headers=bearer(second_join["access_token"]),
    )

    nurse, employee, intruder = (Socket(server.url, n) for n in ("nurse", "employee", "intruder"))
    nurse_agent, employee_agent = CallAgent(nurse), CallAgent(employee)
    try:
        nurse_id = (await nurse.open({"clinic": clinic.session["id"], "token": nurse_token}))["participant"]
        employee_id = (await arrive(employee, employee_token, appointment))["participant"]
        await arrive(intruder, second_join["access_token"], second_appointment)

        # not in any call yet: the employee cannot signal the nurse
        await employee.send(
            {"t": "sdp", "to": nurse_id, "pc": "p1", "description": {"type": "offer", "sdp": OFFER}}
        )
        refused = await employee.expect("error", refused="sdp")
        assert refused["code"] == "participant_not_found"

        await nurse.send({"t": "admit", "participant": employee_id})
        await employee_agent.frames_from(nurse_id, 10)
        await nurse_agent.frames_from(employee_id, 10)

        # someone waiting in the same clinic cannot reach either member of the call
        for target in (nurse_id, employee_id):
            await intruder.send(
                {"t": "sdp", "to": target, "pc": "x1", "description": {"type": "offer", "sdp": OFFER}}
            )
            assert (await intruder.expect("error", refused="sdp"))["code"] == "participant_not_found"
            await intruder.send({"t": "ice", "to": target, "pc": "x1", "candidate": None})
            assert (await intruder.expect("error", refused="ice"))["code"] == "participant_not_found"
        # nor do waiting employees get to act as the clinician
        await intruder.send({"t": "admit", "participant": str(employee_id)})
        assert (await intruder.expect("error", refused="admit"))["code"] == "clinic_forbidden"

        # malformed SDP and oversized messages from a member are refused without harm
        bad = {"t": "sdp", "to": nurse_id, "pc": "p2", "description": {"type": "offer", "sdp": "hello"}}
        await employee.send(bad)
        refused = await employee.expect("error", refused="sdp")
        assert refused["code"] == "message_invalid"
        assert refused["detail"] == "description.sdp: SDP must start with the line v=0"
        await employee.send(
            {
                "t": "sdp",
                "to": nurse_id,
                "pc": "p3",
                "description": {"type": "offer", "sdp": "v=0\r\nhello world\r\n"},
            }
        )
        assert "line 2" in (await employee.expect("error", refused="sdp"))["detail"]
        await employee.send({"t": "ping", "padding": "x" * 70_000})
        refused = await employee.expect("error")
        assert refused["code"] == "message_too_large"
        assert "65536" in refused["detail"]
        await employee.send("{not json")
        assert (await employee.expect("error"))["code"] == "message_invalid"
        await employee.send({"t": "shout"})
        assert (await employee.expect("error"))["code"] == "message_invalid"

        await employee.send({"t": "ping"})
        await employee.expect("pong")
        before = (employee_agent.frames[nurse_id], nurse_agent.frames[employee_id])
        await employee_agent.frames_from(nurse_id, before[0] + 10)
        await nurse_agent.frames_from(employee_id, before[1] + 10)
        assert not [
            m for m in nurse.seen if m["t"] == "sdp" and m.get("pc", "").startswith(("x", "p1", "p2"))
        ]
        assert not [m for m in nurse.seen if m["t"] == "error"]
        assert nurse_agent.errors == []
        assert employee_agent.errors == []
    finally:
        for agent in (nurse_agent, employee_agent):
            await agent.close()
        for socket in (nurse, employee, intruder):
            await socket.close()


async def test_a_flood_of_messages_is_slowed_down(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic, nurse_token, _ = await ready_clinic(client, conn)
    nurse = Socket(server.url, "nurse")
    await nurse.open({"clinic": clinic.session["id"], "token": nurse_token})
    for _ in range(100):
        await nurse.send({"t": "ping"})
    refused = await nurse.expect("error")
    assert refused["code"] == "too_many_messages"
    assert len([m for m in nurse.seen if m["t"] == "pong"]) >= 50
    await nurse.close()


async def test_consent_is_needed_before_the_waiting_room(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic = await make_clinic(client, conn)
    joined = await join_employee(client, conn)
    socket = Socket(server.url, "employee")
    await socket.open({"appointment": clinic.appointments[0]["id"], "token": joined["access_token"]})
    await socket.send({"t": "ready"})
    assert (await socket.expect("error", refused="ready"))["code"] == "consent_required"
    await socket.close()
