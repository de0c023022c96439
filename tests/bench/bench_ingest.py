"""Benchmark: sustained reading-batch ingestion through HTTP, next to a bare FastAPI endpoint.

Many simulated phones each stream one-second batches of 100 Hz PPG (100 samples) as fast as the
server acknowledges them, one request at a time per phone, and resend a share of their batches
(as a phone does after a lost reply). The same phones drive, in turn:

- a bare FastAPI app whose ``POST /api/v1/readings/batches`` parses the same ``ReadingBatch`` and
  answers ``201`` without storing anything (the baseline of the ratio);
- the storage floor: the bare app plus one idempotent ``INSERT`` of the batch, with no checks,
  summary, audit or live event (what durable storage alone costs on this machine);
- the real app (``backend.main:create_app``) on a fresh, migrated database: device-token check,
  idempotent insert, heart rate over the last 10 s of PPG, summary, audit row and live event,
  in one store statement per batch, or per group of batches arriving together (ADR 0006).

Each runs in its own uvicorn process under the same settings. The phones use a minimal HTTP
client (``rawhttp``) so that the load generator takes little CPU from the server under test on a
small machine; CPU time per request is printed for the phones, the server and PostgreSQL.
Afterwards the database is counted: every acknowledged batch must be stored exactly once (none
lost, none duplicated) and every stream's summary must agree.

Run from the repository root (pytest does not collect this file):
    python -m tests.bench.bench_ingest [--phones 32] [--seconds 15] [--repeat-rate 0.02] [--workers 2]
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
import platform
import random
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from backend.auth import service as auth_service
from backend.auth.schemas import Role
from backend.readings.statement import STATEMENT
from sensors.protocol import ReadingBatch
from sensors.simulator import simulate_ppg
from tests.bench import rawhttp
from tests.bench.bench_referrals import Server, create_database, drop_database
from tests.pg import admin_dsn

FS = 100.0
PER_BATCH = 100
EMPLOYEE_PASSWORD = "bench password not secret"
JSON = {"Content-Type": "application/json"}
PATH = "/api/v1/readings/batches"
ESTIMATOR = b"estimator_process"  # in the command line of the app's heart-rate workers


def bare_app() -> FastAPI:
    """The floor: FastAPI parsing the same batch model and answering, storing nothing."""
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/readings/batches", status_code=201)
    async def batches(batch: ReadingBatch) -> dict[str, Any]:
        return {"stream_id": str(batch.stream_id), "seq": batch.seq}

    return app


FLOOR_TABLE = """
CREATE TABLE IF NOT EXISTS bench_floor (
    stream_id uuid NOT NULL, seq integer NOT NULL, sent_at timestamptz NOT NULL,
    samples double precision[] NOT NULL, PRIMARY KEY (stream_id, seq)
)
"""


def floor_app() -> FastAPI:
    """The storage floor: the bare app plus one idempotent INSERT per batch through an asyncpg
    pool (autocommit), with no checks, summary, audit or live event. What durable storage alone
    costs next to parsing."""
    pool: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        pool["pool"] = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2, max_size=10)
        yield
        await pool["pool"].close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/readings/batches", status_code=201)
    async def batches(batch: ReadingBatch) -> dict[str, Any]:
        samples = batch.ppg.samples if batch.ppg is not None else []
        await pool["pool"].execute(
            "INSERT INTO bench_floor VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            batch.stream_id, batch.seq, batch.sent_at, samples,
        )  # fmt: skip
        return {"stream_id": str(batch.stream_id), "seq": batch.seq}

    return app


@dataclass
class Phone:
    """One simulated phone: its stream, token and pre-serialised batches."""

    stream_id: uuid.UUID
    token: str
    bodies: list[bytes]
    acknowledged: set[int] = field(default_factory=set)
    repeats_ok: int = 0
    errors: list[str] = field(default_factory=list)


def make_bodies(
    stream_id: uuid.UUID, signal: list[float], count: int, start: datetime, sent: datetime
) -> list[bytes]:
    out = []
    for seq in range(count):
        chunk = signal[seq * PER_BATCH : (seq + 1) * PER_BATCH]
        body = {
            "version": 1, "stream_id": str(stream_id), "seq": seq,
            "device": {"kind": "camera", "model": "Bench phone camera"},
            "sent_at": sent.isoformat(), "started_at": start.isoformat(), "sample_rate_hz": FS,
            "ppg": {"t_offset_s": seq * PER_BATCH / FS, "fs": FS, "samples": [round(x, 4) for x in chunk]},
        }  # fmt: skip
        out.append(json.dumps(body, separators=(",", ":")).encode())
    return out


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (Linux /proc), or 0 when unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int, *, command: bytes | None = None) -> float:
    """CPU time of a process and its live descendants (uvicorn's worker processes, the app's
    heart-rate workers); with ``command``, only of those whose command line contains it."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        line = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return 0.0
    own = cpu_seconds(pid) if command is None or command in line else 0.0
    return own + sum(tree_cpu_seconds(int(child), command=command) for child in children)


