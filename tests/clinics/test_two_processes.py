"""The nurse and the employee on two different app processes sharing one database.

The second process is a real uvicorn subprocess; the two talk only through PostgreSQL. The
employee waits on process B, is admitted by the nurse on process A, and both decode video. Then
process B is killed outright: process A's sweep notices the silent place from its missing
heartbeats, the employee reconnects to process A and resumes the same call.
"""

from __future__ import annotations

import asyncio
import signal

import asyncpg
import httpx
import pytest

from backend.clinics import waiting_room
from tests.clinics.agents import CallAgent, Socket
from tests.clinics.test_call import arrive, ready_clinic
from tests.conftest import Server


async def test_call_across_two_processes_survives_a_process_dying(
    server: Server,
    process_b: tuple[str, asyncio.subprocess.Process],
    client: httpx.AsyncClient,
    conn: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(waiting_room, "STALE_SECONDS", 8)  # process A's sweep, shortened for the test
    url_b, process = process_b
    clinic, nurse_token, employee_token = await ready_clinic(client, conn)
    appointment = clinic.appointments[0]["id"]
    nurse, employee = Socket(server.url, "nurse@A"), Socket(url_b, "employee@B")
    nurse_agent, employee_agent = CallAgent(nurse), CallAgent(employee)
    try:
        nurse_id = (await nurse.open({"clinic": clinic.session["id"], "token": nurse_token}))["participant"]
        await nurse.expect("room")
        welcome = await arrive(employee, employee_token, appointment)
        me = welcome["participant"]
        assert (await employee.expect("queue"))["position"] == 1
        arrival = await nurse.expect(lambda m: m["t"] == "participant" and m["entry"]["state"] == "waiting")
        assert arrival["entry"]["participant"] == me

        await nurse.send({"t": "admit", "participant": me})
        await employee.expect("call", appointment=appointment)
        await employee_agent.frames_from(nurse_id, 10)
        await nurse_agent.frames_from(me, 10)

        process.send_signal(signal.SIGKILL)  # no goodbye from process B
        await process.wait()
        await nurse.expect("peer", status="reconnecting", within=30)
        before = nurse_agent.frames[me]
        await nurse_agent.frames_from(me, before + 10)  # media is browser to browser: unaffected

        employee_on_a = Socket(server.url, "employee@A")
        employee_agent.socket = employee_on_a
        employee_on_a.listeners.append(employee_agent._on_message)
        resumed = await employee_on_a.open(
            {"appointment": appointment, "token": employee_token, "resume": welcome["gen"]}
        )
        assert resumed["resumed"] is True
        await employee_on_a.expect("state", state="in_call")
        await nurse.expect("peer", status="connected")
        await employee_agent.frames_from(nurse_id, employee_agent.frames[nurse_id] + 10)
        assert nurse_agent.errors == []
        assert employee_agent.errors == []
        await employee_on_a.close()
    finally:
        for agent in (nurse_agent, employee_agent):
            await agent.close()
        await nurse.close()
    state = await conn.fetchval("SELECT state FROM clinic_participant WHERE id = $1::uuid", me)
    assert state == "in_call"


async def test_a_waiting_place_survives_a_restart_of_every_process(
    server: Server,
    process_b: tuple[str, asyncio.subprocess.Process],
    client: httpx.AsyncClient,
    conn: asyncpg.Connection,
) -> None:
    url_b, process = process_b
    clinic, nurse_token, employee_token = await ready_clinic(client, conn)
    appointment = clinic.appointments[0]["id"]
    employee = Socket(url_b, "employee@B")
    welcome = await arrive(employee, employee_token, appointment)
    first = await conn.fetchval(
        "SELECT waiting_since FROM clinic_participant WHERE id = $1::uuid", welcome["participant"]
    )
    process.send_signal(signal.SIGTERM)  # a graceful restart of B: the socket is closed by the server
    await asyncio.wait_for(process.wait(), 15)
    assert employee.closed_code is not None

    again = Socket(server.url, "employee@A")
    welcome = await again.open({"appointment": appointment, "token": employee_token})
    await again.expect("state", state="waiting")  # not sent back to the pre-call test or the end of the queue
    assert (await again.expect("queue"))["position"] == 1
    nurse = Socket(server.url, "nurse")
    await nurse.open({"clinic": clinic.session["id"], "token": nurse_token})
    room = await nurse.expect("room")
    assert [(e["state"], e["connected"]) for e in room["entries"]] == [("waiting", True)]
    still = await conn.fetchval(
        "SELECT waiting_since FROM clinic_participant WHERE id = $1::uuid", welcome["participant"]
    )
    assert still == first
    await again.close()
    await nurse.close()
