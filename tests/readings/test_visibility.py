"""Readings are clinical data: the employee and their provider's clinicians only; everybody else
gets 404 (never 403, which would reveal that the stream exists). Every access is audited."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests.factories import login, make_world
from tests.readings.helpers import post, simulated, start_stream

SEE = {"employee", "clinician"}
NOT_SEE = [
    "provider_admin", "client_admin", "manager", "manager_same_dept", "manager_other_dept", "other_employee",
    "other_client_admin", "other_manager", "other_employee_org", "other_clinician", "other_provider_admin",
    "far_client_admin",
]  # fmt: skip
READS = ["", "/readings", "/fhir"]


async def test_only_the_employee_and_their_clinicians_see_a_stream(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    headers = {name: await login(client, user) for name, user in world.users.items()}
    stream_id, device = await start_stream(client, headers["employee"], "ble-plx")
    for batch in simulated("ble-plx", stream_id, seconds=3):
        assert (await post(client, device, batch)).status_code == 201
    for name in sorted(SEE):
        for suffix in READS:
            response = await client.get(
                f"/api/v1/readings/streams/{stream_id}{suffix}", headers=headers[name]
            )
            assert response.status_code == 200, (name, suffix, response.text)
        listed = (await client.get("/api/v1/readings/streams", headers=headers[name])).json()["items"]
        assert [s["id"] for s in listed] == [str(stream_id)]
    for name in NOT_SEE:
        for suffix in READS:
            response = await client.get(
                f"/api/v1/readings/streams/{stream_id}{suffix}", headers=headers[name]
            )
            assert response.status_code == 404, (name, suffix, response.status_code)
            assert response.json()["code"] == "stream_not_found"
        listed = (await client.get("/api/v1/readings/streams", headers=headers[name])).json()["items"]
        assert listed == [], name
    denied = await conn.fetchval(
        "SELECT count(*) FROM audit_event"
        " WHERE entity = 'reading_stream' AND entity_id = $1 AND outcome = 'not_found'",
        str(stream_id),
    )
    assert denied == len(NOT_SEE) * len(READS)


async def test_only_the_employee_or_the_device_sends_batches(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    headers = {name: await login(client, user) for name, user in world.users.items()}
    stream_id, _device = await start_stream(client, headers["employee"], "ble-hr")
    batch = simulated("ble-hr", stream_id, seconds=2)[0]
    clinician = await post(client, headers["clinician"], batch)
    assert clinician.status_code == 403
    for name in ("manager", "client_admin", "other_employee", "other_clinician", "provider_admin"):
        response = await post(client, headers[name], batch)
        assert response.status_code == 404, (name, response.text)
    _other_stream, other_device = await start_stream(client, headers["other_employee"], "ble-hr")
    assert (await post(client, other_device, batch)).status_code == 404  # another stream's token
    assert (await post(client, {"Authorization": "Bearer ohd_not-a-token"}, batch)).status_code == 401
    client.cookies.clear()
    assert (await post(client, {}, batch)).status_code == 401
    assert (await post(client, headers["employee"], batch)).status_code == 201
    assert await conn.fetchval("SELECT count(*) FROM reading_batch") == 1


@pytest.mark.parametrize("role", ["manager", "client_admin", "clinician", "provider_admin"])
async def test_only_employees_consent_and_start_streams(
    client: httpx.AsyncClient, conn: asyncpg.Connection, role: str
) -> None:
    world = await make_world(conn)
    headers = await login(client, world.users[role])
    consent = await client.post(
        "/api/v1/readings/consent", json={"statement_version": "x", "agree": True}, headers=headers
    )
    assert consent.status_code == 403
    stream = await client.post(
        "/api/v1/readings/streams", json={"device": {"kind": "camera", "model": "Cam"}}, headers=headers
    )
    assert stream.status_code == 403


async def test_every_read_and_write_is_audited(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    world = await make_world(conn)
    employee_user = world.users["employee"]
    employee = await login(client, employee_user)
    nurse = await login(client, world.users["clinician"])
    stream_id, device = await start_stream(client, employee, "camera")
    batches = simulated("camera", stream_id, seconds=3)
    for batch in batches:
        assert (await post(client, device, batch)).status_code == 201
    assert (await post(client, device, batches[0])).status_code == 200
    for suffix in READS:
        assert (
            await client.get(f"/api/v1/readings/streams/{stream_id}{suffix}", headers=nurse)
        ).status_code == 200
    rows = await conn.fetch(
        "SELECT action, actor_id, actor_role, subject_user_id, outcome FROM audit_event"
        " WHERE action LIKE 'readings.%' ORDER BY id"
    )
    actions = [r["action"] for r in rows]
    assert actions == [
        "readings.consent.give",
        "readings.stream.create",
        *["readings.batch.ingest"] * 3,
        "readings.batch.repeat",
        "readings.stream.read",
        "readings.readings.read",
        "readings.fhir.export",
    ]
    assert all(r["subject_user_id"] == employee_user.id and r["outcome"] == "ok" for r in rows)
    device_rows = [r for r in rows if r["action"].startswith("readings.batch")]
    assert {(r["actor_id"], r["actor_role"]) for r in device_rows} == {(employee_user.id, "device")}
    assert {r["actor_id"] for r in rows if r["action"].endswith(("read", "export"))} == {
        world.users["clinician"].id
    }
    log = (await client.get("/api/v1/me/access-log", headers=employee)).json()
    assert {"readings.fhir.export", "readings.batch.ingest"} <= {e["action"] for e in log}
