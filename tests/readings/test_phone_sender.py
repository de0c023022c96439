"""``ohconnect simulate-phone`` (sensors.phone) against a real server: lost replies, network
failures and a crashed earlier run all end with every batch stored exactly once."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from uuid import UUID

import asyncpg
import httpx

from sensors import phone
from sensors.simulator import reading_batches
from tests.conftest import Server
from tests.factories import login, make_world
from tests.readings.helpers import now


async def _token(client: httpx.AsyncClient, conn: asyncpg.Connection) -> str:
    world = await make_world(conn)
    headers = await login(client, world.users["employee"])
    return headers["Authorization"].removeprefix("Bearer ")


async def _no_wait(_seconds: float) -> None:
    await asyncio.sleep(0)


async def _stored(conn: asyncpg.Connection, stream_id: UUID | None) -> list[int]:
    rows = await conn.fetch("SELECT seq FROM reading_batch WHERE stream_id = $1 ORDER BY seq", stream_id)
    return [r["seq"] for r in rows]


async def test_lost_replies_are_resent_and_stored_once(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    token = await _token(client, conn)
    options = phone.Options(
        server=server.url,
        token=token,
        seconds=12,
        device="camera",
        realtime=False,
        buffer_dir=tmp_path,
        lose_replies=0.4,
        seed=5,
    )
    report = await phone.run(options, sleep=_no_wait)
    assert report.acknowledged == 12
    assert report.repeats >= 2
    assert report.retries >= report.repeats
    assert report.rejected == []
    assert report.pending == 0
    assert await _stored(conn, report.stream_id) == list(range(12))
    status = await conn.fetchval("SELECT status FROM reading_stream WHERE id = $1", report.stream_id)
    assert status == "closed"


class FlakyNetwork(httpx.AsyncBaseTransport):
    """Fails batch uploads with connection errors while ``down``; everything else goes through."""

    def __init__(self) -> None:
        self.real = httpx.AsyncHTTPTransport()
        self.down = 0  # failures still to inject

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/batches") and self.down:
            self.down -= 1
            raise httpx.ConnectError("network unreachable", request=request)
        return await self.real.handle_async_request(request)

    async def aclose(self) -> None:
        await self.real.aclose()


async def test_network_failures_are_retried_with_backoff(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    token = await _token(client, conn)
    network = FlakyNetwork()
    network.down = 5
    waits: list[float] = []

    async def record_wait(seconds: float) -> None:
        waits.append(seconds)

    options = phone.Options(
        server=server.url, token=token, seconds=6, device="ble-plx", realtime=False, buffer_dir=tmp_path
    )
    report = await phone.run(options, transport=network, sleep=record_wait)
    assert (report.acknowledged, report.retries, report.pending) == (6, 5, 0)
    assert len(waits) == 5
    assert all(0 <= w <= 15 for w in waits)
    assert await _stored(conn, report.stream_id) == list(range(6))


class OutageAtStart(httpx.AsyncBaseTransport):
    """The first requests of each start step fail: a connection error, then a 503."""

    def __init__(self) -> None:
        self.real = httpx.AsyncHTTPTransport()
        self.failed: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        step = f"{request.method} {request.url.path.rsplit('/', 1)[-1]}"
        if step in ("GET consent", "POST consent", "POST streams", "POST close"):
            tries = self.failed.count(step)
            if tries == 0:
                self.failed.append(step)
                raise httpx.ConnectError("network unreachable", request=request)
            if tries == 1:
                self.failed.append(step)
                return httpx.Response(503, json={"code": "unavailable"})
        return await self.real.handle_async_request(request)

    async def aclose(self) -> None:
        await self.real.aclose()


async def test_starting_and_closing_the_stream_ride_out_an_outage(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    token = await _token(client, conn)
    network = OutageAtStart()
    options = phone.Options(
        server=server.url, token=token, seconds=3, device="ble-hr", realtime=False, buffer_dir=tmp_path
    )
    report = await phone.run(options, transport=network, sleep=_no_wait)
    assert sorted(set(network.failed)) == ["GET consent", "POST close", "POST consent", "POST streams"]
    assert len(network.failed) == 8
    assert (report.acknowledged, report.pending) == (3, 0)
    assert await _stored(conn, report.stream_id) == [0, 1, 2]
    status = await conn.fetchval("SELECT status FROM reading_stream WHERE id = $1", report.stream_id)
    assert status == "closed"
    assert await conn.fetchval("SELECT count(*) FROM reading_stream") == 1


async def test_a_crashed_run_is_finished_by_the_next(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    token = await _token(client, conn)
    http = httpx.AsyncClient(base_url=server.url)
    stream_id, device_token = await phone.start_stream(http, token, "ble-hr")
    await http.aclose()
    buffer = phone.Buffer(tmp_path)
    batches = list(reading_batches("ble-hr", seconds=4, stream_id=stream_id, started_at=now()))
    for batch in batches:  # written to the buffer, then the sender died before sending
        buffer.put(batch, device_token)
    assert buffer.count() == 4
    options = phone.Options(server=server.url, token=token, seconds=2, realtime=False, buffer_dir=tmp_path)
    report = await phone.run(options, sleep=_no_wait)
    assert report.pending == 0
    assert report.acknowledged == 4 + 2
    assert await _stored(conn, stream_id) == [0, 1, 2, 3]
    assert await _stored(conn, report.stream_id) == [0, 1]


async def test_the_command_line(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    token = await _token(client, conn)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend.cli",
        "simulate-phone",
        "--server",
        server.url,
        f"--token={token}",
        "--seconds",
        "3",
        "--bpm",
        "58",
        "--device",
        "ble-hr",
        "--fast",
        "--buffer-dir",
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert "3 batches stored" in out.decode()
    assert await conn.fetchval("SELECT count(*) FROM reading_batch") == 3
    bad = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend.cli",
        "simulate-phone",
        "--server",
        server.url,
        "--token",
        "wrong",
        "--seconds",
        "2",
        "--fast",
        "--buffer-dir",
        str(tmp_path),
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(bad.communicate(), 60)
    assert bad.returncode == 1
    assert "HTTP 401" in err.decode()
