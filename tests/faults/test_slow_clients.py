"""Fault: 200 slow clients do not delay the others. Against a real app process (uvicorn):

- 100 slowloris HTTP clients: each opens a connection and sends a request whose last header
  comes one byte every half second, finished only after the measurement;
- 100 WebSocket clients on /ws/clinic that complete the upgrade and then never read a byte.

A normal client's p95 latency for GET /healthz (a new connection each time) and for a
waiting-room WebSocket round trip (``ping`` -> ``pong`` on a joined socket) are measured with and
without them; the loaded figures must stay within a bound. What the slow sockets got is reported.
"""

from __future__ import annotations

import asyncio
import base64
import os
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from tests.clinics.agents import Socket
from tests.clinics.test_call import arrive, ready_clinic
from tests.processes import app_process

SLOW_HTTP = 100
SLOW_WS = 100
SAMPLES = 100
BYTE_EVERY_S = 0.5
PING_GAP_S = 0.05  # a socket may send 20 messages a second (docs/clinic-protocol.md)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


async def healthz_latencies(url: str) -> list[float]:
    found = []
    limits = httpx.Limits(max_keepalive_connections=0)  # a new connection for every request
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as http:
        for _ in range(SAMPLES):
            began = time.perf_counter()
            response = await http.get("/healthz")
            found.append(time.perf_counter() - began)
            assert response.status_code == 200
    return found


async def ping_latencies(socket: Socket) -> list[float]:
    found = []
    for _ in range(SAMPLES):
        began = time.perf_counter()
        await socket.send({"t": "ping"})
        await socket.expect("pong", within=10)
        found.append(time.perf_counter() - began)
        await asyncio.sleep(PING_GAP_S)
    return found


async def slowloris(host: str, port: int, stop: asyncio.Event) -> str:
    """Headers one byte at a time until told to stop; then whether the server still held the socket."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: " + host.encode() + b"\r\nX-Slow: ")
        for byte in b"a" * 1000:  # a header value that does not end
            if stop.is_set():
                break
            writer.write(bytes([byte]))
            await writer.drain()
            await _pause(stop)
        writer.write(b"\r\n\r\n")  # finish the request: does the server still answer it?
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), 10)
        return status.decode().strip() or "closed by the server"
    except (ConnectionError, TimeoutError) as exc:
        return f"closed by the server ({type(exc).__name__})"
    finally:
        writer.close()


async def _pause(stop: asyncio.Event) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), BYTE_EVERY_S)


@asynccontextmanager
async def deaf_websockets(
    host: str, port: int
) -> AsyncIterator[list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]:
    """WebSocket upgrades on /ws/clinic that are sent in full and then never read from."""
    sockets = []
    for _ in range(SLOW_WS):
        reader, writer = await asyncio.open_connection(host, port, limit=1024)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET /ws/clinic HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        sockets.append((reader, writer))
    try:
        yield sockets
    finally:
        for _reader, writer in sockets:
            writer.transport.abort()


async def first_line(reader: asyncio.StreamReader) -> str:
    """What the server had sent a deaf socket, read only now (the status line of its answer)."""
    try:
        return (await asyncio.wait_for(reader.readline(), 2)).decode(errors="replace").strip()
    except (ConnectionError, TimeoutError, ValueError):
        return ""


@pytest.mark.timeout(120)
async def test_slow_clients_do_not_delay_a_normal_one(db_dsn: str, conn: asyncpg.Connection) -> None:
    async with app_process(db_dsn) as (url, _process):
        host, port = urlsplit(url).hostname or "127.0.0.1", urlsplit(url).port or 80
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            clinic, _nurse_token, employee_token = await ready_clinic(client, conn)
        employee = Socket(url, "employee")
        try:
            await arrive(employee, employee_token, clinic.appointments[0]["id"])
            await ping_latencies(employee)  # warm up
            idle_http, idle_ws = await healthz_latencies(url), await ping_latencies(employee)

            stop = asyncio.Event()
            loris = [asyncio.create_task(slowloris(host, port, stop)) for _ in range(SLOW_HTTP)]
            async with deaf_websockets(host, port) as deaf:
                await asyncio.sleep(2 * BYTE_EVERY_S)  # every slow client connected and trickling
                began = time.monotonic()
                loaded_http, loaded_ws = await healthz_latencies(url), await ping_latencies(employee)
                measured_s = time.monotonic() - began
                accepted = [await first_line(reader) for reader, _writer in deaf]
            stop.set()
            outcomes = await asyncio.gather(*loris)
        finally:
            await employee.close()

    answered = sum(o.startswith("HTTP/1.1 200") for o in outcomes)
    upgraded = sum(line.startswith("HTTP/1.1 101") for line in accepted)
    bound_http = max(0.5, 5 * p95(idle_http))
    bound_ws = max(0.5, 5 * p95(idle_ws))
    print(
        f"\ntried: {SLOW_HTTP} slowloris HTTP clients (a header byte every {BYTE_EVERY_S} s) and "
        f"{SLOW_WS} WebSocket clients that never read, for {measured_s:.1f} s of measuring "
        f"({SAMPLES} requests, then {SAMPLES} round trips {PING_GAP_S} s apart, each time)"
        f"\n/healthz p95: {p95(idle_http) * 1000:.1f} ms alone, {p95(loaded_http) * 1000:.1f} ms with "
        f"slow clients (bound {bound_http * 1000:.0f} ms)"
        f"\nwaiting-room ping->pong p95: {p95(idle_ws) * 1000:.1f} ms alone, "
        f"{p95(loaded_ws) * 1000:.1f} ms with slow clients (bound {bound_ws * 1000:.0f} ms)"
        f"\nsurvived: every normal request answered; {answered} of {SLOW_HTTP} slowloris requests "
        f"answered once finished ({SLOW_HTTP - answered} closed by the server); {upgraded} of "
        f"{SLOW_WS} deaf WebSockets had been accepted (101) while never reading"
    )
    assert p95(loaded_http) < bound_http
    assert p95(loaded_ws) < bound_ws
    assert upgraded == SLOW_WS, "the deaf sockets really were connected"
