"""Benchmark: waiting-room arrival -> nurse's screen latency, across two app processes.

Two real app processes (uvicorn, one worker each) share one fresh database. ``--waiting``
employees (default 500) wait in one clinic, spread evenly over both processes, and send
heartbeats as the pages do. The nurse's socket is on process A. Then ``--arrivals`` more
employees, connected in turn to B and A, each enter the waiting room (``ready``); the latency is
from sending ``ready`` to the nurse's socket receiving that person's ``participant`` event
(write, commit, NOTIFY, the nurse's process reads the row and sends it). Memory: resident size
of both app processes before and after the waiting sockets connect, per socket.

Two phases on the same servers: ``--arrivals`` arrivals with nothing else running, then as many
again while the same two processes produce aggregate report PDFs for ``--pdf-clients`` clients
(``--pdf-rate`` a second in all, or back to back with 0) and take one pulse batch a second from
each of ``--phones`` phones (tests/bench/background_load.py); ``--no-load`` measures the first
phase only.

Baseline in the same run: a bare WebSocket echo app in its own uvicorn process (same settings):
round-trip latency with the same number of idle sockets held open, and its memory per socket.

Seeding writes rows directly (employees, referrals, appointments, sessions); everything measured
goes through the real app. Run from the repository root (pytest does not collect this file):
    python -m tests.bench.bench_waiting_room [--waiting 500] [--arrivals 200] [--pdf-clients 2]
        [--pdf-rate 2] [--phones 32] [--no-load]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
import psutil
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection, connect

from backend.auth import service as auth_service
from backend.auth.schemas import Role
from backend.auth.tokens import new_token, token_hash
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.db import migrate
from tests.bench.background_load import Load, seed_load
from tests.bench.bench_referrals import Server, drop_database
from tests.pg import admin_dsn, with_database

PING_SECONDS = 5.0


def echo_app() -> Starlette:
    """The floor: a WebSocket that sends back what it receives."""

    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.send_text(await websocket.receive_text())

    return Starlette(routes=[WebSocketRoute("/ws", echo)])


@dataclass
class World:
    clinic: str
    nurse_token: str
    employees: list[tuple[str, str]]  # (appointment id, session token)
    load_emails: list[str] = field(default_factory=list)  # the background phones' employees


async def seed(dsn: str, people: int) -> World:
    conn = await asyncpg.connect(dsn)
    try:
        provider = await auth_service.create_organisation(conn, name="Bench OH (fictional)", kind="provider")
        employer = await auth_service.create_organisation(
            conn, name="Bench Employer (fictional)", kind="employer", provider_id=provider.id
        )
        nurse = await auth_service.create_user(
            conn,
            organisation_id=provider.id,
            role=Role.clinician,
            email="nurse@bench.example",
            password=None,
            full_name="Bench Nurse",
        )
        manager = await auth_service.create_user(
            conn, organisation_id=employer.id, role=Role.manager, email="manager@bench.example", password=None
        )
        start = utc_now() + timedelta(minutes=5)
        async with conn.transaction():
            clinic = await conn.fetchval(
                "INSERT INTO clinic_session (provider_id, clinician_id, session_date, starts_at, ends_at,"
                " kind, slot_minutes, created_by)"
                " VALUES ($1, $2, $3::timestamptz::date, $3, $3::timestamptz + interval '13 hours',"
                " 'video', 5, $2)"
                " RETURNING id",
                provider.id,
                nurse.id,
                start,
            )
            users = await conn.fetch(
                "INSERT INTO app_user (organisation_id, role, email, full_name) SELECT $1, 'employee',"
                " 'bench' || g || '@bench.example', 'Bench Employee ' || g FROM generate_series(1, $2) g"
                " RETURNING id, email, full_name",
                employer.id,
                people,
            )
            rows = []
            for n, user in enumerate(users):
                referral = await conn.fetchval(
                    "INSERT INTO referral (organisation_id, provider_id, referrer_id, employee_email,"
                    " employee_name, status, form) VALUES ($1, $2, $3, $4, $5, 'BOOKED', '{}') RETURNING id",
                    employer.id,
                    provider.id,
                    manager.id,
                    user["email"],
                    user["full_name"],
                )
                slot = await conn.fetchval(
                    "INSERT INTO clinic_slot (session_id, starts_at, ends_at)"
                    " VALUES ($1, $2, $2::timestamptz + interval '1 minute') RETURNING id",
                    clinic,
                    start + timedelta(minutes=n),
                )
                appointment = await conn.fetchval(
                    "INSERT INTO appointment (session_id, slot_id, referral_id, organisation_id,"
                    " employee_email, employee_name, video_consent_at, booked_by)"
                    " VALUES ($1, $2, $3, $4, $5, $6, now(), $7)"
                    " RETURNING id",
                    clinic,
                    slot,
                    referral,
                    employer.id,
                    user["email"],
                    user["full_name"],
                    nurse.id,
                )
                await conn.execute(
                    "INSERT INTO clinic_participant (session_id, appointment_id, kind, user_id, display_name)"
                    " VALUES ($1, $2, 'employee', $3, $4)",
                    clinic,
                    appointment,
                    user["id"],
                    user["full_name"],
                )
                rows.append((str(appointment), await _session(conn, user["id"])))
            nurse_token = await _session(conn, nurse.id)
    finally:
        await conn.close()
    return World(str(clinic), nurse_token, rows)


async def _session(conn: asyncpg.Connection, user_id: Any) -> str:
    token = new_token()
    await conn.execute(
        "INSERT INTO auth_session (user_id, token_hash, csrf_hash, via, expires_at)"
        " VALUES ($1, $2, $3, 'link', now() + interval '1 day')",
        user_id,
        token_hash(token),
        token_hash(new_token()),
    )
    return token


class Client:
    """One socket with a reader that files messages and wakes whoever waits for a match."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.waiters: list[
            tuple[Callable[[dict[str, Any]], bool], asyncio.Future[tuple[float, dict[str, Any]]]]
        ] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                now = time.perf_counter()
                message = json.loads(raw)
                for match, future in list(self.waiters):
                    if not future.done() and match(message):
                        future.set_result((now, message))
                        self.waiters.remove((match, future))

    def wait_for(
        self, match: Callable[[dict[str, Any]], bool]
    ) -> asyncio.Future[tuple[float, dict[str, Any]]]:
        """Resolves to (arrival time, message) for the next message that matches."""
        future: asyncio.Future[tuple[float, dict[str, Any]]] = asyncio.get_running_loop().create_future()
        self.waiters.append((match, future))
        return future

    async def close(self) -> None:
        self.reader.cancel()
        with contextlib.suppress(Exception):
            await self.ws.close()


