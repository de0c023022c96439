"""Every booking request body's documented example is accepted unchanged (never 422 or 5xx)."""

from __future__ import annotations

import asyncpg
import httpx

from tests.clinics.helpers import make_clinic
from tests.core.test_openapi import _example, _json_body
from tests.factories import login


async def test_booking_examples_are_accepted(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    clinic = await make_clinic(client, conn)
    appointment = clinic.appointments[0]["id"]
    employee = await login(client, clinic.world.users["employee"])
    document = (await client.get("/openapi.json")).json()
    results = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = _json_body(operation)
            if body is None or not path.startswith("/api/v1/booking"):
                continue
            headers = employee if "/mine" in path or path.endswith("/book") else clinic.nurse
            url = path.replace("{appointment_id}", appointment).replace("{offer_id}", appointment)
            response = await client.request(method, url, json=_example(document, body), headers=headers)
            results[f"{method.upper()} {path}"] = response.status_code
    assert len(results) >= 7, results
    assert not {op: code for op, code in results.items() if code == 422 or code >= 500}, results
    assert results["POST /api/v1/booking/clinics"] == 201
    assert results["POST /api/v1/booking/appointments/{appointment_id}/cancel"] == 200
