"""Benchmark: referral create+submit through the real app, next to a bare FastAPI endpoint.

Both run in their own process under the same uvicorn settings (one worker, loopback, no access
log) and are driven in turn by the same number of concurrent keep-alive connections, each
sending its next request once the last is answered. The clients use the minimal HTTP client in
``rawhttp`` so that the load generator takes little of the machine's CPU (its CPU time per
request is printed). The real app gets a fresh database on the test PostgreSQL
(TEST_DATABASE_URL, else DATABASE_URL, else the embedded one), dropped at the end.
``--workers 1 2`` measures the app once per process count (uvicorn ``--workers``), to show how
throughput grows with processes on one machine.

Run from the repository root (pytest does not collect this file):
    python -m tests.bench.bench_referrals [--concurrency 16] [--seconds 15] [--workers 1 2]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import argparse
import asyncio
import json
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from backend.auth import service as auth_service
from backend.auth.schemas import Role
from backend.core.config import Settings
from backend.db import migrate
from backend.referrals.schemas import EXAMPLE_FORM
from tests.bench import rawhttp
from tests.pg import admin_dsn, with_database

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "bench password not secret"
MANAGER_EMAIL = "bench.manager@bench.example"
UVICORN_ARGS = ["--host", "127.0.0.1", "--log-level", "warning", "--no-access-log", "--workers", "1"]
JSON = {"Content-Type": "application/json"}
Operation = Callable[[rawhttp.Client], Awaitable[None]]


def bare_app() -> FastAPI:
    """The floor: FastAPI parsing the same JSON body and answering, with no database."""
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/echo", status_code=201)
    async def echo(body: dict[str, Any]) -> dict[str, bool]:
        return {"ok": bool(body)}

    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Measured:
    operations: int
    errors: int
    seconds: float
    latencies_s: list[float]
    client_cpu_s: float = 0.0  # CPU time of this process (the clients) over the run

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies_s)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def drive(
    url: str, operation: Operation, *, concurrency: int, seconds: float, warmup: float
) -> Measured:
    """Run `operation` on `concurrency` connections for warmup+seconds; measure after the warm-up."""
    latencies: list[float] = []
    errors = 0
    cpu_before = time.process_time()
    start = time.perf_counter()
    measure_from, stop_at = start + warmup, start + warmup + seconds

    async def worker() -> None:
        nonlocal errors
        client = rawhttp.Client(url)
        try:
            while (began := time.perf_counter()) < stop_at:
                try:
                    await operation(client)
                except (rawhttp.ConnectionLost, AssertionError):
                    errors += 1
                    continue
                if began >= measure_from:
                    latencies.append(time.perf_counter() - began)
        finally:
            await client.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - measure_from
    return Measured(len(latencies), errors, elapsed, latencies, time.process_time() - cpu_before)


def create_and_submit(url: str, token: str) -> Operation:
    """One manager's referral: create it (the OpenAPI example form), then submit it."""
    headers = {**JSON, "Authorization": f"Bearer {token}"}
    create = rawhttp.build_post(url, "/api/v1/referrals", headers, json.dumps(EXAMPLE_FORM).encode())

    async def operation(client: rawhttp.Client) -> None:
        status, body = await client.send(create)
        assert status == 201, body[:300]
        referral_id = json.loads(body)["id"]
        submit = rawhttp.build_post(url, f"/api/v1/referrals/{referral_id}/submit", headers, b"")
        status, body = await client.send(submit)
        assert status == 200, body[:300]

    return operation


def post_bare(url: str) -> Operation:
    echo = rawhttp.build_post(url, "/echo", JSON, json.dumps(EXAMPLE_FORM).encode())

    async def operation(client: rawhttp.Client) -> None:
        status, body = await client.send(echo)
        assert status == 201, body[:300]

    return operation


