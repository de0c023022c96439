from __future__ import annotations

import httpx


async def test_ready_and_pages(client: httpx.AsyncClient) -> None:
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert (await client.get("/healthz")).json() == {"status": "ok"}
