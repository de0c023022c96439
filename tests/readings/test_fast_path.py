"""The batches endpoint answers the same with and without its fast path (``backend.readings.fastpath``).

Two app processes' worth of servers run against one database: one as deployed (fast path on),
one with ``readings_fast_path=False`` (every batch through the FastAPI route). Each request is
sent to both and the answers are compared: status, media type, body, and the headers every
response gets. The fast path must also really have answered the batches it may answer (else the
comparison would prove nothing), be named by its route in the metrics, and audit a refusal once.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from backend.auth.cookies import SESSION_COOKIE
from backend.auth.schemas import Role
from backend.readings import fastpath, ingest
from tests.conftest import running_app
from tests.factories import login, make_user, make_world
from tests.readings.helpers import body, simulated, start_stream

URL = "/api/v1/readings/batches"
LIMIT = 64 * 1024
COMMON_HEADERS = ("cache-control", "content-security-policy", "x-content-type-options", "x-frame-options")


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"readings_batch_max_bytes": LIMIT}


@pytest.fixture
async def route_only(db_dsn: str) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        running_app(db_dsn, readings_fast_path=False, readings_batch_max_bytes=LIMIT) as other,
        httpx.AsyncClient(base_url=other.url, timeout=30) as http,
    ):
        yield http


@pytest.fixture
def fast_answers(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each batch the fast path stored itself (True: new), counted at its call of ``ingest``."""
    answered: list[bool] = []

    class Counting:
        @staticmethod
        async def ingest(*args: Any) -> Any:
            receipt, created = await ingest.ingest(*args)
            answered.append(created)
            return receipt, created

    monkeypatch.setattr(fastpath, "ingest", Counting)
    return answered


def _answer(response: httpx.Response) -> tuple[int, str, Any]:
    media = response.headers.get("content-type", "")
    content = response.json() if "json" in media else response.text
    return response.status_code, media, content


async def _both(
    fast: httpx.AsyncClient, route: httpx.AsyncClient, **request: Any
) -> tuple[httpx.Response, httpx.Response]:
    one, two = await fast.post(URL, **request), await route.post(URL, **request)
    assert _answer(one) == _answer(two), request
    for name in COMMON_HEADERS:
        assert one.headers.get(name) == two.headers.get(name), name
    assert one.headers.get("x-request-id")
    assert two.headers.get("x-request-id")
    return one, two


async def test_answers_match_the_route_for_every_kind_of_request(
    client: httpx.AsyncClient,
    route_only: httpx.AsyncClient,
    conn: asyncpg.Connection,
    fast_answers: list[bool],
) -> None:
    world = await make_world(conn)
    employee = await login(client, await make_user(conn, world.employer, Role.employee))
    stream_id, device = await start_stream(client, employee, "ble-hr")
    batches = [body(b) for b in simulated("ble-hr", stream_id, seconds=4)]
    client.cookies.clear()  # signing in set the session cookie: both clients send only what a case says

    # Stored by one, repeated to the other: the same receipt, 201 then 200, from either side.
    first = await client.post(URL, json=batches[0], headers=device)
    again = await route_only.post(URL, json=batches[0], headers=device)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    second = await route_only.post(URL, json=batches[1], headers=device)
    repeat = await client.post(URL, json=batches[1], headers=device)
    assert (second.status_code, repeat.status_code) == (201, 200)
    assert second.json() == repeat.json()
    assert fast_answers == [True, False]  # the fast path stored the first and answered the repeat

    changed = {**batches[0], "device": {**batches[0]["device"], "model": "Another device"}}
    elsewhere = {**batches[2], "stream_id": str(uuid.uuid4())}
    session = employee["Authorization"].removeprefix("Bearer ")
    too_big = {**batches[2], "device": {**batches[2]["device"], "firmware": "x" * LIMIT}}
    cases: list[dict[str, Any]] = [
        {"json": batches[2]},  # no credentials
        {"json": batches[2], "headers": {"Authorization": "Bearer ohd_not-a-token"}},
        {"json": batches[2], "headers": {"Authorization": "Bearer not-a-session"}},
        {"json": {**batches[2], "seq": -1}, "headers": device},
        {"json": {k: v for k, v in batches[2].items() if k != "device"}, "headers": device},
        {"content": b'{"version": 1, "seq": NaN}', "headers": {**device, "Content-Type": "application/json"}},
        {"content": b"not json", "headers": {**device, "Content-Type": "application/json"}},
        {"content": b'{"a": "\\ud800"}', "headers": {**device, "Content-Type": "application/json"}},
        {"content": b"\xff\xfe", "headers": {**device, "Content-Type": "application/json"}},
        {"content": str(batches[2]).encode(), "headers": {**device, "Content-Type": "text/plain"}},
        {"json": too_big, "headers": device},  # over the batch size limit: 413
        {"json": changed, "headers": device},  # seq 0 again with other content: 409
        {"json": elsewhere, "headers": device},  # another stream than the token's
        {"json": batches[2], "headers": {"Cookie": f"{SESSION_COOKIE}={session}"}},  # cookie, no CSRF
    ]
    statuses = []
    for case in cases:
        one, _ = await _both(client, route_only, **case)
        statuses.append(one.status_code)
    assert statuses == [401, 401, 401, 422, 422, 422, 422, 422, 422, 422, 413, 409, 404, 403], statuses
    assert fast_answers == [True, False]  # none of those was one the fast path may answer itself


async def _stored_count(client: httpx.AsyncClient) -> float:
    """Requests the metrics counted as ``POST`` of the batches route answered ``201``."""
    metrics = (await client.get("/metrics")).text
    series = f'ohconnect_http_request_duration_seconds_count{{method="POST",route="{URL}",status="201"}} '
    lines = [line for line in metrics.splitlines() if line.startswith(series)]
    return float(lines[0].removeprefix(series)) if lines else 0.0


async def test_the_fast_path_is_named_by_its_route_and_audits_a_refusal_once(
    client: httpx.AsyncClient, conn: asyncpg.Connection, fast_answers: list[bool]
) -> None:
    world = await make_world(conn)
    employee = await login(client, await make_user(conn, world.employer, Role.employee))
    stream_id, device = await start_stream(client, employee, "ble-hr")
    batch = body(simulated("ble-hr", stream_id, seconds=2)[0])
    before = await _stored_count(client)
    assert (await client.post(URL, json=batch, headers=device)).status_code == 201
    assert fast_answers == [True]
    assert await _stored_count(client) == before + 1

    other_stream, _ = await start_stream(client, employee, "ble-hr", give_consent=False)
    refused = await client.post(URL, json={**batch, "stream_id": str(other_stream)}, headers=device)
    assert refused.status_code == 404, refused.text
    rows = await conn.fetch(
        "SELECT outcome FROM audit_event WHERE action = 'readings.batch.ingest' AND entity_id = $1",
        str(other_stream),
    )
    assert [r["outcome"] for r in rows] == ["not_found"]