@dataclass
class Measured:
    batches: int
    seconds: float
    latencies_s: list[float]
    errors: int
    requests: int = 0  # every request of the run, warm-up and resends included
    server_cpu_s: float = 0.0  # CPU time of the app process over the run
    database_cpu_s: float = 0.0  # CPU time of its PostgreSQL backends over the run
    estimator_cpu_s: float = 0.0  # of the app's, the CPU time of its heart-rate worker processes
    client_cpu_s: float = 0.0  # CPU time of this process (the simulated phones) over the run
    resent: int = 0  # requests repeated after a connection failure (their batch counted once)
    per_statement: float = 0.0  # batches per store statement in one app process

    def cpu_ms_per_request(self, seconds: float) -> float:
        return 1000 * seconds / self.requests if self.requests else 0.0

    @property
    def per_second(self) -> float:
        return self.batches / self.seconds

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies_s) or [0.0]
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def drive(
    url: str, phones: list[Phone], *, seconds: float, warmup: float, repeat_rate: float, wrap: bool = False
) -> Measured:
    """Each phone sends its next batch once the last is acknowledged; count after the warm-up.
    ``wrap``: start a phone's batches again when they run out (only where nothing is stored)."""
    latencies: list[float] = []
    errors = 0
    requests = 0
    resent = 0  # requests repeated after a connection failure
    rng = random.Random(7)
    cpu_before = time.process_time()
    start = time.perf_counter()
    measure_from, stop_at = start + warmup, start + warmup + seconds

    async def run(phone: Phone) -> None:
        nonlocal errors, requests, resent
        client = rawhttp.Client(url)
        headers = {**JSON, "Authorization": f"Bearer {phone.token}"}
        prepared = [rawhttp.build_post(url, PATH, headers, body) for body in phone.bodies]

        async def send(seq: int) -> int:
            """Post one batch, resending after a connection failure as a phone does."""
            nonlocal requests, resent
            for attempt in range(5):
                requests += 1
                try:
                    status, _body = await client.send(prepared[seq % len(prepared)])
                except rawhttp.ConnectionLost:
                    if attempt == 4:
                        raise
                    resent += 1
                    continue
                return status
            raise AssertionError("unreachable")

        try:
            for seq in range(len(prepared) * (1000 if wrap else 1)):
                began = time.perf_counter()
                if began >= stop_at:
                    return
                try:
                    status = await send(seq)
                    if status == 201 and rng.random() < repeat_rate:
                        again = await send(seq)  # as if the reply had been lost
                        phone.repeats_ok += again == 200
                        if again != 200:
                            phone.errors.append(f"repeat of {seq}: HTTP {again}")
                except rawhttp.ConnectionLost as exc:
                    errors += 1
                    phone.errors.append(f"{seq}: {exc}")
                    continue
                if status not in (200, 201):
                    errors += 1
                    phone.errors.append(f"{seq}: HTTP {status}")
                    continue
                phone.acknowledged.add(seq)
                if began >= measure_from:
                    latencies.append(time.perf_counter() - began)
            raise RuntimeError(f"a phone ran out of prepared batches (first errors: {phone.errors[:3]})")
        finally:
            await client.close()

    await asyncio.gather(*(run(p) for p in phones))
    elapsed = time.perf_counter() - measure_from
    client_cpu = time.process_time() - cpu_before
    return Measured(
        len(latencies), elapsed, latencies, errors, requests, client_cpu_s=client_cpu, resent=resent
    )


