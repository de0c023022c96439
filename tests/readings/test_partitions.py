"""Readings are partitioned by month; a missing month is created on demand by the app's
restricted role, and the clinic screen can find the stream an employee is measuring into."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx
import pytest

from backend.auth import service as auth_service
from backend.core.config import Settings
from backend.readings import ingest
from backend.readings import service as readings_service
from tests.factories import login, make_world
from tests.readings.helpers import post, simulated, start_stream


async def _partition_of_readings(conn: asyncpg.Connection, stream_id: object) -> set[str]:
    rows = await conn.fetch(
        "SELECT DISTINCT tableoid::regclass::text AS part FROM reading WHERE stream_id = $1", stream_id
    )
    return {r["part"] for r in rows}


async def test_readings_land_in_their_month_and_missing_months_are_created(
    client: httpx.AsyncClient, conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await make_world(conn)
    employee = await login(client, world.users["employee"])
    stream_id, device = await start_stream(client, employee, "ble-hr")
    batches = simulated("ble-hr", stream_id, seconds=3)
    month = batches[0].started_at + timedelta(seconds=1)
    current = f"reading_y{month:%Y}m{month:%m}"
    await conn.execute(f"ALTER TABLE reading DETACH PARTITION {current}")  # as if never created
    await conn.execute(f"DROP TABLE {current}")
    monkeypatch.setattr(ingest, "_known_months", set())
    for batch in batches:
        assert (await post(client, device, batch)).status_code == 201
    assert await _partition_of_readings(conn, stream_id) == {current}
    owner = await conn.fetchval("SELECT tableowner FROM pg_tables WHERE tablename = $1", current)
    assert owner == await conn.fetchval("SELECT tableowner FROM pg_tables WHERE tablename = 'reading'")
    app_role = Settings().db_app_role
    can_create = await conn.fetchval("SELECT has_table_privilege($1, 'reading', 'TRUNCATE')", app_role)
    assert can_create is False  # the app adds partitions only through the owner's function


async def test_the_clinic_screen_finds_the_live_stream_of_an_employee(
    client: httpx.AsyncClient, conn: asyncpg.Connection, server: object
) -> None:
    world = await make_world(conn)
    employee = await login(client, world.users["employee"])
    stream_id, device = await start_stream(client, employee, "ble-plx")
    assert (await post(client, device, simulated("ble-plx", stream_id, seconds=2)[0])).status_code == 201
    settings = Settings()
    nurse = await auth_service.get_user(conn, world.users["clinician"].id)
    stranger = await auth_service.get_user(conn, world.users["other_clinician"].id)
    manager = await auth_service.get_user(conn, world.users["manager"].id)
    assert nurse is not None
    assert stranger is not None
    assert manager is not None
    employee_id = world.users["employee"].id
    found = await readings_service.live_stream_for_employee(conn, nurse, employee_id, settings)
    assert found is not None
    assert found.id == stream_id
    assert found.batches == 1
    assert await readings_service.live_stream_for_employee(conn, stranger, employee_id, settings) is None
    assert await readings_service.live_stream_for_employee(conn, manager, employee_id, settings) is None
    closed = await client.post(f"/api/v1/readings/streams/{stream_id}/close", headers=employee)
    assert closed.status_code == 200
    assert await readings_service.live_stream_for_employee(conn, nurse, employee_id, settings) is None
    audited = await conn.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'readings.stream.read' AND actor_id = $1", nurse.id
    )
    assert audited == 1
