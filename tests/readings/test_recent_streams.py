"""A stream's next batch is stored without reading the stream when this app process stored the
one before (``backend.readings.recent``), and every way the stream can change elsewhere still
wins: another app process storing a batch, closing the stream, withdrawn consent, a new or an
expired device token."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from backend.readings import decode, queries
from backend.readings.schemas import PpgRunRow
from sensors.ppg import estimate_heart_rate
from sensors.protocol import DeviceKind
from sensors.simulator import simulate_ppg
from tests.conftest import Server, running_app
from tests.factories import login, make_world
from tests.readings.helpers import now, post, ppg_runs, start_stream, values_batch

FS = 50.0
PER = 50  # one-second batches


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sequence numbers for which the server read the stream before storing."""
    seen: list[int] = []
    original: Callable[..., Any] = queries.stream_for_batch

    async def counted(conn: asyncpg.Connection, stream_id: Any, seq: int, *args: Any, **kwargs: Any) -> Any:
        seen.append(seq)
        return await original(conn, stream_id, seq, *args, **kwargs)

    monkeypatch.setattr(queries, "stream_for_batch", counted)
    return seen


async def _stream(
    client: httpx.AsyncClient, conn: asyncpg.Connection, kind: DeviceKind = "camera"
) -> tuple[Any, dict[str, str], dict[str, str]]:
    """A new stream of a new employee: (its id, the device's headers, the employee's)."""
    world = await make_world(conn)
    employee = await login(client, world.users["employee"])
    stream_id, device = await start_stream(client, employee, kind)
    return stream_id, device, employee


def _batches(stream_id: Any, seconds: int) -> list[dict[str, Any]]:
    signal = simulate_ppg(74, seconds, FS, seed=5, noise=0.03).signal.tolist()
    started = now() - timedelta(seconds=seconds + 5)
    return list(ppg_runs(stream_id, signal, FS, started_at=started, per=PER))


async def _expected_rates(batches: list[dict[str, Any]]) -> dict[int, float]:
    """The heart rate each batch should store, worked out here from all the batches before it."""
    runs = [
        PpgRunRow(seq=b["seq"], first_offset_s=b["ppg"]["t_offset_s"], fs=FS, samples=b["ppg"]["samples"])
        for b in batches
    ]
    rates = {}
    for i, run in enumerate(runs):
        if decode.estimate_due(run):
            window = decode.ppg_window(run, list(reversed(runs[:i])))
            estimate = estimate_heart_rate(window, FS)
            result = decode.collecting(run, window) or decode.ppg_result(run, estimate)
            if result.point is not None and result.point.heart_rate_bpm is not None:
                rates[run.seq] = result.point.heart_rate_bpm
    return rates


async def _stored_rates(conn: asyncpg.Connection, stream_id: Any) -> dict[int, float]:
    rows = await conn.fetch("SELECT seq, heart_rate_bpm FROM reading WHERE stream_id = $1", stream_id)
    return {r["seq"]: r["heart_rate_bpm"] for r in rows}


async def _summary_matches_readings(conn: asyncpg.Connection, stream_id: Any) -> None:
    stored = await conn.fetchrow(
        """SELECT count(*) AS readings, count(heart_rate_bpm) AS hr_count, sum(heart_rate_bpm) AS hr_sum,
                  min(heart_rate_bpm) AS hr_min, max(heart_rate_bpm) AS hr_max, max(seq) AS max_seq
           FROM reading WHERE stream_id = $1""",
        stream_id,
    )
    summary = await conn.fetchrow(
        "SELECT batches, readings, hr_count, hr_sum, hr_min, hr_max FROM reading_stream WHERE id = $1",
        stream_id,
    )
    batches = await conn.fetchval("SELECT count(*) FROM reading_batch WHERE stream_id = $1", stream_id)
    assert stored is not None
    assert summary is not None
    assert summary["batches"] == batches
    for name in ("readings", "hr_count", "hr_min", "hr_max"):
        assert summary[name] == stored[name], name
    assert summary["hr_sum"] == pytest.approx(stored["hr_sum"] or 0.0)


