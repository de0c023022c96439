"""GET /api/v1/clinics/my-appointments: the signed-in employee's own appointments."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx

from tests.clinics.helpers import make_clinic
from tests.factories import login


async def test_the_employee_lists_their_own_appointments_and_the_read_is_audited(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic = await make_clinic(client, conn, bookings=2, start_in=timedelta(hours=3))
    employee = await login(client, clinic.world.users["employee"])
    mine = await client.get("/api/v1/clinics/my-appointments", headers=employee)
    assert mine.status_code == 200, mine.text
    # The second booking is for someone else (another e-mail address): not listed.
    assert [a["id"] for a in mine.json()] == [clinic.appointments[0]["id"]]
    first = mine.json()[0]
    assert first["starts_at"] == clinic.appointments[0]["starts_at"]
    assert first["kind"] == "employee"
    assert first["status"] == "booked"
    assert first["opens_at"] < first["starts_at"]
    audited = await conn.fetch(
        "SELECT subject_user_id, subject_email FROM audit_event WHERE action = 'clinic.appointment.list_own'"
    )
    employee_user = clinic.world.users["employee"]
    assert [(r["subject_user_id"], r["subject_email"]) for r in audited] == [
        (employee_user.id, employee_user.email)
    ]


async def test_staff_and_employers_have_no_appointments_of_their_own_here(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic = await make_clinic(client, conn, bookings=1)
    other = await login(client, clinic.world.users["other_employee"])
    assert (await client.get("/api/v1/clinics/my-appointments", headers=other)).json() == []
    for role in ("clinician", "provider_admin", "manager", "client_admin"):
        refused = await client.get(
            "/api/v1/clinics/my-appointments", headers=await login(client, clinic.world.users[role])
        )
        assert refused.status_code == 403, (role, refused.text)
    client.cookies.clear()  # signed out
    assert (await client.get("/api/v1/clinics/my-appointments")).status_code == 401
