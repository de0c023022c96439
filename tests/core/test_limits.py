from __future__ import annotations

from collections.abc import AsyncIterator

import httpx


async def test_oversized_bodies_are_refused_before_parsing(client: httpx.AsyncClient) -> None:
    huge = b'{"email": "a@b.example", "password": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = await client.post(
        "/api/v1/auth/login", content=huge, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_chunked_oversized_bodies_are_refused(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: sent chunked
        for _ in range(40):
            yield b"x" * 65536

    try:
        response = await client.post(
            "/api/v1/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
        )
    except httpx.ReadError:
        pass  # the server answered 413 and closed the connection while the client was still sending
    else:
        assert response.status_code == 413
    # Nothing else is disturbed.
    assert (await client.get("/readyz")).status_code == 200


async def test_normal_bodies_pass(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/login", json={"email": "a@b.example", "password": "x"})
    assert response.status_code == 401
