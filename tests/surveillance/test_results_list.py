"""GET /api/v1/surveillance/results through the list kit: search, sorts, paging with a real total,
a refused sort named, and the caller's scope applied first."""

from __future__ import annotations

import asyncpg
import httpx

from tests.factories import login, make_world
from tests.surveillance.helpers import enrol, make_programme, record, sign


async def test_results_search_sort_and_page(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    world = await make_world(conn)
    admin = await login(client, world.users["client_admin"])
    nurse = await login(client, world.users["clinician"])
    programme = await make_programme(client, admin)
    for name, number, day in (("Zoe Able", "E-7001", "2026-11-03"), ("Adam Baker", "E-7002", "2026-11-01")):
        enrolment = await enrol(client, admin, programme["id"], full_name=name, employee_number=number)
        await sign(client, nurse, (await record(client, nurse, enrolment["id"], performed_on=day))["id"])

    async def names(headers: dict[str, str], **params: str | int) -> tuple[list[str], int]:
        response = await client.get("/api/v1/surveillance/results", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [r["full_name"] for r in response.json()["items"]], response.json()["total"]

    assert await names(admin, sort="name") == (["Adam Baker", "Zoe Able"], 2)
    assert await names(admin, sort="-name") == (["Zoe Able", "Adam Baker"], 2)
    assert await names(admin, sort="performed") == (["Adam Baker", "Zoe Able"], 2)
    assert await names(admin, q="e-7001") == (["Zoe Able"], 1)
    assert await names(admin, sort="name", limit=1, offset=1) == (["Zoe Able"], 2)
    assert await names(admin, limit=1, offset=5) == ([], 2)  # a real total past the end
    other = await login(client, world.users["other_client_admin"])
    assert await names(other, q="E-70") == ([], 0)
    refused = await client.get("/api/v1/surveillance/results", params={"sort": "outcome"}, headers=admin)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["sort"]
