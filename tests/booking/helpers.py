"""Booking building blocks for tests: plan a clinic, book a referral into one of its slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx


async def plan_clinic(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    start_in: timedelta = timedelta(days=1),
    kind: str = "video",
    slots: int = 4,
    slot_minutes: int = 30,
    **extra: Any,
) -> dict[str, Any]:
    """A clinic planned through the API (by the clinician whose headers are given, unless
    ``clinician_id`` names another)."""
    starts = (datetime.now(UTC) + start_in).replace(second=0, microsecond=0)
    body = {
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(minutes=slots * slot_minutes)).isoformat(),
        "slot_minutes": slot_minutes,
        "kind": kind,
        **extra,
    }
    response = await client.post("/api/v1/booking/clinics", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def book_referral(
    client: httpx.AsyncClient, headers: dict[str, str], referral_id: str, slot_id: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/booking/appointments", json={"referral_id": referral_id, "slot_id": slot_id}, headers=headers
    )


async def book_into_new_clinic(
    client: httpx.AsyncClient, nurse: dict[str, str], referral_id: str, *, kind: str = "video"
) -> dict[str, Any]:
    """The clinician plans a clinic tomorrow and books the triaged referral into its first slot."""
    clinic = await plan_clinic(client, nurse, kind=kind)
    booked = await book_referral(client, nurse, referral_id, clinic["slots"][0]["id"])
    assert booked.status_code == 201, booked.text
    return dict(booked.json()["appointment"])
