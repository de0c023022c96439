"""Row-level security between client organisations (migration 0012, ``backend.db.scope``).

Querying as the application role directly: it sees the rows of the organisations named in
``ohconnect.orgs`` and nothing else, none when the setting is absent, all with ``*``; a write to
another organisation's row changes nothing or is refused. Through the HTTP API, a signed-in
person's queries run with their organisations only, and the connection goes back to ``*``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi.routing import APIRoute

from backend.auth.deps import CurrentUser
from backend.core.config import Settings
from backend.db import scope
from backend.db.deps import Conn
from backend.main import create_app
from tests.conftest import free_port
from tests.factories import World, login, make_referral, make_world
from tests.readings.helpers import post, simulated, start_stream
from tests.surveillance.helpers import signed_result

APP_ROLE = Settings().db_app_role

# Per table: what each visible row points at (its organisation, or its parent row), and the parent.
VISIBLE = {
    "referral": ("SELECT organisation_id FROM referral", None),
    "referral_event": ("SELECT referral_id FROM referral_event", "referral"),
    "hs_programme": ("SELECT organisation_id FROM hs_programme", None),
    "hs_person": ("SELECT organisation_id FROM hs_person", None),
    "hs_enrolment": ("SELECT organisation_id FROM hs_enrolment", None),
    "hs_result": ("SELECT organisation_id FROM hs_result", None),
    "hs_result_clinical": ("SELECT result_id FROM hs_result_clinical", "hs_result"),
    "hs_result_event": ("SELECT result_id FROM hs_result_event", "hs_result"),
    "document": ("SELECT organisation_id FROM document", None),
    "reading_stream": ("SELECT employer_id FROM reading_stream", None),
    "reading_batch": ("SELECT stream_id FROM reading_batch", "reading_stream"),
    "reading": ("SELECT stream_id FROM reading", "reading_stream"),
}
PARENT = {
    "referral": "SELECT id, organisation_id FROM referral",
    "hs_result": "SELECT id, organisation_id FROM hs_result",
    "reading_stream": "SELECT id, employer_id FROM reading_stream",
}


@dataclass
class Seeded:
    world: World
    referrals: dict[UUID, str]  # referral id -> organisation (employer / other)


async def _seed(client: httpx.AsyncClient, conn: asyncpg.Connection) -> Seeded:
    """Referrals, a signed surveillance result (with its certificate) and a reading stream with
    readings, in each of the provider's two client employers, made through the API."""
    world = await make_world(conn)
    users = world.users
    headers = {name: await login(client, users[name]) for name in users}
    referrals: dict[UUID, str] = {}
    for side, manager, admin, employee in (
        ("employer", "manager", "client_admin", "employee"),
        ("other", "other_manager", "other_client_admin", "other_employee_org"),
    ):
        referral = await make_referral(client, headers[manager])
        referrals[UUID(referral["id"])] = side
        result = await signed_result(
            client, users, employer_id="", clinician=headers["clinician"], admin=headers[admin]
        )
        certificate = await client.get(
            f"/api/v1/surveillance/results/{result['id']}/certificate.pdf", headers=headers[admin]
        )
        assert certificate.status_code == 200, certificate.text
        stream_id, device = await start_stream(client, headers[employee], "ble-hr")
        for batch in simulated("ble-hr", stream_id, seconds=3):
            assert (await post(client, device, batch)).status_code == 201
    return Seeded(world, referrals)


async def _as_app_role(conn: asyncpg.Connection, setting: str | None) -> None:
    await conn.execute(f'SET ROLE "{APP_ROLE}"')
    if setting is None:
        await conn.execute("RESET ohconnect.orgs")
    else:
        await conn.execute("SELECT set_config('ohconnect.orgs', $1, false)", setting)


async def _visible(conn: asyncpg.Connection, owner: asyncpg.Connection) -> dict[str, set[UUID]]:
    """Per table, the organisations of the rows ``conn`` sees (parents looked up by the owner, so
    that a child row is counted by its own table's policy alone)."""
    parents: dict[str, dict[UUID, UUID]] = {
        name: {r[0]: r[1] for r in await owner.fetch(sql)} for name, sql in PARENT.items()
    }
    seen: dict[str, set[UUID]] = {}
    for table, (sql, parent) in VISIBLE.items():
        keys = [r[0] for r in await conn.fetch(sql)]
        seen[table] = {parents[parent][k] if parent else k for k in keys}
    return seen


