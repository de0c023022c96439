"""Sign-in throttling holds under concurrency: many wrong passwords at once, in two processes,
get at most ``login_max_failures`` password checks; the rest are refused with 429 unchecked."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx

from tests.conftest import Server
from tests.factories import PASSWORD, make_world
from tests.processes import app_process


async def test_forty_concurrent_wrong_passwords_in_two_processes_get_ten_checks(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection, db_dsn: str
) -> None:
    world = await make_world(conn)
    target = world.users["manager"]
    limit = server.settings.login_max_failures
    async with (
        app_process(db_dsn) as (other_url, _),
        httpx.AsyncClient(base_url=other_url, timeout=60) as other,
    ):

        async def guess(http: httpx.AsyncClient, n: int) -> int:
            response = await http.post(
                "/api/v1/auth/login", json={"email": target.email, "password": f"wrong-guess-{n}"}
            )
            return response.status_code

        codes = await asyncio.gather(*(guess(client if n % 2 else other, n) for n in range(40)))
    # Every password check leaves one login_attempt row and one audited refusal.
    checks = await conn.fetchval("SELECT count(*) FROM login_attempt WHERE email = $1", target.email)
    audited = await conn.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'auth.login' AND entity_id = $1",
        str(target.id),
    )
    assert checks == limit, f"{checks} password checks for a limit of {limit}"
    assert audited == limit
    assert sorted(codes) == [401] * limit + [429] * (40 - limit)
    # The right password is refused too until the window has passed.
    locked = await client.post("/api/v1/auth/login", json={"email": target.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert await conn.fetchval("SELECT count(*) FROM login_attempt WHERE email = $1", target.email) == limit


async def test_a_correct_password_under_concurrency_signs_in_and_counts_as_success(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    target = world.users["clinician"]

    async def attempt(password: str) -> int:
        response = await client.post("/api/v1/auth/login", json={"email": target.email, "password": password})
        return response.status_code

    codes = await asyncio.gather(*(attempt(PASSWORD if n < 3 else "nope") for n in range(6)))
    assert sorted(codes) == [200, 200, 200, 401, 401, 401]
    rows = await conn.fetch("SELECT succeeded FROM login_attempt WHERE email = $1", target.email)
    assert sorted(r["succeeded"] for r in rows) == [False, False, False, True, True, True]
