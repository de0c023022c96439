from __future__ import annotations

import asyncpg
import httpx
import pytest

from backend.core.config import Settings
from backend.main import create_app, lifespan
from tests.factories import login, make_referral, make_world


async def _audit_rows(conn: asyncpg.Connection, entity_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT actor_id, actor_role, organisation_id, action, outcome, request_id, subject_user_id,"
        " subject_email FROM audit_event WHERE entity = 'referral' AND entity_id = $1 ORDER BY id",
        entity_id,
    )


async def test_every_read_and_change_is_audited_with_request_id(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    referral = await make_referral(client, manager)
    nurse = await login(client, world.users["clinician"])
    read = await client.get(
        f"/api/v1/referrals/{referral['id']}", headers={**nurse, "X-Request-ID": "trace-42"}
    )
    assert read.headers["X-Request-ID"] == "trace-42"
    rows = await _audit_rows(conn, referral["id"])
    assert [r["action"] for r in rows] == ["referral.create", "referral.submit", "referral.read"]
    last = rows[-1]
    assert last["actor_id"] == world.users["clinician"].id
    assert last["actor_role"] == "clinician"
    assert last["organisation_id"] == world.provider.id
    assert last["request_id"] == "trace-42"
    assert last["subject_user_id"] == world.users["employee"].id
    assert last["outcome"] == "ok"


async def test_refused_access_is_audited_too(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    world = await make_world(conn)
    referral = await make_referral(client, await login(client, world.users["manager"]))
    outsider = await login(client, world.users["other_client_admin"])
    assert (await client.get(f"/api/v1/referrals/{referral['id']}", headers=outsider)).status_code == 404
    rows = await _audit_rows(conn, referral["id"])
    assert rows[-1]["action"] == "referral.read"
    assert rows[-1]["outcome"] == "not_found"
    assert rows[-1]["actor_id"] == world.users["other_client_admin"].id


async def test_audit_trail_is_append_only_for_the_app_role(db_dsn: str, conn: asyncpg.Connection) -> None:
    await conn.execute("INSERT INTO audit_event (action, entity, outcome) VALUES ('x', 'y', 'ok')")
    app = await asyncpg.connect(db_dsn, server_settings={"role": "ohconnect_app"})
    try:
        await app.execute("INSERT INTO audit_event (action, entity, outcome) VALUES ('x', 'y', 'ok')")
        for statement in (
            "UPDATE audit_event SET outcome = 'error'",
            "DELETE FROM audit_event",
            "TRUNCATE audit_event",
            "UPDATE referral_event SET action = 'x'",
        ):
            try:
                await app.execute(statement)
            except asyncpg.InsufficientPrivilegeError:
                continue
            raise AssertionError(f"the app role could run: {statement}")
    finally:
        await app.close()
    # Even the owner is stopped by the trigger.
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await conn.execute("DELETE FROM audit_event")
    assert await conn.fetchval("SELECT count(*) FROM audit_event") == 2


async def test_the_app_pool_runs_as_the_restricted_role(db_dsn: str) -> None:
    settings = Settings(database_url=db_dsn, environment="test", db_pool_min=1, db_pool_max=2)
    app = create_app(settings)
    async with lifespan(app):
        assert await app.state.pool.fetchval("SELECT current_user") == settings.db_app_role
        try:
            await app.state.pool.execute("DELETE FROM audit_event")
        except asyncpg.InsufficientPrivilegeError:
            pass
        else:
            raise AssertionError("the app pool could delete audit rows")


async def test_employee_access_log_lists_who_read_their_record(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    referral = await make_referral(client, await login(client, world.users["manager"]))
    nurse = await login(client, world.users["clinician"])
    await client.get(f"/api/v1/referrals/{referral['id']}", headers=nurse)
    employee = await login(client, world.users["employee"])
    log = await client.get("/api/v1/me/access-log", headers=employee)
    assert log.status_code == 200
    entries = log.json()
    seen = {(e["actor_role"], e["action"]) for e in entries}
    assert ("clinician", "referral.read") in seen
    assert ("manager", "referral.create") in seen
    nurse_read = next(e for e in entries if e["action"] == "referral.read")
    assert nurse_read["actor_name"] == world.users["clinician"].full_name
    assert nurse_read["actor_organisation"] == world.provider.name
    # Someone else's access log does not show this referral.
    other = await login(client, world.users["other_employee"])
    others = (await client.get("/api/v1/me/access-log", headers=other)).json()
    assert all(e["entity_id"] != referral["id"] for e in others)