async def seed(dsn: str, phones: int) -> list[str]:
    """One employer employee per phone; returns their e-mail addresses."""
    conn = await asyncpg.connect(dsn)
    try:
        employer = await conn.fetchval("SELECT id FROM organisation WHERE kind = 'employer'")
        emails = [f"bench.employee{i}@bench.example" for i in range(phones)]
        for email in emails:
            await auth_service.create_user(
                conn, organisation_id=employer, role=Role.employee, email=email, password=EMPLOYEE_PASSWORD,
                full_name="Bench Employee",
            )  # fmt: skip
    finally:
        await conn.close()
    return emails


async def start_streams(url: str, emails: list[str]) -> list[tuple[uuid.UUID, str]]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def one(email: str) -> tuple[uuid.UUID, str]:
            login = await client.post(
                "/api/v1/auth/login", json={"email": email, "password": EMPLOYEE_PASSWORD}
            )
            login.raise_for_status()
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
            agree = {"statement_version": STATEMENT.version, "agree": True}
            (await client.post("/api/v1/readings/consent", json=agree, headers=auth)).raise_for_status()
            device = {"device": {"kind": "camera", "model": "Bench phone camera"}}
            created = await client.post("/api/v1/readings/streams", json=device, headers=auth)
            created.raise_for_status()
            return uuid.UUID(created.json()["stream"]["id"]), created.json()["device_token"]

        return [await one(e) for e in emails]


def prepare(streams: list[tuple[uuid.UUID, str]], batches_each: int) -> list[Phone]:
    now = datetime.now(UTC)
    start = now - timedelta(seconds=batches_each + 5)
    phones = []
    for i, (stream_id, token) in enumerate(streams):
        signal = simulate_ppg(60 + (i % 40), batches_each + 1, FS, seed=i, noise=0.05).signal.tolist()
        phones.append(Phone(stream_id, token, make_bodies(stream_id, signal, batches_each, start, now)))
    return phones


async def count_database(dsn: str, phones: list[Phone]) -> list[str]:
    """Problems: any acknowledged batch not stored once, anything stored that was not acknowledged."""
    problems = []
    conn = await asyncpg.connect(dsn)
    try:
        for phone in phones:
            rows = await conn.fetch("SELECT seq FROM reading_batch WHERE stream_id = $1", phone.stream_id)
            stored = [r["seq"] for r in rows]
            summary = await conn.fetchval("SELECT batches FROM reading_stream WHERE id = $1", phone.stream_id)
            if len(stored) != len(set(stored)):
                problems.append(f"{phone.stream_id}: duplicated batches")
            if set(stored) != phone.acknowledged:
                lost = sorted(phone.acknowledged - set(stored))[:5]
                extra = sorted(set(stored) - phone.acknowledged)[:5]
                problems.append(f"{phone.stream_id}: lost {lost}, unacknowledged but stored {extra}")
            if summary != len(stored):
                problems.append(f"{phone.stream_id}: summary counts {summary}, table holds {len(stored)}")
    finally:
        await conn.close()
    return problems


