"""Link requests and failed redemptions are throttled per client address."""

from __future__ import annotations

import httpx
import pytest


async def forgot(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/api/v1/auth/password/forgotten", json={"email": email})


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"account_link_max_per_ip": 4}


async def test_requests_and_failed_redemptions_are_throttled_per_client_address(
    client: httpx.AsyncClient,
) -> None:
    for n in range(3):
        assert (await forgot(client, f"person{n}@employer.example")).status_code == 202
    bad = await client.post("/api/v1/auth/sign-in-link/redeem", json={"token": "x" * 43})
    assert bad.status_code == 404
    refused = await client.post("/api/v1/auth/sign-in-link/redeem", json={"token": "y" * 43})
    assert refused.status_code == 429
    assert (await forgot(client, "person9@employer.example")).status_code == 429
