"""Limits are told in the units people use (a 413 says "10 MB", not "10485760 bytes")."""

from __future__ import annotations

import httpx

from backend.core.http import human_size


def test_sizes_in_words() -> None:
    assert human_size(10 * 1024 * 1024) == "10 MB"
    assert human_size(10 * 1024 * 1024 + 64 * 1024) == "10.1 MB"
    assert human_size(1536) == "1.5 KB"
    assert human_size(900) == "900 bytes"


async def test_too_large_body_names_its_limit_in_mb(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login", content=b"x" * (1024 * 1024 + 1), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["detail"] == "The request body may be at most 1 MB."
