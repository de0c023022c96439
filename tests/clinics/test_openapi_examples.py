"""Every clinic request body's documented example works unchanged against real records."""

from __future__ import annotations

import asyncpg
import httpx

from tests.clinics.helpers import bearer, join_employee, make_clinic
from tests.core.test_openapi import _example, _json_body


async def test_clinic_examples_are_accepted(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    clinic = await make_clinic(client, conn)
    appointment = clinic.appointments[0]["id"]
    employee = bearer((await join_employee(client, conn))["access_token"])
    document = (await client.get("/openapi.json")).json()
    results = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = _json_body(operation)
            if body is None or not path.startswith("/api/v1/clinics"):
                continue
            headers = employee if path.endswith("/consent") else clinic.nurse
            url = path.replace("{appointment_id}", appointment)
            response = await client.request(method, url, json=_example(document, body), headers=headers)
            results[f"{method.upper()} {path}"] = response.status_code
    assert len(results) >= 5, results
    assert not {op: code for op, code in results.items() if code == 422 or code >= 500}, results
    assert results["POST /api/v1/clinics/appointments/{appointment_id}/guests"] == 201
    assert results["POST /api/v1/clinics/appointments/{appointment_id}/consent"] == 200
    assert results["POST /api/v1/clinics/appointments/{appointment_id}/start"] == 200
