"""The referral's history shows the video call: admitting the employee and ending the call are
recorded for occupational health and the employee (not the employer); the state moves only when
the clinician records consent to start (domain.md §3.3 row 12) and the release choice to finish."""

from __future__ import annotations

import time

import asyncpg
import httpx

from tests.clinics.agents import Socket
from tests.clinics.test_call import arrive, ready_clinic
from tests.conftest import Server
from tests.factories import login


async def test_the_call_is_recorded_in_the_referral_history(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic, nurse_token, employee_token = await ready_clinic(client, conn)
    appointment = clinic.appointments[0]["id"]
    referral = clinic.appointments[0]["referral_id"]
    nurse, employee = Socket(server.url, "nurse"), Socket(server.url, "employee")
    try:
        await nurse.open({"clinic": clinic.session["id"], "token": nurse_token})
        await nurse.expect("room")
        me = (await arrive(employee, employee_token, appointment))["participant"]
        began = time.monotonic()
        await nurse.send({"t": "admit", "participant": me})
        await employee.expect("state", state="in_call")
        started = await client.post(
            f"/api/v1/clinics/appointments/{appointment}/start",
            json={"consent_to_assessment": True},
            headers=clinic.nurse,
        )
        assert started.status_code == 200, started.text
        await nurse.send({"t": "hold", "participant": me})
        await employee.expect("state", state="held")
        await nurse.send({"t": "admit", "participant": me})  # admitted again: one "call started"
        await employee.expect("state", state="in_call")
        await nurse.send({"t": "end", "appointment": appointment})
        await employee.expect("state", state="done")
        lasted_minutes = (time.monotonic() - began) / 60
    finally:
        for socket in (nurse, employee):
            await socket.close()

    events = await client.get(f"/api/v1/referrals/{referral}/events", headers=clinic.nurse)
    assert events.status_code == 200
    actions = [e["action"] for e in events.json()]
    assert actions[-3:] == ["call_started", "start", "call_ended"], actions
    ended = events.json()[-1]
    assert ended["detail"]["appointment_id"] == appointment
    # The call's length in minutes, to 0.1: no longer than the test saw it last.
    assert 0 <= ended["detail"]["minutes"] <= round(lasted_minutes, 1) + 0.1
    assert (ended["from_status"], ended["to_status"]) == ("IN_CONSULTATION", "IN_CONSULTATION")
    assert ended["actor_id"] == str(clinic.world.users["clinician"].id)
    referral_now = (await client.get(f"/api/v1/referrals/{referral}", headers=clinic.nurse)).json()
    assert referral_now["status"] == "IN_CONSULTATION"
    assert "finish_consultation" in referral_now["allowed_actions"]

    manager = await login(client, clinic.world.users["manager"])
    history = await client.get(f"/api/v1/referrals/{referral}/events", headers=manager)
    seen = [e["action"] for e in history.json()]
    assert "call_started" not in seen
    assert "call_ended" not in seen
    assert "start" in seen
