"""Seeing when a session ends and staying signed in, up to the longest a session may last."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import asyncpg
import httpx
import pytest

from tests.factories import PASSWORD, make_world

SESSION_HOURS, MAX_HOURS = 12, 24  # the defaults


async def _sign_in(client: httpx.AsyncClient, conn: asyncpg.Connection) -> tuple[dict[str, str], str]:
    world = await make_world(conn)
    response = await client.post(
        "/api/v1/auth/login", json={"email": world.users["clinician"].email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    client.cookies.clear()  # bearer only, unless a test signs in by cookie itself
    return {"Authorization": f"Bearer {response.json()['access_token']}"}, str(world.users["clinician"].id)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_extending_moves_the_end_and_is_audited(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    headers, user_id = await _sign_in(client, conn)
    await conn.execute("UPDATE auth_session SET expires_at = now() + interval '90 seconds'")
    status = (await client.get("/api/v1/auth/session", headers=headers)).json()
    assert status["can_extend"] is True
    now = await conn.fetchval("SELECT now()")
    assert _at(status["expires_at"]) - now < timedelta(minutes=2)

    extended = await client.post("/api/v1/auth/session/extend", headers=headers)
    assert extended.status_code == 200, extended.text
    body = extended.json()
    assert abs(_at(body["expires_at"]) - (now + timedelta(hours=SESSION_HOURS))) < timedelta(minutes=1)
    stored = await conn.fetchval("SELECT expires_at FROM auth_session")
    assert stored == _at(body["expires_at"])
    assert "set-cookie" not in extended.headers  # a bearer client has no cookies to renew
    audited = await conn.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'auth.session.extend' AND actor_id::text = $1",
        user_id,
    )
    assert audited == 1


async def test_a_session_never_outlives_its_longest_life(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    headers, _ = await _sign_in(client, conn)
    await conn.execute(
        "UPDATE auth_session SET created_at = now() - interval '23 hours 30 minutes',"
        " expires_at = now() + interval '1 minute'"
    )
    created = await conn.fetchval("SELECT created_at FROM auth_session")
    first = (await client.post("/api/v1/auth/session/extend", headers=headers)).json()
    assert _at(first["expires_at"]) == created + timedelta(hours=MAX_HOURS)
    assert _at(first["latest_expiry"]) == created + timedelta(hours=MAX_HOURS)
    assert first["can_extend"] is False
    again = (await client.post("/api/v1/auth/session/extend", headers=headers)).json()
    assert again["expires_at"] == first["expires_at"]
    # Extending never shortens: a session already ending later than now + 12 h keeps its end.
    await conn.execute("UPDATE auth_session SET created_at = now(), expires_at = now() + interval '20 hours'")
    later = await conn.fetchval("SELECT expires_at FROM auth_session")
    kept = (await client.post("/api/v1/auth/session/extend", headers=headers)).json()
    assert _at(kept["expires_at"]) == later


async def test_an_ended_or_signed_out_session_cannot_be_extended(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    headers, _ = await _sign_in(client, conn)
    await conn.execute("UPDATE auth_session SET expires_at = now() - interval '1 second'")
    assert (await client.post("/api/v1/auth/session/extend", headers=headers)).status_code == 401
    assert (await client.get("/api/v1/auth/session", headers=headers)).status_code == 401
    assert (await client.post("/api/v1/auth/session/extend")).status_code == 401


async def test_browser_cookies_are_renewed_and_need_the_csrf_token(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    login = await client.post(
        "/api/v1/auth/login", json={"email": world.users["manager"].email, "password": PASSWORD}
    )
    csrf, token = login.json()["csrf_token"], client.cookies.get("ohc_session")
    assert (await client.post("/api/v1/auth/session/extend")).status_code == 403  # no CSRF header
    await conn.execute("UPDATE auth_session SET expires_at = now() + interval '1 minute'")
    extended = await client.post("/api/v1/auth/session/extend", headers={"X-CSRF-Token": csrf})
    assert extended.status_code == 200, extended.text
    new_end = _at(extended.json()["expires_at"])
    cookies = {c.split("=", 1)[0]: c for c in extended.headers.get_list("set-cookie")}
    assert set(cookies) == {"ohc_session", "ohc_csrf"}
    assert f"ohc_session={token};" in cookies["ohc_session"]  # the same session, a later end
    assert f"ohc_csrf={csrf};" in cookies["ohc_csrf"]
    for cookie in cookies.values():
        expires = next(p for p in cookie.split("; ") if p.lower().startswith("expires="))
        assert abs(parsedate_to_datetime(expires.split("=", 1)[1]) - new_end) < timedelta(seconds=2)
    assert "HttpOnly" in cookies["ohc_session"]
    assert (await client.get("/api/v1/me")).status_code == 200


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_needs_a_session(client: httpx.AsyncClient, method: str) -> None:
    path = "/api/v1/auth/session" if method == "GET" else "/api/v1/auth/session/extend"
    response = await client.request(method, path, headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