async def join(url: str, message: dict[str, Any]) -> tuple[Client, dict[str, Any]]:
    ws = await connect(url.replace("http://", "ws://") + "/ws/clinic", max_size=2**22)
    client = Client(ws)
    welcome = client.wait_for(lambda m: m["t"] in ("welcome", "error"))
    await ws.send(json.dumps({"t": "join", **message}))
    _, answer = await asyncio.wait_for(welcome, 30)
    if answer["t"] != "welcome":
        raise RuntimeError(f"join refused: {answer}")
    return client, answer


async def heartbeat(client: Client, phase: float) -> None:
    """Ping as a page does: every few seconds, each socket on its own phase (pages open at random times)."""
    await asyncio.sleep(phase)
    while True:
        with contextlib.suppress(Exception):
            await client.ws.send('{"t":"ping"}')
        await asyncio.sleep(PING_SECONDS)


async def commit_probe(dsn: str, times: list[float]) -> None:
    """How long a one-row commit takes on the same database meanwhile (the floor of any write)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_probe (id bigserial PRIMARY KEY, at timestamptz)"
        )
        while True:
            began = time.perf_counter()
            await conn.execute("INSERT INTO bench_probe (at) VALUES (now())")
            times.append(time.perf_counter() - began)
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


def rss_mib(*servers: Server) -> float:
    return float(sum(psutil.Process(s.process.pid).memory_info().rss for s in servers)) / 2**20


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def baseline(waiting: int, samples: int) -> tuple[list[float], float]:
    server = Server("tests.bench.bench_waiting_room:echo_app", {})
    idle: list[ClientConnection] = []
    try:
        url = server.url.replace("http://", "ws://") + "/ws"
        for _ in range(100):
            with contextlib.suppress(OSError):
                await (await connect(url)).close()
                break
            await asyncio.sleep(0.1)
        before = rss_mib(server)
        idle = [await connect(url) for _ in range(waiting)]
        await asyncio.sleep(2)
        per_socket_kib = (rss_mib(server) - before) * 1024 / waiting
        probe = await connect(url)
        times = []
        for n in range(samples):
            began = time.perf_counter()
            await probe.send(f'{{"n":{n}}}')
            await probe.recv()
            times.append(time.perf_counter() - began)
            await asyncio.sleep(0.01)
        await probe.close()
        return times, per_socket_kib
    finally:
        for ws in idle:
            with contextlib.suppress(Exception):
                await ws.close()
        server.stop()


async def arrivals(
    dsn: str, servers: tuple[Server, Server], nurse: Client, people: list[tuple[str, str]], beats: list[Any]
) -> tuple[dict[str, list[float]], list[float], list[float], list[Client]]:
    """Each person joins (alternately on B and A), then enters the waiting room; timed to the nurse."""
    a, b = servers
    latencies: dict[str, list[float]] = {"A": [], "B": []}
    own_latency: list[float] = []
    commits: list[float] = []
    clients: list[Client] = []
    started = time.perf_counter()
    probe = asyncio.create_task(commit_probe(dsn, commits))
    try:
        for n, (appointment, token) in enumerate(people):
            label, server = ("B", b) if n % 2 == 0 else ("A", a)
            client, welcome = await join(server.url, {"appointment": appointment, "token": token})
            clients.append(client)
            beats.append(asyncio.create_task(heartbeat(client, random.uniform(0, PING_SECONDS))))
            me = welcome["participant"]
            await asyncio.sleep(0.15)  # the join settles first: only the arrival is measured

            def arrival(m: dict[str, Any], me: str = me) -> bool:
                entry = m.get("entry", {})
                return bool(
                    m["t"] == "participant" and entry["participant"] == me and entry["state"] == "waiting"
                )

            seen = nurse.wait_for(arrival)
            own = client.wait_for(lambda m: m["t"] == "state" and m["state"] == "waiting")
            began = time.perf_counter()
            await client.ws.send('{"t":"ready"}')
            arrived_at, _ = await asyncio.wait_for(seen, 10)
            own_at, _ = await asyncio.wait_for(own, 10)
            latencies[label].append(arrived_at - began)
            own_latency.append(own_at - began)
            if os.environ.get("BENCH_TRACE") and arrived_at - began > 0.05:
                print(
                    f"slow arrival on {label} at +{began - started:.2f}s: nurse {ms(arrived_at - began)}, "
                    f"own {ms(own_at - began)}",
                    file=sys.stderr,
                )
    finally:
        probe.cancel()
    return latencies, own_latency, commits, clients


async def measure(dsn: str, world: World, waiting: int, count: int, load: Load | None) -> dict[str, Any]:
    """Arrivals with nothing else running, then (with ``load``) as many again beside the load."""
    env = {
        "DATABASE_URL": dsn,
        "OHCONNECT_ENVIRONMENT": "test",
        "OHCONNECT_LOG_LEVEL": "WARNING",
        "OHCONNECT_WAITING_ROOM_OPEN_MINUTES": "1440",
        "OHCONNECT_DB_POOL_MAX": "10",
    }
    a, b = Server("backend.main:create_app", env), Server("backend.main:create_app", env)
    clients: list[Client] = []
    beats: list[asyncio.Task[None]] = []
    phases: dict[str, Any] = {}
    try:
        await asyncio.gather(a.ready("/readyz"), b.ready("/readyz"))
        nurse, _ = await join(a.url, {"clinic": world.clinic, "token": world.nurse_token})
        clients.append(nurse)
        beats.append(asyncio.create_task(heartbeat(nurse, 0)))
        await asyncio.sleep(2)
        before = rss_mib(a, b)
        for n, (appointment, token) in enumerate(world.employees[:waiting]):
            client, _ = await join((a, b)[n % 2].url, {"appointment": appointment, "token": token})
            await client.ws.send('{"t":"ready"}')
            clients.append(client)
            beats.append(asyncio.create_task(heartbeat(client, random.uniform(0, PING_SECONDS))))
        await asyncio.sleep(8)  # everyone settled, queue positions sent, heartbeats flowing
        gc.collect()
        gc.freeze()  # the measuring client's own collector pauses are not the server's latency
        per_socket_kib = (rss_mib(a, b) - before) * 1024 / waiting
        idle_people = world.employees[waiting : waiting + count]
        *phases["idle"], joined = await arrivals(dsn, (a, b), nurse, idle_people, beats)
        clients.extend(joined)
        if load is not None:
            load.urls = [a.url, b.url]
            await load.prepare(dsn, world.load_emails)
            load.start()
            await asyncio.sleep(3)  # the load is flowing before the first measured arrival
            load.restart_counts()
            began = time.perf_counter()
            busy_people = world.employees[waiting + count : waiting + 2 * count]
            try:
                *phases["load"], joined = await arrivals(dsn, (a, b), nurse, busy_people, beats)
            finally:
                phases["load_seconds"] = time.perf_counter() - began
                await load.stop()
            clients.extend(joined)
        return {**phases, "per_socket_kib": per_socket_kib, "rss_mib": rss_mib(a, b)}
    finally:
        for beat in beats:
            beat.cancel()
        for client in clients:
            await client.close()
        a.stop()
        b.stop()


def ms(value: float) -> str:
    return f"{1000 * value:.1f} ms"


def print_phase(
    title: str, latencies: dict[str, list[float]], own: list[float], commits: list[float]
) -> float:
    both = latencies["A"] + latencies["B"]
    print(title)
    print(
        f"arrival -> nurse screen, all:      p50 {ms(percentile(both, 0.5))}  "
        f"p99 {ms(percentile(both, 0.99))}  max {ms(max(both))}"
    )
    for label in ("A", "B"):
        values = latencies[label]
        print(
            f"  arriving on process {label}:          p50 {ms(percentile(values, 0.5))}  "
            f"p99 {ms(percentile(values, 0.99))}"
        )
    print(
        f"  (the arriving person's own state: p50 {ms(percentile(own, 0.5))}  "
        f"p99 {ms(percentile(own, 0.99))})"
    )
    print(
        f"  (a one-row commit on the same database meanwhile: p50 {ms(percentile(commits, 0.5))}  "
        f"p99 {ms(percentile(commits, 0.99))})"
    )
    return percentile(both, 0.99)


def print_load(load: Load, seconds: float) -> None:
    counts = load.counts
    kib = counts.pdf_bytes / max(counts.pdfs, 1) / 1024
    print(
        f"  beside: {load.pdf_clients} clients asking for the aggregate report PDF "
        f"({f'{load.pdf_rate:g}/s in all' if load.pdf_rate else 'back to back'}) "
        f"({counts.pdfs} PDFs, {counts.pdfs / seconds:.1f}/s, {kib:.0f} KiB "
        f"each) and {load.phones} phones posting one batch a second ({counts.batches} batches, "
        f"{counts.batches / seconds:.1f}/s) over {seconds:.0f} s; errors: {len(counts.errors)}"
    )
    for error in counts.errors[:5]:
        print(f"    {error}")


async def main(waiting: int, count: int, keep_db: bool, load: Load | None) -> int:
    admin = admin_dsn()
    name = f"ohc_bench_wr_{os.getpid()}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    dsn = with_database(admin, name)
    try:
        await migrate.migrate(dsn, app_role=Settings().db_app_role)
        world = await seed(dsn, waiting + 2 * count)
        if load is not None:
            world.load_emails = await seed_load(dsn, people=2000, phones=load.phones)
        echo_times, echo_kib = await baseline(waiting, count)
        result = await measure(dsn, world, waiting, count, load)
    finally:
        if not keep_db:
            await drop_database(admin, name)
    print(
        f"{time.strftime('%Y-%m-%d')}, {platform.node()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    print(
        f"{waiting} employees waiting over 2 processes; {count} arrivals per phase (half on each); nurse on A"
    )
    worst = print_phase("nothing else running:", *result["idle"])
    if load is not None:
        worst = max(worst, print_phase("while report PDFs and pulse batches are produced:", *result["load"]))
        print_load(load, result["load_seconds"])
    print(
        f"baseline bare WebSocket echo RTT:  p50 {ms(percentile(echo_times, 0.5))}  "
        f"p99 {ms(percentile(echo_times, 0.99))}  ({waiting} idle sockets open)"
    )
    print(
        f"memory per idle waiting socket:    {result['per_socket_kib']:.0f} KiB (app, both processes); "
        f"bare echo socket {echo_kib:.0f} KiB"
    )
    return 0 if worst < 0.050 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--waiting", type=int, default=500, help="employees waiting (10 to 2000)")
    parser.add_argument("--arrivals", type=int, default=200, help="arrivals measured (10 to 1000)")
    parser.add_argument("--keep-db", action="store_true", help="keep the benchmark database")
    parser.add_argument("--pdf-clients", type=int, default=2, help="report PDF clients beside (0 to 16)")
    parser.add_argument(
        "--pdf-rate", type=float, default=2.0, help="report PDFs a second in all (0: back to back)"
    )
    parser.add_argument("--phones", type=int, default=32, help="phones posting beside (0 to 200)")
    parser.add_argument("--no-load", action="store_true", help="measure with nothing else running only")
    options = parser.parse_args()
    if not 10 <= options.waiting <= 2000 or not 10 <= options.arrivals <= 1000:
        parser.error("waiting must be 10 to 2000 and arrivals 10 to 1000")
    if not 0 <= options.pdf_clients <= 16 or not 0 <= options.phones <= 200:
        parser.error("pdf-clients must be 0 to 16 and phones 0 to 200")
    background = (
        None
        if options.no_load
        else Load([], pdf_clients=options.pdf_clients, pdf_rate=options.pdf_rate, phones=options.phones)
    )
    sys.exit(asyncio.run(main(options.waiting, options.arrivals, options.keep_db, background)))