@pytest.fixture
async def app_conn(db_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(db_dsn)
    yield connection
    await connection.close()


async def test_the_app_role_sees_only_the_organisations_in_its_setting(
    client: httpx.AsyncClient, conn: asyncpg.Connection, app_conn: asyncpg.Connection
) -> None:
    seeded = await _seed(client, conn)
    employer, other = seeded.world.employer.id, seeded.world.other_employer.id
    owner_view = await _visible(conn, conn)  # the owner (here a superuser) is not subject to the policies
    assert all(orgs == {employer, other} for orgs in owner_view.values()), owner_view

    await _as_app_role(app_conn, str(employer))
    assert await app_conn.fetchval("SELECT current_user") == APP_ROLE
    assert await _visible(app_conn, conn) == {table: {employer} for table in VISIBLE}
    await _as_app_role(app_conn, f"{other},{seeded.world.provider.id}")
    assert await _visible(app_conn, conn) == {table: {other} for table in VISIBLE}

    await _as_app_role(app_conn, None)
    assert await app_conn.fetchval("SELECT current_setting('ohconnect.orgs', true)") in (None, "")
    assert await _visible(app_conn, conn) == {table: set() for table in VISIBLE}
    await _as_app_role(app_conn, "")
    assert await _visible(app_conn, conn) == {table: set() for table in VISIBLE}

    await _as_app_role(app_conn, "*")
    assert await _visible(app_conn, conn) == owner_view


async def test_writes_to_another_organisations_rows_change_nothing(
    client: httpx.AsyncClient, conn: asyncpg.Connection, app_conn: asyncpg.Connection
) -> None:
    seeded = await _seed(client, conn)
    employer = seeded.world.employer.id
    mine = next(r for r, side in seeded.referrals.items() if side == "employer")
    theirs = next(r for r, side in seeded.referrals.items() if side == "other")
    await _as_app_role(app_conn, str(employer))

    changed = await app_conn.execute("UPDATE referral SET department = 'Moved' WHERE id = $1", theirs)
    assert changed == "UPDATE 0"
    assert await app_conn.execute("UPDATE hs_result SET procedure = 'Moved'") == "UPDATE 1"
    assert await app_conn.execute("DELETE FROM referral_comment WHERE true") == "DELETE 0"
    deleted = await app_conn.execute("DELETE FROM referral WHERE id = $1", theirs)
    assert deleted == "DELETE 0"
    author = seeded.world.users["manager"].id
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        await app_conn.execute(
            "INSERT INTO referral_comment (referral_id, author_id, author_role, body)"
            " VALUES ($1, $2, 'manager', 'x')",
            theirs,
            author,
        )
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        await app_conn.execute(
            "UPDATE referral SET organisation_id = $2 WHERE id = $1", mine, seeded.world.other_employer.id
        )
    stored = await conn.fetch("SELECT id, department, organisation_id FROM referral")
    assert {r["id"]: r["organisation_id"] for r in stored}[theirs] == seeded.world.other_employer.id
    assert "Moved" not in {r["department"] for r in stored}
    outcomes = await conn.fetch("SELECT organisation_id, procedure FROM hs_result")
    assert {(r["organisation_id"] == employer, r["procedure"] == "Moved") for r in outcomes} == {
        (True, True),
        (False, False),
    }


@dataclass
class ScopedServer:
    url: str


async def _scope_of_caller(user: CurrentUser, conn: Conn) -> dict[str, Any]:
    """What an endpoint's queries run with, on the request's own connection."""
    setting = await scope.current(conn)
    visible = await conn.fetch("SELECT DISTINCT organisation_id FROM referral")
    return {"user": str(user.id), "setting": setting, "referral_orgs": sorted(str(r[0]) for r in visible)}


async def _scope_of_anyone(conn: Conn) -> dict[str, Any]:
    return {"setting": await scope.current(conn)}


@pytest.fixture
async def scoped_server(db_dsn: str) -> AsyncIterator[ScopedServer]:
    """The real app with two extra endpoints that report their connection's scope. One pooled
    connection, so that every request reuses the connection the one before returned."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(database_url=db_dsn, environment="test", public_url=url, db_pool_min=1, db_pool_max=1)
    app = create_app(settings)
    app.router.routes[:0] = [
        APIRoute("/api/v1/test-scope/caller", _scope_of_caller, methods=["GET"]),
        APIRoute("/api/v1/test-scope/anyone", _scope_of_anyone, methods=["GET"]),
    ]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), task.result()
        await asyncio.sleep(0.01)
    yield ScopedServer(url)
    server.should_exit = True
    await task


async def test_a_signed_in_persons_requests_run_with_their_organisations_only(
    scoped_server: ScopedServer, conn: asyncpg.Connection
) -> None:
    async with httpx.AsyncClient(base_url=scoped_server.url, timeout=30) as client:
        seeded_world = await make_world(conn)
        users = seeded_world.users
        manager = await login(client, users["manager"])
        other_manager = await login(client, users["other_manager"])
        clinician = await login(client, users["clinician"])
        await make_referral(client, manager)
        await make_referral(client, other_manager)
        employer, other = str(seeded_world.employer.id), str(seeded_world.other_employer.id)

        anyone = await client.get("/api/v1/test-scope/anyone")
        assert anyone.json() == {"setting": "*"}
        seen = (await client.get("/api/v1/test-scope/caller", headers=manager)).json()
        assert (seen["setting"], seen["referral_orgs"]) == (employer, [employer])
        seen = (await client.get("/api/v1/test-scope/caller", headers=other_manager)).json()
        assert (seen["setting"], seen["referral_orgs"]) == (other, [other])
        # The same (only) pooled connection is back to every organisation after a narrowed request.
        assert (await client.get("/api/v1/test-scope/anyone")).json() == {"setting": "*"}

        seen = (await client.get("/api/v1/test-scope/caller", headers=clinician)).json()
        provider_side = {str(seeded_world.provider.id), employer, other}
        assert set(seen["setting"].split(",")) == provider_side
        assert seen["referral_orgs"] == sorted([employer, other])
        far = await login(client, users["far_client_admin"])
        seen = (await client.get("/api/v1/test-scope/caller", headers=far)).json()
        assert seen["referral_orgs"] == []
        assert (await client.get("/api/v1/test-scope/anyone")).json() == {"setting": "*"}
