from __future__ import annotations

import asyncpg
import httpx
import pytest

from backend.auth.schemas import Role
from tests.conftest import Server
from tests.factories import PASSWORD, login, make_org, make_user, make_world


async def test_login_returns_token_and_secure_cookie_flags(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    nurse = world.users["clinician"]
    response = await client.post(
        "/api/v1/auth/login", json={"email": nurse.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["user"] == {
        "id": str(nurse.id),
        "role": "clinician",
        "organisation_id": str(world.provider.id),
        "email": nurse.email,
        "full_name": nurse.full_name,
        "department": None,
    }
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("ohc_session="))
    assert "HttpOnly" in session_cookie
    assert "SameSite=lax" in session_cookie or "samesite=lax" in session_cookie.lower()
    assert "Secure" not in session_cookie  # plain http on loopback
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["id"] == str(nurse.id)


async def test_unknown_user_and_wrong_password_look_the_same(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": world.users["manager"].email, "password": "nope"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": "nobody@employer.example", "password": "nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.headers["content-type"].startswith("application/problem+json")


async def test_passwords_and_tokens_are_stored_hashed(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    headers = await login(client, world.users["manager"])
    token = headers["Authorization"].removeprefix("Bearer ")
    stored = await conn.fetchval(
        "SELECT password_hash FROM app_user WHERE id = $1", world.users["manager"].id
    )
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    hashes = await conn.fetch("SELECT token_hash, csrf_hash FROM auth_session")
    assert hashes
    for row in hashes:
        assert token.encode() not in bytes(row["token_hash"])
        assert len(bytes(row["token_hash"])) == 32


async def test_throttling_after_ten_failures_per_account(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    target, bystander = world.users["manager"], world.users["client_admin"]
    for _ in range(10):
        failed = await client.post("/api/v1/auth/login", json={"email": target.email, "password": "guess"})
        assert failed.status_code == 401
    locked = await client.post("/api/v1/auth/login", json={"email": target.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["code"] == "too_many_attempts"
    assert int(locked.headers["Retry-After"]) > 0
    # Another account is not affected, and the window really is time-bound.
    await login(client, bystander)
    await conn.execute(
        "UPDATE login_attempt SET at = at - interval '16 minutes' WHERE email = $1", target.email
    )
    await login(client, target)


async def test_logout_revokes_token_and_cookie(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    world = await make_world(conn)
    headers = await login(client, world.users["clinician"])
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    assert client.cookies.get("ohc_session")
    out = await client.post("/api/v1/auth/logout", headers=headers)
    assert out.status_code == 204
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
    revoked = await conn.fetchval("SELECT count(*) FROM auth_session WHERE revoked_at IS NOT NULL")
    assert revoked == 1


async def test_cookie_session_and_csrf(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    world = await make_world(conn)
    manager = world.users["manager"]
    response = await client.post("/api/v1/auth/login", json={"email": manager.email, "password": PASSWORD})
    csrf = response.json()["csrf_token"]
    assert client.cookies.get("ohc_csrf") == csrf
    # Reads with the cookie alone work.
    assert (await client.get("/api/v1/me")).status_code == 200
    from tests.factories import referral_form

    before = await conn.fetchval("SELECT count(*) FROM referral")
    refused = await client.post("/api/v1/referrals", json=referral_form())
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    forged = await client.post("/api/v1/referrals", json=referral_form(), headers={"X-CSRF-Token": "x" * 43})
    assert forged.status_code == 403
    assert await conn.fetchval("SELECT count(*) FROM referral") == before
    accepted = await client.post("/api/v1/referrals", json=referral_form(), headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 201
    # Logout by cookie needs the CSRF header too.
    assert (await client.post("/api/v1/auth/logout")).status_code == 403
    assert (await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})).status_code == 204
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_unauthenticated_requests_get_401(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/referrals"),
        ("GET", "/api/v1/me/access-log"),
    ]:
        response = await client.request(method, path)
        assert response.status_code == 401, path
        assert response.json()["status"] == 401
    garbage = await client.get("/api/v1/me", headers={"Authorization": "Bearer " + "a" * 500})
    assert garbage.status_code == 401


async def test_disabled_user_cannot_sign_in_or_use_a_session(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    provider = await make_org(conn, "provider")
    nurse = await make_user(conn, provider, Role.clinician)
    headers = await login(client, nurse)
    await conn.execute("UPDATE app_user SET disabled_at = now() WHERE id = $1", nurse.id)
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
    again = await client.post("/api/v1/auth/login", json={"email": nurse.email, "password": PASSWORD})
    assert again.status_code == 401


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {}


async def test_login_input_is_bounded(client: httpx.AsyncClient) -> None:
    huge = await client.post("/api/v1/auth/login", json={"email": "a@b.example", "password": "x" * 10_000})
    assert huge.status_code == 422
    assert huge.json()["errors"][0]["field"] == "password"
    bad = await client.post("/api/v1/auth/login", json={"email": "not-an-email", "password": "x"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "email"


async def test_secure_cookie_behind_tls(db_dsn: str) -> None:
    from backend.core.config import Settings

    assert Settings(database_url=db_dsn, public_url="https://oh.example").cookies_secure
    assert not Settings(database_url=db_dsn, public_url="http://127.0.0.1:8000").cookies_secure
    assert Settings(database_url=db_dsn, public_url="http://x", secure_cookies=True).cookies_secure


def _unused(server: Server) -> None:  # keeps the fixture type importable for type checkers
    del server
