"""Each way a room socket is closed has its own code (docs/clinic-protocol.md): in particular a
socket replaced by another window (4409) is no longer told the same as a join refused because
the appointment is over (4410) or its waiting room not yet open (4425)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import httpx

from tests.clinics.agents import Socket
from tests.clinics.helpers import join_employee, make_clinic
from tests.clinics.test_call import arrive, ready_clinic
from tests.conftest import Server


async def _closed(socket: Socket) -> int | None:
    for _ in range(100):
        if socket.closed_code is not None:
            return socket.closed_code
        await asyncio.sleep(0.05)
    return socket.closed_code


async def test_replaced_and_appointment_closed_have_their_own_codes(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic, nurse_token, employee_token = await ready_clinic(client, conn)
    appointment = clinic.appointments[0]["id"]
    first, second = Socket(server.url, "first window"), Socket(server.url, "second window")
    await arrive(first, employee_token, appointment)
    await second.open({"appointment": appointment, "token": employee_token})
    replaced = await first.expect("error", code="replaced")
    assert replaced["refused"] is None
    assert await _closed(first) == 4409  # CloseCode.REPLACED
    await second.close()

    nurse = Socket(server.url, "nurse")
    await nurse.open({"clinic": clinic.session["id"], "token": nurse_token})
    await nurse.send({"t": "end", "appointment": appointment})
    await nurse.expect(lambda m: m["t"] == "participant" and m["entry"]["state"] == "done")
    late = Socket(server.url, "after the end")
    refused = await late.open({"appointment": appointment, "token": employee_token})
    assert refused["code"] == "appointment_closed"
    assert await _closed(late) == 4410  # CloseCode.APPOINTMENT_CLOSED
    await nurse.close()


async def test_a_room_not_open_yet_has_its_own_code(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic = await make_clinic(client, conn, start_in=timedelta(hours=3))
    await conn.execute("UPDATE clinic_slot SET starts_at = starts_at - interval '3 hours'")
    joined = await join_employee(client, conn)
    await conn.execute("UPDATE clinic_slot SET starts_at = starts_at + interval '3 hours'")
    early = Socket(server.url, "early")
    refused = await early.open({"appointment": clinic.appointments[0]["id"], "token": joined["access_token"]})
    assert refused["code"] == "room_not_open"
    assert await _closed(early) == 4425  # CloseCode.ROOM_NOT_OPEN

    stranger = Socket(server.url, "not invited")
    refused = await stranger.open({"clinic": clinic.session["id"], "token": joined["access_token"]})
    assert refused["code"] == "participant_not_found"
    assert await _closed(stranger) == 4404  # CloseCode.NOT_INVITED