async def database_cpu(admin: str, name: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving the database ``name``."""
    conn = await asyncpg.connect(admin)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name
        )
    finally:
        await conn.close()
    return {r["pid"]: cpu_seconds(r["pid"]) for r in rows}


async def database_cpu_since(admin: str, name: str, before: dict[int, float]) -> float:
    """CPU seconds the database's backends used since ``before`` (backends started since count
    from zero; backends that ended meanwhile are not counted)."""
    now = await database_cpu(admin, name)
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in now.items())


def report(label: str, result: Measured) -> None:
    p50, p95 = result.percentile_ms(0.50), result.percentile_ms(0.95)
    cpu = (
        f"CPU ms/request: phones {result.cpu_ms_per_request(result.client_cpu_s):.2f},"
        f" app {result.cpu_ms_per_request(result.server_cpu_s):.2f}"
    )
    if result.estimator_cpu_s:
        cpu += f" (of which heart-rate workers {result.cpu_ms_per_request(result.estimator_cpu_s):.2f})"
    if result.database_cpu_s:
        cpu += f", PostgreSQL {result.cpu_ms_per_request(result.database_cpu_s):.2f}"
    print(f"{label:<27} {result.per_second:7.1f} batches/s   p50 {p50:6.1f} ms   p95 {p95:6.1f} ms"
          f"   ({result.batches} batches, {result.errors} errors)")  # fmt: skip
    print(f"{'':<27} {cpu}; {result.resent} requests resent after a connection failure")
    if result.per_statement:
        print(f"{'':<27} {result.per_statement:.1f} batches per store statement (one app process)")


async def batches_per_statement(url: str) -> float:
    """Batches per store statement so far in the app process that answers (its metrics)."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        text = (await client.get("/metrics")).text
    found = dict(re.findall(r'^ohconnect_reading_store_writes\{kind="(\w+)"\} (\S+)$', text, re.MULTILINE))
    statements = float(found.get("statements", 0))
    return float(found.get("batches", 0)) / statements if statements else 0.0