async def test_in_order_batches_are_stored_without_reading_the_stream(
    client: httpx.AsyncClient, conn: asyncpg.Connection, reads: list[int]
) -> None:
    stream_id, device, _ = await _stream(client, conn)
    batches = _batches(stream_id, 16)
    for batch in batches:
        response = await post(client, device, batch)
        assert response.status_code == 201, response.text
    assert reads == [0]  # the first batch reads the stream; every later one is stored directly
    expected = await _expected_rates(batches)
    assert len(expected) >= 4
    assert await _stored_rates(conn, stream_id) == pytest.approx(expected, abs=1e-4)
    await _summary_matches_readings(conn, stream_id)
    # A repeat still reads the stream and answers with the original receipt.
    again = await post(client, device, batches[-1])
    assert again.status_code == 200, again.text
    assert reads == [0, batches[-1]["seq"]]


async def test_batches_alternating_between_two_app_processes_give_the_same_readings(
    client: httpx.AsyncClient, conn: asyncpg.Connection, db_dsn: str, reads: list[int]
) -> None:
    """Each process's remembered stream goes out of date while the other stores; its store then
    misses, it reads the stream and stores the batch with the window and totals of the database."""
    stream_id, device, _ = await _stream(client, conn)
    batches = _batches(stream_id, 24)
    other: Server
    async with running_app(db_dsn) as other, httpx.AsyncClient(base_url=other.url, timeout=30) as second:
        for i, batch in enumerate(batches):
            to = client if (i // 3) % 2 == 0 else second  # three batches here, three there, ...
            response = await post(to, device, batch)
            assert response.status_code == 201, response.text
    read_seqs = set(reads)
    assert {0, 3, 6, 9, 12, 15, 18, 21} <= read_seqs  # each switch of process reads the stream
    assert not read_seqs & {1, 2, 4, 5, 7, 8}  # the batches after it do not
    assert await _stored_rates(conn, stream_id) == pytest.approx(await _expected_rates(batches), abs=1e-4)
    await _summary_matches_readings(conn, stream_id)


async def test_a_closed_stream_refuses_the_next_batch_though_it_was_remembered(
    client: httpx.AsyncClient, conn: asyncpg.Connection, reads: list[int]
) -> None:
    stream_id, device, employee = await _stream(client, conn)
    batches = _batches(stream_id, 4)
    for batch in batches[:3]:
        assert (await post(client, device, batch)).status_code == 201
    closed = await client.post(f"/api/v1/readings/streams/{stream_id}/close", headers=employee)
    assert closed.status_code == 200, closed.text
    refused = await post(client, device, batches[3])
    assert refused.status_code in (401, 409), refused.text
    assert await conn.fetchval("SELECT batches FROM reading_stream WHERE id = $1", stream_id) == 3


async def test_withdrawn_consent_stops_the_next_batch(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    stream_id, device, employee = await _stream(client, conn, "manual")
    start = now() - timedelta(minutes=1)
    for seq in range(3):
        batch = values_batch(
            stream_id, seq, [{"t_offset_s": float(seq), "heart_rate_bpm": 70.0}], started_at=start
        )
        assert (await post(client, device, batch)).status_code == 201
    withdrawn = await client.post("/api/v1/readings/consent/withdraw", headers=employee)
    assert withdrawn.status_code == 200, withdrawn.text
    late = values_batch(stream_id, 3, [{"t_offset_s": 3.0, "heart_rate_bpm": 70.0}], started_at=start)
    refused = await post(client, device, late)
    assert refused.status_code in (401, 403, 409), refused.text
    assert await conn.fetchval("SELECT count(*) FROM reading_batch WHERE stream_id = $1", stream_id) == 3


async def test_an_expired_or_replaced_device_token_is_refused_though_the_stream_was_remembered(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    stream_id, device, _ = await _stream(client, conn)
    batches = _batches(stream_id, 5)
    for batch in batches[:2]:
        assert (await post(client, device, batch)).status_code == 201
    await conn.execute(
        "UPDATE reading_stream SET device_token_expires_at = now() - interval '1 second' WHERE id = $1",
        stream_id,
    )
    expired = await post(client, device, batches[2])
    assert expired.status_code == 401, expired.text
    await conn.execute(
        "UPDATE reading_stream SET device_token_expires_at = now() + interval '1 hour' WHERE id = $1",
        stream_id,
    )
    assert (await post(client, device, batches[2])).status_code == 201
    # Another token for the stream (as when the stream is started again from another phone).
    await conn.execute(
        "UPDATE reading_stream SET device_token_hash = '\\x00'::bytea WHERE id = $1", stream_id
    )
    replaced = await post(client, device, batches[3])
    assert replaced.status_code == 401, replaced.text
    assert await conn.fetchval("SELECT batches FROM reading_stream WHERE id = $1", stream_id) == 3
