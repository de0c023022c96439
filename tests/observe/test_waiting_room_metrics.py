"""Waiting-room figures and clinic sockets in GET /metrics while a nurse and an employee are in."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx

from tests.clinics.agents import Socket
from tests.clinics.test_call import arrive, ready_clinic
from tests.conftest import Server
from tests.observe.test_metrics import scrape, value


async def figures(client: httpx.AsyncClient) -> tuple[float, float, float, float]:
    text = await scrape(client)
    return (
        value(text, "ohconnect_waiting_room_sockets", kind="clinician"),
        value(text, "ohconnect_waiting_room_sockets", kind="employee"),
        value(text, "ohconnect_waiting_rooms_open"),
        value(text, "ohconnect_websockets_open", kind="clinic"),
    )


async def test_waiting_room_sizes_and_clinic_sockets(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic, nurse_token, employee_token = await ready_clinic(client, conn)
    assert await figures(client) == (0, 0, 0, 0)
    nurse, employee = Socket(server.url, "nurse"), Socket(server.url, "employee")
    try:
        welcome = await nurse.open({"clinic": clinic.session["id"], "token": nurse_token})
        assert welcome["kind"] == "clinician"
        await arrive(employee, employee_token, clinic.appointments[0]["id"])
        assert await figures(client) == (1, 1, 1, 2)
    finally:
        await employee.close()
        await nurse.close()
    for _ in range(100):
        if await figures(client) == (0, 0, 0, 0):
            break
        await asyncio.sleep(0.05)
    assert await figures(client) == (0, 0, 0, 0)
