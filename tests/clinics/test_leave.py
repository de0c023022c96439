"""Leaving a call on purpose, with real aiortc peers through the real server.

The employee sends ``leave``: their place becomes ``left``, the activity log says so, the nurse is
told they left (not that they are reconnecting), and the nurse's signalling to them is refused
from then on. The nurse leaving the clinic is shown to the employee the same way.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx

from backend.clinics import presence
from backend.clinics.presence import Seat
from tests.clinics.agents import CallAgent, Socket
from tests.clinics.test_call import arrive, ready_clinic
from tests.conftest import Server

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP 0\r\n"}


async def _left_events(conn: asyncpg.Connection, participant: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT detail FROM call_event WHERE participant_id = $1::uuid AND kind = 'left' ORDER BY id",
        participant,
    )
    return [dict(r["detail"]) for r in rows]


async def test_employee_leaves_and_the_nurse_is_told(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic, nurse_token, employee_token = await ready_clinic(client, conn)
    appointment = clinic.appointments[0]["id"]
    nurse, employee = Socket(server.url, "nurse"), Socket(server.url, "employee")
    nurse_agent, employee_agent = CallAgent(nurse), CallAgent(employee)
    try:
        nurse_id = (await nurse.open({"clinic": clinic.session["id"], "token": nurse_token}))["participant"]
        me = (await arrive(employee, employee_token, appointment))["participant"]
        await nurse.send({"t": "admit", "participant": me})
        await employee_agent.frames_from(nurse_id, 5)
        await nurse_agent.frames_from(me, 5)

        await employee.send({"t": "leave"})
        await employee.expect("state", state="left")  # the page's acknowledgement
        entry = await nurse.expect(lambda m: m["t"] == "participant" and m["entry"]["state"] == "left")
        assert entry["entry"]["participant"] == me  # the list says "Left"...
        gone = await nurse.expect("peer", status="left")  # ...and so does the call
        assert gone["peer"]["participant"] == me
        assert gone["state"] == "left"  # they chose to leave: not on hold, not reconnecting
        assert me not in nurse_agent.legs  # the nurse's peer connection to them is closed
        await employee.close()

        # an ICE restart (a new offer) to someone who left is refused and goes nowhere
        count = "SELECT count(*) FROM clinic_signal WHERE to_participant = $1::uuid"
        signals = await conn.fetchval(count, me)
        await nurse.send({"t": "sdp", "to": me, "pc": "restart1", "description": OFFER})
        refused = await nurse.expect("error", refused="sdp")
        assert refused["code"] == "participant_not_found"
        after = await conn.fetchval(count, me)
        assert after == signals
        assert not any(m["t"] == "peer" and m["status"] == "reconnecting" for m in nurse.seen)

        # one entry in the activity log, not also a "connection lost" when the socket then closed
        assert await _left_events(conn, me) == [{"reason": "left the call", "gen": 1}]
        state = await conn.fetchval("SELECT state FROM clinic_participant WHERE id = $1::uuid", me)
        assert state == "left"

        # coming back means waiting to be admitted again
        again = Socket(server.url, "employee again")
        await again.open({"appointment": appointment, "token": employee_token})
        await again.expect("state", state="testing")
        await again.send({"t": "ready"})
        await again.expect("state", state="waiting")
        await again.close()
        assert nurse_agent.errors == []
        assert employee_agent.errors == []
    finally:
        for agent in (nurse_agent, employee_agent):
            await agent.close()
        await nurse.close()


async def test_nurse_leaves_the_clinic_and_the_employee_is_told(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic, nurse_token, employee_token = await ready_clinic(client, conn)
    appointment = clinic.appointments[0]["id"]
    nurse, employee = Socket(server.url, "nurse"), Socket(server.url, "employee")
    nurse_agent, employee_agent = CallAgent(nurse), CallAgent(employee)
    try:
        nurse_id = (await nurse.open({"clinic": clinic.session["id"], "token": nurse_token}))["participant"]
        me = (await arrive(employee, employee_token, appointment))["participant"]
        await nurse.send({"t": "admit", "participant": me})
        await employee_agent.frames_from(nurse_id, 5)

        await nurse.send({"t": "leave"})
        await nurse.expect("state", state="left")
        await nurse.expect("call", appointment=None)  # in no call any more; nobody "left" them
        gone = await employee.expect("peer", status="left")
        assert gone["peer"]["participant"] == nurse_id
        assert gone["state"] == "left"
        assert nurse_id not in employee_agent.legs
        assert not [m for m in nurse.seen if m["t"] == "peer" and m["status"] == "left"]
        await nurse.close()
        assert await _left_events(conn, nurse_id) == [{"reason": "left the call", "gen": 1}]

        # the nurse comes back to the clinic: the call carries on with a fresh peer connection
        back = Socket(server.url, "nurse again")
        nurse_agent.move_to(back)
        await back.open({"clinic": clinic.session["id"], "token": nurse_token})
        await employee.expect("peer", status="joined")
        await employee_agent.frames_from(nurse_id, employee_agent.frames[nurse_id] + 5)
        await back.close()
        assert employee_agent.errors == []
    finally:
        for agent in (nurse_agent, employee_agent):
            await agent.close()
        await employee.close()


async def test_ending_a_call_while_someone_leaves_it_does_not_deadlock(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection, db_dsn: str
) -> None:
    """``end`` locks the appointment, then each person's place; a leave (or a lost socket) holds a
    place, then logs against the appointment. The appointment lock must let that log row in."""
    clinic, nurse_token, employee_token = await ready_clinic(client, conn)
    appointment = clinic.appointments[0]["id"]
    nurse, employee = Socket(server.url, "nurse"), Socket(server.url, "employee")
    welcome = await nurse.open({"clinic": clinic.session["id"], "token": nurse_token})
    me = (await arrive(employee, employee_token, appointment))["participant"]
    await nurse.send({"t": "admit", "participant": me})
    await employee.expect("state", state="in_call")
    seat = Seat(UUID(welcome["participant"]), UUID(clinic.session["id"]), None, "clinician", None, uuid4(), 1)
    leaving, ending = await asyncpg.connect(db_dsn), await asyncpg.connect(db_dsn)
    await ending.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    try:
        held = leaving.transaction()
        await held.start()
        await leaving.execute("UPDATE clinic_participant SET gen = gen WHERE id = $1::uuid", me)  # the place
        end = asyncio.create_task(presence.end(ending, seat, UUID(appointment)))
        await asyncio.sleep(1.5)  # end now waits for the place (PostgreSQL looks for deadlocks after 1 s)
        await leaving.execute(
            "INSERT INTO call_event (appointment_id, participant_id, kind, detail)"
            " VALUES ($1::uuid, $2::uuid, 'left', '{}')",
            appointment,
            me,
        )
        await held.commit()
        await asyncio.wait_for(end, 10)
    finally:
        await leaving.close()
        await ending.close()
        await nurse.close()
        await employee.close()
    status = await conn.fetchval("SELECT status FROM appointment WHERE id = $1::uuid", appointment)
    assert status == "completed"
