"""Building blocks for clinic tests: a triaged referral, a clinic session, a booking, join links."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from tests.factories import World, login, make_referral, make_world

EMPLOYEE_DOB = "1985-04-12"  # the date of birth in the example referral form


@dataclass
class Clinic:
    world: World
    nurse: dict[str, str]  # the clinician's bearer headers
    session: dict[str, Any]
    appointments: list[dict[str, Any]] = field(default_factory=list)
    referrals: list[dict[str, Any]] = field(default_factory=list)


async def triaged_referral(
    client: httpx.AsyncClient, world: World, nurse: dict[str, str], *, email: str | None = None
) -> dict[str, Any]:
    manager = await login(client, world.users["manager"])
    form = None
    if email is not None:
        from tests.factories import referral_form

        base = referral_form()
        form = referral_form(employee={**base["employee"], "email": email})
    referral = await make_referral(client, manager, form=form)
    triage = {"action": "triage", "modality": "video", "clinician_grade": "ohn", "priority": "routine"}
    response = await client.post(
        f"/api/v1/referrals/{referral['id']}/transitions", json=triage, headers=nurse
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def make_session(
    client: httpx.AsyncClient,
    nurse: dict[str, str],
    *,
    start_in: timedelta,
    minutes: int = 120,
    slot_minutes: int = 30,
) -> dict[str, Any]:
    starts = (datetime.now(UTC) + start_in).replace(microsecond=0)
    body = {
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(minutes=minutes)).isoformat(),
        "slot_minutes": slot_minutes,
        "kind": "video",
    }
    response = await client.post("/api/v1/booking/clinics", json=body, headers=nurse)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def book(
    client: httpx.AsyncClient, nurse: dict[str, str], referral_id: str, slot_id: str, **extra: Any
) -> httpx.Response:
    return await client.post(
        "/api/v1/booking/appointments",
        json={"referral_id": referral_id, "slot_id": slot_id, **extra},
        headers=nurse,
    )


async def make_clinic(
    client: httpx.AsyncClient,
    conn: asyncpg.Connection,
    *,
    bookings: int = 1,
    start_in: timedelta = timedelta(minutes=5),
    **book_extra: Any,
) -> Clinic:
    """A world, a clinician's session starting soon, and `bookings` referrals booked into its slots."""
    world = await make_world(conn)
    nurse = await login(client, world.users["clinician"])
    session = await make_session(client, nurse, start_in=start_in)
    clinic = Clinic(world, nurse, session)
    for n in range(bookings):
        email = None if n == 0 else f"employee{n}@employer.example"
        referral = await triaged_referral(client, world, nurse, email=email)
        booked = await book(client, nurse, referral["id"], session["slots"][n]["id"], **book_extra)
        assert booked.status_code == 201, booked.text
        clinic.referrals.append(referral)
        clinic.appointments.append(booked.json()["appointment"])
    return clinic


async def outbox_links(conn: asyncpg.Connection, recipient: str) -> list[str]:
    """Join-link tokens e-mailed to someone, oldest first."""
    bodies = await conn.fetch(
        "SELECT body FROM outbox_message WHERE recipient = $1 ORDER BY created_at, id", recipient
    )
    return [
        m.group(1) for b in bodies for m in [re.search(r"join\.html#token=([A-Za-z0-9_\-]+)", b["body"])] if m
    ]


async def outbox_code(conn: asyncpg.Connection, recipient: str) -> str:
    """The newest identity code sent by SMS (to the phone on the referral) or e-mail (to `recipient`)."""
    body = await conn.fetchval(
        "SELECT body FROM outbox_message WHERE (recipient = $1 OR channel = 'sms') AND body LIKE 'Your code%'"
        " ORDER BY created_at DESC, id DESC LIMIT 1",
        recipient,
    )
    match = re.search(r"(\d{3}) (\d{3})", body or "")
    assert match, body
    return match.group(1) + match.group(2)


async def join_employee(
    client: httpx.AsyncClient, conn: asyncpg.Connection, email: str = "alex.example@employer.example"
) -> dict[str, Any]:
    """Redeem the newest join link e-mailed to an employee, with the right date of birth."""
    token = (await outbox_links(conn, email))[-1]
    response = await client.post("/api/v1/clinics/join", json={"token": token, "date_of_birth": EMPLOYEE_DOB})
    assert response.status_code == 200, response.text
    return dict(response.json())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
