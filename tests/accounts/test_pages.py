"""Unknown pages get an HTML page; unknown API addresses keep the one problem+json error."""

from __future__ import annotations

import httpx


async def test_unknown_pages_are_html_and_unknown_api_addresses_problem_json(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/no-such-page", "/referrals/123", "/no-such-page.html"):
        page = await client.get(path)
        assert page.status_code == 404, path
        assert page.headers["content-type"].startswith("text/html"), path
        assert "<h1>Page not found</h1>" in page.text
        assert page.headers["Cache-Control"] == "no-store"
    for path in ("/api/v1/no-such-endpoint", "/api/nothing", "/ws/nothing"):
        api = await client.get(path)
        assert api.status_code == 404, path
        assert api.headers["content-type"].startswith("application/problem+json"), path
        assert api.json()["status"] == 404
    for name in ("/", "/set-password.html", "/email-link.html", "/users.html"):
        assert (await client.get(name)).status_code == 200, name