async def run_floor(
    admin: str, dsn: str, name: str, emails: list[str], seconds: float, warmup: float, workers: int
) -> Measured:
    """Drive the storage floor with fresh batch numbers (nothing wraps onto a stored batch)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(FLOOR_TABLE)
    finally:
        await conn.close()
    server = Server("tests.bench.bench_ingest:floor_app", {"DATABASE_URL": dsn}, workers=workers)
    try:
        await server.ready("/healthz")
        phones = prepare([(uuid.uuid4(), "bench") for _ in emails], int((seconds + warmup) * 400) + 10)
        before, database_before = tree_cpu_seconds(server.process.pid), await database_cpu(admin, name)
        floor = await drive(server.url, phones, seconds=seconds, warmup=warmup, repeat_rate=0.0)
        floor.server_cpu_s = tree_cpu_seconds(server.process.pid) - before
        floor.database_cpu_s = await database_cpu_since(admin, name, database_before)
    finally:
        server.stop()
    return floor


async def run_baselines(
    admin: str, dsn: str, name: str, emails: list[str], seconds: float, warmup: float, workers: int
) -> tuple[Measured, Measured]:
    """The bare app (parse only) and the storage floor, each driven by the same phones."""
    bare_server = Server("tests.bench.bench_ingest:bare_app", {}, workers=workers)
    try:
        await bare_server.ready("/healthz")
        bare_phones = prepare([(uuid.uuid4(), "bench") for _ in emails], 200)
        before = tree_cpu_seconds(bare_server.process.pid)
        bare = await drive(
            bare_server.url, bare_phones, seconds=seconds, warmup=warmup, repeat_rate=0.0, wrap=True
        )
        bare.server_cpu_s = tree_cpu_seconds(bare_server.process.pid) - before
    finally:
        bare_server.stop()
    report("bare FastAPI (parse only)", bare)
    floor = await run_floor(admin, dsn, name, emails, seconds, warmup, workers)
    report("bare + one INSERT (floor)", floor)
    return bare, floor


async def main(
    phones: int,
    seconds: float,
    warmup: float,
    repeat_rate: float,
    keep_db: bool,
    workers: int = 1,
    stored_only: bool = False,
) -> int:
    admin = admin_dsn()
    name = f"ohc_bench_ingest_{os.getpid()}"
    dsn = await create_database(admin, name)
    batches_each = int((seconds + warmup) * max(40, 2000 / phones)) + 10  # more than a phone can store
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}; {phones} phones, 1 s batches of {PER_BATCH} samples at {FS:g} Hz, "
          f"{seconds:g} s measured after {warmup:g} s warm-up, {repeat_rate:.0%} resent; "
          f"{workers} server process(es) per target")  # fmt: skip
    env = {"DATABASE_URL": dsn, "OHCONNECT_ENVIRONMENT": "test", "OHCONNECT_LOG_LEVEL": "WARNING"}
    try:
        emails = await seed(dsn, phones)
        bare = floor = Measured(batches=0, seconds=seconds, latencies_s=[], errors=0)
        if not stored_only:
            bare, floor = await run_baselines(admin, dsn, name, emails, seconds, warmup, workers)
        app_server = Server("backend.main:create_app", env, workers=workers)
        try:
            await app_server.ready("/readyz")
            app_phones = prepare(await start_streams(app_server.url, emails), batches_each)
            app_before = tree_cpu_seconds(app_server.process.pid)
            estimator_before = tree_cpu_seconds(app_server.process.pid, command=ESTIMATOR)
            database_before = await database_cpu(admin, name)
            app = await drive(
                app_server.url, app_phones, seconds=seconds, warmup=warmup, repeat_rate=repeat_rate
            )
            app.server_cpu_s = tree_cpu_seconds(app_server.process.pid) - app_before
            app.estimator_cpu_s = (
                tree_cpu_seconds(app_server.process.pid, command=ESTIMATOR) - estimator_before
            )
            app.database_cpu_s = await database_cpu_since(admin, name, database_before)
            app.per_statement = await batches_per_statement(app_server.url)
        finally:
            app_server.stop()
        report("ohconnect ingest (stored)", app)
        problems = await count_database(dsn, app_phones)
        stored = sum(len(p.acknowledged) for p in app_phones)
        repeats = sum(p.repeats_ok for p in app_phones)
        errors = [e for p in app_phones for e in p.errors]
    finally:
        if not keep_db:
            await drop_database(admin, name)
    print(f"database: {stored} acknowledged batches, each stored exactly once: {not problems}; "
          f"{repeats} resent batches answered 200 with the original receipt")  # fmt: skip
    for problem in problems[:10] + errors[:10]:
        print(f"  problem: {problem}", file=sys.stderr)
    if bare.per_second and floor.per_second:
        print(f"ratio: stored ÷ bare = {app.per_second / bare.per_second:.2f} (target ≥ 0.6); "
              f"floor ÷ bare = {floor.per_second / bare.per_second:.2f}; "
              f"stored ÷ floor = {app.per_second / floor.per_second:.2f}")  # fmt: skip
    return 1 if problems or errors or not app.batches else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--phones", type=int, default=32, help="simulated phones, one request at a time each")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per target (max 120)")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before measuring")
    parser.add_argument(
        "--repeat-rate", type=float, default=0.02, help="share of batches sent twice (0 to 0.5)"
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the benchmark database")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes per server (1 to 4)")
    parser.add_argument("--stored-only", action="store_true", help="skip the bare and floor baselines")
    options = parser.parse_args()
    if (
        not 1 <= options.phones <= 256
        or not 0 < options.seconds <= 120
        or not 0 <= options.repeat_rate <= 0.5
        or not 1 <= options.workers <= 4
    ):
        parser.error("phones must be 1 to 256, seconds 0 to 120, repeat-rate 0 to 0.5 and workers 1 to 4")
    sys.exit(
        asyncio.run(
            main(
                options.phones,
                options.seconds,
                options.warmup,
                options.repeat_rate,
                options.keep_db,
                options.workers,
                options.stored_only,
            )
        )
    )
