"""A full video call through the real server with real aiortc peers on loopback.

The employee joins, tests, waits; the nurse sees the arrival and admits; both decode each other's
video; the employee's socket drops and resumes (media keeps flowing), then the employee "reloads"
(a fresh peer connection is negotiated); an interpreter is invited and joins; the nurse ends.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests.clinics.agents import CallAgent, Socket
from tests.clinics.helpers import Clinic, bearer, join_employee, make_clinic
from tests.conftest import Server
from tests.factories import login


async def ready_clinic(client: httpx.AsyncClient, conn: asyncpg.Connection) -> tuple[Clinic, str, str]:
    """A booked appointment whose employee has used the link and agreed to a video assessment."""
    clinic = await make_clinic(client, conn)
    joined = await join_employee(client, conn)
    appointment = clinic.appointments[0]["id"]
    consent = await client.post(
        f"/api/v1/clinics/appointments/{appointment}/consent",
        json={"video_assessment": True},
        headers=bearer(joined["access_token"]),
    )
    assert consent.status_code == 200, consent.text
    nurse_token = clinic.nurse["Authorization"].removeprefix("Bearer ")
    return clinic, nurse_token, joined["access_token"]


async def arrive(employee: Socket, token: str, appointment: str) -> dict[str, Any]:
    welcome = await employee.open({"appointment": appointment, "token": token})
    assert welcome["t"] == "welcome", welcome
    await employee.expect("state", state="testing")
    await employee.send({"t": "ready"})
    await employee.expect("state", state="waiting")
    return welcome


async def test_employee_waits_is_admitted_and_both_decode_video(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic, nurse_token, employee_token = await ready_clinic(client, conn)
    appointment = clinic.appointments[0]["id"]
    nurse, employee = Socket(server.url, "nurse"), Socket(server.url, "employee")
    nurse_agent, employee_agent = CallAgent(nurse), CallAgent(employee)
    try:
        nurse_welcome = await nurse.open({"clinic": clinic.session["id"], "token": nurse_token})
        assert nurse_welcome["kind"] == "clinician"
        room = await nurse.expect("room")
        assert [e["state"] for e in room["entries"]] == ["not_arrived"]

        welcome = await arrive(employee, employee_token, appointment)
        me = welcome["participant"]
        queue = await employee.expect("queue")
        assert queue["position"] == 1
        assert queue["estimate_minutes"] >= 4  # not before the slot, five minutes from now
        arrival = await nurse.expect(lambda m: m["t"] == "participant" and m["entry"]["state"] == "waiting")
        assert arrival["entry"]["name"] == "Alex Example"
        assert arrival["entry"]["connected"] is True

        await nurse.send({"t": "message", "to": me, "text": "I will be with you in a few minutes."})
        note = await employee.expect("message")
        assert note["text"] == "I will be with you in a few minutes."

        await nurse.send({"t": "admit", "participant": me})
        await employee.expect("state", state="in_call")
        call = await employee.expect("call")
        assert [p["kind"] for p in call["peers"]] == ["clinician"]
        assert call["peers"][0]["polite"] is False or call["peers"][0]["polite"] is True
        nurse_id = nurse_welcome["participant"]
        await employee_agent.frames_from(nurse_id, 10)
        await nurse_agent.frames_from(me, 10)

        # the socket drops; media keeps flowing; the employee resumes the same call generation
        before = employee_agent.frames[nurse_id]
        await employee.drop()
        await nurse.expect("peer", status="reconnecting")
        resumed = await employee.open(
            {"appointment": appointment, "token": employee_token, "resume": welcome["gen"]}
        )
        assert resumed["resumed"] is True
        assert resumed["gen"] == welcome["gen"]
        await nurse.expect("peer", status="connected")
        await employee_agent.frames_from(nurse_id, before + 20)
        await employee.expect("state", state="in_call")

        # a reload: a new generation, and a fresh peer connection negotiated without the nurse acting
        await employee.drop()
        await employee_agent.close()
        employee_agent.frames.clear()
        reloaded = await employee.open({"appointment": appointment, "token": employee_token})
        assert reloaded["resumed"] is False
        assert reloaded["gen"] == welcome["gen"] + 1
        await nurse.expect("peer", status="joined")
        await employee_agent.frames_from(nurse_id, 10)
        nurse_frames = nurse_agent.frames[me]
        await nurse_agent.frames_from(me, nurse_frames + 10)

        await nurse.send({"t": "end", "appointment": appointment})
        await employee.expect("state", state="done")
        await employee.expect("call", appointment=None)
        assert nurse_agent.errors == []
        assert employee_agent.errors == []
    finally:
        for agent in (nurse_agent, employee_agent):
            await agent.close()
        for socket in (nurse, employee):
            await socket.close()

    stored = await conn.fetchrow(
        "SELECT status, first_admitted_at, ended_at FROM appointment WHERE id = $1::uuid", appointment
    )
    assert stored is not None
    assert stored["status"] == "completed"
    assert stored["ended_at"] > stored["first_admitted_at"]
    kinds = [
        r["kind"]
        for r in await conn.fetch(
            "SELECT kind FROM call_event WHERE appointment_id = $1::uuid ORDER BY id", appointment
        )
    ]
    for expected in ("arrived", "message", "admitted", "left", "reconnected", "joined", "ended"):
        assert expected in kinds, kinds
    audited = {
        r["action"] for r in await conn.fetch("SELECT action FROM audit_event WHERE action LIKE 'clinic.%'")
    }
    assert {"clinic.room.join", "clinic.admit", "clinic.end"} <= audited


async def test_an_interpreter_joins_the_call(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic, nurse_token, employee_token = await ready_clinic(client, conn)
    appointment = clinic.appointments[0]["id"]
    nurse, employee, guest = (Socket(server.url, n) for n in ("nurse", "employee", "interpreter"))
    agents = [CallAgent(s) for s in (nurse, employee, guest)]
    try:
        nurse_id = (await nurse.open({"clinic": clinic.session["id"], "token": nurse_token}))["participant"]
        employee_id = (await arrive(employee, employee_token, appointment))["participant"]
        await nurse.send({"t": "admit", "participant": employee_id})
        await agents[1].frames_from(nurse_id, 5)

        await nurse.send({"t": "invite", "appointment": appointment, "name": "Sam Interpreter"})
        invited = await nurse.expect("invited")
        token = invited["url"].split("#token=")[1]
        redeemed = await client.post(
            "/api/v1/clinics/join", json={"token": token, "name": "Sam (interpreter)"}
        )
        assert redeemed.status_code == 200, redeemed.text
        guest_id = (await arrive(guest, redeemed.json()["access_token"], appointment))["participant"]
        await nurse.expect(
            lambda m: (
                m["t"] == "participant"
                and m["entry"]["participant"] == guest_id
                and m["entry"]["state"] == "waiting"
            )
        )
        await nurse.send({"t": "admit", "participant": guest_id})
        call = await guest.expect("call", appointment=appointment)
        assert {p["kind"] for p in call["peers"]} == {"clinician", "employee"}
        assert all(p["polite"] for p in call["peers"])  # the newcomer's peers make the offers
        await agents[2].frames_from(nurse_id, 5)
        await agents[2].frames_from(employee_id, 5)
        await agents[1].frames_from(guest_id, 5)
        await agents[0].frames_from(guest_id, 5)
        assert all(a.errors == [] for a in agents)
        # Everyone joining the employee's appointment (the interpreter too) is in their access log.
        joins = await conn.fetch(
            "SELECT actor_role, subject_email FROM audit_event WHERE action = 'clinic.room.join'"
            " AND entity_id = $1",
            appointment,
        )
        assert {j["actor_role"] for j in joins} >= {"employee", "system"}
        assert {j["subject_email"] for j in joins} == {clinic.appointments[0]["employee_email"]}
    finally:
        for agent in agents:
            await agent.close()
        for socket in (nurse, employee, guest):
            await socket.close()


async def test_nurse_reports_quality_and_the_record_is_saved(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic, nurse_token, employee_token = await ready_clinic(client, conn)
    appointment = clinic.appointments[0]["id"]
    nurse, employee = Socket(server.url, "nurse"), Socket(server.url, "employee")
    try:
        await nurse.open({"clinic": clinic.session["id"], "token": nurse_token})
        employee_id = (await arrive(employee, employee_token, appointment))["participant"]
        await nurse.send({"t": "admit", "participant": employee_id})
        await employee.expect("call", appointment=appointment)
        for level, fps in (("good", 20), ("good", 19), ("poor", 3)):
            sample = {
                "level": level,
                "rtt_ms": 40,
                "loss_pct": 0.5 if level == "good" else 9,
                "fps": fps,
                "audio_only": level == "poor",
            }
            await employee.send({"t": "quality", "sample": sample})
        update = await nurse.expect("peer_quality", level="poor")
        assert update["audio_only"] is True
        assert update["participant"] == employee_id
    finally:
        await nurse.close()
        await employee.close()
    headers = await login(client, clinic.world.users["clinician"])
    record = (await client.get(f"/api/v1/clinics/appointments/{appointment}", headers=headers)).json()[
        "quality"
    ]
    assert record["employee"]["samples"] == 3
    assert record["employee"]["worst_level"] == "poor"
    assert record["employee"]["audio_only_fallback"] is True
    assert record["employee"]["fps_min"] == 3
