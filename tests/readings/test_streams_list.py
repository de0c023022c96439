"""GET /api/v1/readings/streams through the list kit: sorts, paging with a real total, a refused
sort named, and only the streams in the caller's scope counted."""

from __future__ import annotations

import asyncpg
import httpx

from tests.factories import login, make_world
from tests.readings.helpers import start_stream


async def test_streams_sort_and_page(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    world = await make_world(conn)
    employee = await login(client, world.users["employee"])
    ids = [str((await start_stream(client, employee))[0]) for _ in range(3)]
    await conn.execute(
        "UPDATE reading_stream SET created_at = created_at - make_interval(mins => (10 - i)::int)"
        " FROM unnest($1::uuid[]) WITH ORDINALITY AS o(id, i) WHERE reading_stream.id = o.id",
        ids,
    )
    nurse = await login(client, world.users["clinician"])

    async def listed(headers: dict[str, str], **params: str | int) -> tuple[list[str], int]:
        response = await client.get("/api/v1/readings/streams", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()["items"]], response.json()["total"]

    assert await listed(nurse, sort="started") == (ids, 3)
    assert await listed(nurse, sort="-started") == (ids[::-1], 3)
    assert await listed(nurse, sort="started", limit=1, offset=1) == ([ids[1]], 3)
    assert await listed(nurse, limit=2, offset=9) == ([], 3)  # a real total past the end
    assert await listed(await login(client, world.users["other_clinician"])) == ([], 0)
    refused = await client.get("/api/v1/readings/streams", params={"sort": "heart_rate"}, headers=nurse)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["sort"]
