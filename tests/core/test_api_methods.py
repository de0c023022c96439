"""Requests under /api/ are answered by the API, never by the static-file mount: an existing path
with a method it does not take is 405 with its real Allow list (OPTIONS included: no CORS here),
an unknown path is 404, both application/problem+json."""

from __future__ import annotations

import httpx


async def test_api_paths_answer_405_with_their_methods_or_404(client: httpx.AsyncClient) -> None:
    cases = [
        ("OPTIONS", "/api/v1/referrals", 405, "GET, POST"),
        ("DELETE", "/api/v1/referrals", 405, "GET, POST"),
        ("OPTIONS", "/api/v1/referrals/00000000-0000-4000-8000-000000000000/comments", 405, "GET, POST"),
        ("PUT", "/api/v1/auth/login", 405, "POST"),
        ("OPTIONS", "/api/v1/no-such-thing", 404, None),
        ("POST", "/api/v1/no-such-thing", 404, None),
        ("GET", "/api/v1/no-such-thing", 404, None),
    ]
    for method, path, status, allow in cases:
        response = await client.request(method, path)
        assert (response.status_code, response.headers.get("allow")) == (status, allow), (method, path)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == ("method_not_allowed" if status == 405 else "not_found")
    # The pages are still served, and still refuse what a file cannot do.
    assert (await client.get("/")).status_code == 200
    assert (await client.request("OPTIONS", "/index.html")).headers["allow"] == "GET, HEAD"