class Server:
    """A uvicorn process serving `app` (an import string of an app factory) on a free port."""

    def __init__(self, app: str, env: dict[str, str], *, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop)
        args = [*UVICORN_ARGS, "--workers", str(workers)]  # the last --workers counts
        self.process = subprocess.Popen(  # noqa: S603 (fixed arguments)
            [sys.executable, "-m", "uvicorn", app, "--factory", "--port", str(self.port), *args],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    async def ready(self, path: str) -> None:
        async with httpx.AsyncClient(base_url=self.url) as client:
            for _ in range(300):
                if self.process.poll() is not None:
                    break
                try:
                    if (await client.get(path)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        self.log.seek(0)
        raise RuntimeError(f"server did not start:\n{self.log.read().decode(errors='replace')}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


async def create_database(admin: str, name: str) -> str:
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    dsn = with_database(admin, name)
    await migrate.migrate(dsn, app_role=Settings().db_app_role)
    conn = await asyncpg.connect(dsn)
    try:
        provider = await auth_service.create_organisation(conn, name="Bench OH (fictional)", kind="provider")
        employer = await auth_service.create_organisation(
            conn, name="Bench Employer (fictional)", kind="employer", provider_id=provider.id
        )
        await auth_service.create_user(
            conn,
            organisation_id=employer.id,
            role=Role.manager,
            email=MANAGER_EMAIL,
            password=PASSWORD,
            full_name="Bench Manager",
            department="Logistics",
        )
    finally:
        await conn.close()
    return dsn


async def drop_database(admin: str, name: str) -> None:
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def measure_bare(concurrency: int, seconds: float, warmup: float) -> Measured:
    server = Server("tests.bench.bench_referrals:bare_app", {})
    try:
        await server.ready("/healthz")
        operation = post_bare(server.url)
        return await drive(server.url, operation, concurrency=concurrency, seconds=seconds, warmup=warmup)
    finally:
        server.stop()


async def measure_app(
    dsn: str, concurrency: int, seconds: float, warmup: float, workers: int = 1
) -> Measured:
    env = {"DATABASE_URL": dsn, "OHCONNECT_ENVIRONMENT": "test", "OHCONNECT_LOG_LEVEL": "WARNING"}
    server = Server("backend.main:create_app", env, workers=workers)
    try:
        await server.ready("/readyz")
        async with httpx.AsyncClient(base_url=server.url) as client:
            credentials = {"email": MANAGER_EMAIL, "password": PASSWORD}
            login = await client.post("/api/v1/auth/login", json=credentials)
            login.raise_for_status()
        operation = create_and_submit(server.url, login.json()["access_token"])
        return await drive(server.url, operation, concurrency=concurrency, seconds=seconds, warmup=warmup)
    finally:
        server.stop()


def report(label: str, unit: str, result: Measured) -> None:
    p50, p95 = result.percentile_ms(0.50), result.percentile_ms(0.95)
    print(
        f"{label:<36} {result.per_second:8.1f} {unit}/s   p50 {p50:6.1f} ms   p95 {p95:6.1f} ms"
        f"   ({result.operations} {unit}, {result.errors} errors;"
        f" clients' CPU {1000 * result.client_cpu_s / max(result.operations, 1):.2f} ms each)"
    )


async def main(concurrency: int, seconds: float, warmup: float, keep_db: bool, workers: list[int]) -> int:
    admin = admin_dsn()
    name = f"ohc_bench_{os.getpid()}"
    dsn = await create_database(admin, name)
    try:
        print(
            f"concurrency {concurrency}, {seconds:g} s measured after {warmup:g} s warm-up, loopback, "
            f"uvicorn {' '.join(UVICORN_ARGS)}"
        )
        bare = await measure_bare(concurrency, seconds, warmup)
        report("bare FastAPI POST /echo", "req", bare)
        apps = {}
        for count in workers:
            apps[count] = await measure_app(dsn, concurrency, seconds, warmup, workers=count)
            report(f"referral create+submit, {count} process(es)", "pairs", apps[count])
    finally:
        if not keep_db:
            await drop_database(admin, name)
    if not bare.operations or not all(app.operations for app in apps.values()):
        print("no successful operations measured", file=sys.stderr)
        return 1
    first = apps[workers[0]]
    print(
        f"ratio: bare req/s ÷ referral pairs/s ({workers[0]} process(es)) = "
        f"{bare.per_second / first.per_second:.1f}; "
        f"per request = {bare.per_second / (2 * first.per_second):.1f}"
    )
    for count, app in apps.items():
        print(
            f"{count} process(es): {app.per_second / first.per_second:.2f} times the pairs/s of {workers[0]}"
        )
    return 1 if bare.errors or any(app.errors for app in apps.values()) else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients (1 to 64)")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per target (max 120)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before measuring")
    parser.add_argument("--keep-db", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1], help="app processes, one measurement each (e.g. 1 2)"
    )
    options = parser.parse_args()
    if not 1 <= options.concurrency <= 64 or not 0 < options.seconds <= 120:
        parser.error("concurrency must be 1 to 64 and seconds 0 to 120")
    if not all(1 <= n <= 16 for n in options.workers):
        parser.error("workers must be 1 to 16 each")
    sys.exit(
        asyncio.run(
            main(options.concurrency, options.seconds, options.warmup, options.keep_db, options.workers)
        )
    )
