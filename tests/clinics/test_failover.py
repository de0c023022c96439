"""Failing over between two app processes (a real uvicorn subprocess, process B, beside the test's
own server, process A), with real aiortc peers.

1. A process dies while it holds someone's socket, and they resume on the other process at once:
   the dropped connection is still recorded in the call's activity log when the dead process's
   lease runs out.
2. An SDP answer sent while its receiver's socket is between processes is kept and given to the
   receiver when it resumes on the other process, so the negotiation completes.
3. A process that starts records what a process that died long before left open.
"""

from __future__ import annotations

import asyncio
import signal
from uuid import uuid4

import asyncpg
import httpx
import pytest

from backend.clinics import waiting_room
from backend.db.pool import create_pool
from backend.db.pubsub import Hub
from tests.clinics.agents import CallAgent, Socket
from tests.clinics.test_call import arrive, ready_clinic
from tests.conftest import Server


async def _kill(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGKILL)  # no goodbye from process B
    await process.wait()


async def test_a_connection_lost_with_its_process_is_in_the_activity_log(
    server: Server,
    process_b: tuple[str, asyncio.subprocess.Process],
    client: httpx.AsyncClient,
    conn: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(waiting_room, "STALE_SECONDS", 6)  # process A's lease check, shortened
    url_b, process = process_b
    clinic, nurse_token, employee_token = await ready_clinic(client, conn)
    appointment = clinic.appointments[0]["id"]
    nurse, employee = Socket(server.url, "nurse@A"), Socket(url_b, "employee@B")
    nurse_agent, employee_agent = CallAgent(nurse), CallAgent(employee)
    try:
        nurse_id = (await nurse.open({"clinic": clinic.session["id"], "token": nurse_token}))["participant"]
        welcome = await arrive(employee, employee_token, appointment)
        me = welcome["participant"]
        await nurse.send({"t": "admit", "participant": me})
        await employee_agent.frames_from(nurse_id, 5)
        dropped = await conn.fetchval("SELECT connection_id FROM clinic_participant WHERE id = $1::uuid", me)

        await _kill(process)
        employee_on_a = Socket(server.url, "employee@A")  # back at once, before any sweep
        employee_agent.move_to(employee_on_a)
        resumed = await employee_on_a.open(
            {"appointment": appointment, "token": employee_token, "resume": welcome["gen"]}
        )
        assert resumed["resumed"] is True

        found = None
        for _ in range(250):  # the lease (6 s here) runs out; A's next heartbeat records the drop
            found = await conn.fetchrow(
                "SELECT detail, at FROM call_event WHERE participant_id = $1::uuid AND kind = 'left'"
                " AND detail->>'reason' = 'server process stopped'",
                me,
            )
            if found is not None:
                break
            await asyncio.sleep(0.1)
        assert found is not None, "the connection lost with process B is not in the activity log"
        assert found["detail"] == {
            "reason": "server process stopped",
            "gen": welcome["gen"],
            "resumed": True,
        }
        ledger = await conn.fetchrow(
            "SELECT closed_at, close_reason FROM clinic_connection WHERE id = $1", dropped
        )
        assert ledger is not None
        assert ledger["close_reason"] == "server process stopped"
        # the person had already resumed: their place is untouched and nobody was told otherwise
        row = await conn.fetchrow(
            "SELECT state, connection_id FROM clinic_participant WHERE id = $1::uuid", me
        )
        assert row is not None
        assert row["state"] == "in_call"
        assert row["connection_id"] is not None
        assert row["connection_id"] != dropped
        assert not any(m["t"] == "peer" and m["status"] == "reconnecting" for m in nurse.seen)
        assert await conn.fetchval("SELECT count(*) FROM clinic_process") == 1  # only A's lease left
        await employee_on_a.close()
    finally:
        for agent in (nurse_agent, employee_agent):
            await agent.close()
        await nurse.close()


async def test_an_answer_sent_while_its_receiver_moves_process_completes_the_call(
    server: Server,
    process_b: tuple[str, asyncio.subprocess.Process],
    client: httpx.AsyncClient,
    conn: asyncpg.Connection,
) -> None:
    url_b, process = process_b
    clinic, nurse_token, employee_token = await ready_clinic(client, conn)
    appointment = clinic.appointments[0]["id"]
    nurse, employee = Socket(url_b, "nurse@B"), Socket(server.url, "employee@A")
    nurse_agent, employee_agent = CallAgent(nurse), CallAgent(employee)
    gate = asyncio.Event()
    employee_agent.answer_gate = gate  # the employee's answer waits until the nurse's process is gone
    try:
        nurse_welcome = await nurse.open({"clinic": clinic.session["id"], "token": nurse_token})
        nurse_id = nurse_welcome["participant"]
        me = (await arrive(employee, employee_token, appointment))["participant"]
        await nurse.send({"t": "admit", "participant": me})
        offer = await employee.expect("sdp")  # the nurse (impolite) offers; the answer is held
        assert offer["description"]["type"] == "offer"
        last_signal = max((m["id"] for m in nurse.seen if m["t"] in ("sdp", "ice", "bye")), default=0)

        await _kill(process)
        gate.set()  # the answer is sent now, while no process holds the nurse's socket
        for _ in range(100):
            sent = await conn.fetchval(
                "SELECT count(*) FROM clinic_signal WHERE to_participant = $1::uuid"
                " AND body->'description'->>'type' = 'answer'",
                nurse_id,
            )
            if sent:
                break
            await asyncio.sleep(0.05)
        assert sent == 1
        await asyncio.sleep(0.5)  # its notification has come and gone: nobody could deliver it then

        nurse_on_a = Socket(server.url, "nurse@A")
        nurse_agent.move_to(nurse_on_a)
        resumed = await nurse_on_a.open(
            {
                "clinic": clinic.session["id"],
                "token": nurse_token,
                "resume": nurse_welcome["gen"],
                "last_signal": last_signal,
            }
        )
        assert resumed["resumed"] is True
        answer = await nurse_on_a.expect("sdp")
        assert answer["description"]["type"] == "answer"
        assert answer["id"] > last_signal
        await nurse_agent.frames_from(me, 5)  # the negotiation completed: media flows both ways
        await employee_agent.frames_from(nurse_id, 5)
        assert nurse_agent.errors == []
        assert employee_agent.errors == []

        # given once: a second resume after it does not repeat it
        again = Socket(server.url, "nurse@A again")
        await nurse_on_a.drop()
        nurse_agent.move_to(again)
        await again.open(
            {
                "clinic": clinic.session["id"],
                "token": nurse_token,
                "resume": nurse_welcome["gen"],
                "last_signal": answer["id"],
            }
        )
        await again.expect("call")
        assert not [m for m in again.seen if m["t"] == "sdp"]
        await again.close()
    finally:
        for agent in (nurse_agent, employee_agent):
            await agent.close()
        await employee.close()


async def test_a_starting_process_records_what_a_long_dead_one_left_open(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection, db_dsn: str
) -> None:
    """Nobody was running when a process died: the next process to start records its sockets."""
    clinic, _, employee_token = await ready_clinic(client, conn)
    employee = Socket(server.url, "employee")
    me = (await arrive(employee, employee_token, clinic.appointments[0]["id"]))["participant"]
    await employee.close()
    dead, orphan = uuid4(), uuid4()
    await conn.execute(
        "INSERT INTO clinic_process (id, beat_at) VALUES ($1, now() - interval '1 hour')", dead
    )
    await conn.execute(
        "INSERT INTO clinic_connection (id, participant_id, process_id, gen) VALUES ($1, $2::uuid, $3, 7)",
        orphan,
        me,
        dead,
    )
    pool = await create_pool(db_dsn, min_size=1, max_size=2, role=None)
    hub = Hub(db_dsn)
    await hub.start()
    rooms = waiting_room.Rooms(pool, hub)
    try:
        await rooms.start()
        detail = await conn.fetchval(
            "SELECT detail FROM call_event WHERE participant_id = $1::uuid AND kind = 'left'"
            " AND detail->>'reason' = 'server process stopped'",
            me,
        )
        assert detail == {"reason": "server process stopped", "gen": 7, "resumed": True}
        assert await conn.fetchval("SELECT count(*) FROM clinic_process WHERE id = $1", dead) == 0
        assert await conn.fetchval("SELECT count(*) FROM clinic_process WHERE id = $1", rooms.process_id) == 1
    finally:
        await rooms.stop()
        await hub.stop()
        await pool.close()
