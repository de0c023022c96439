"""Background work for the waiting-room benchmark: report PDFs and pulse batches at the same time.

``seed_load`` gives the benchmark's employer a surveillance history (programmes, people, three
years of signed results, released referrals, as bench_reports seeds it) so that its aggregate
report PDF is real work, a client admin to ask for it, and employees with open pulse streams.
``Load`` then keeps, until stopped: ``pdf_clients`` clients asking for the aggregate report PDF
(signed, as issued), together ``pdf_rate`` a second (0: each again as soon as the last arrived),
spread over the app processes, and ``phones`` phones
each posting one second of 100 Hz PPG per second (the pace of a real phone), also spread.
It counts what completed, so the benchmark can say what ran beside the measured arrivals.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import httpx

from backend.auth import service as auth_service
from backend.auth.schemas import Role
from sensors.simulator import simulate_ppg
from tests.bench import bench_ingest, bench_reports

ADMIN_EMAIL = "load.admin@bench.example"
PHONE_SECONDS = 600  # each phone's prepared batches: longer than any measured phase


@dataclass
class Counts:
    pdfs: int = 0
    pdf_bytes: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)


async def seed_load(dsn: str, *, people: int, phones: int) -> list[str]:
    """The employer's history and a client admin; returns the phones' employees' e-mails."""
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow("SELECT id, provider_id FROM organisation WHERE kind = 'employer'")
        assert row is not None, "seed the waiting room first"
        employer, provider = row["id"], row["provider_id"]
        nurse = await conn.fetchval("SELECT id FROM app_user WHERE role = 'clinician'")
        admin = await auth_service.create_user(
            conn, organisation_id=employer, role=Role.client_admin, email=ADMIN_EMAIL,
            password=bench_reports.PASSWORD, full_name="Load Admin",
        )  # fmt: skip
        for kind, task, name in (("noise", None, "A noise"), ("havs", None, "B vibration")):
            await conn.fetchval(bench_reports.SEED_PROGRAMME, employer, provider, kind, task, name, admin.id)
        await conn.execute(bench_reports.SEED_PEOPLE, employer, people)
        await conn.execute(bench_reports.SEED_ENROLMENTS, employer, admin.id)
        await conn.execute(bench_reports.SEED_RESULTS, employer, provider, nurse)
        await conn.execute(bench_reports.SEED_REFERRALS, employer, provider, admin.id, people // 7)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return await bench_ingest.seed(dsn, phones)


class Load:
    """Report PDFs and pulse batches against the given app URLs until ``stop``."""

    def __init__(self, urls: list[str], *, pdf_clients: int, pdf_rate: float, phones: int) -> None:
        self.urls = urls
        self.pdf_clients = pdf_clients
        self.pdf_rate = pdf_rate
        self.phones = phones
        self.counts = Counts()
        self._tasks: list[asyncio.Task[None]] = []
        self._phone_bodies: list[tuple[str, list[bytes]]] = []
        self._employer: UUID | None = None
        self._admin_headers: dict[str, str] = {}

    async def prepare(self, dsn: str, emails: list[str]) -> None:
        now = datetime.now(UTC)
        for n, (stream_id, token) in enumerate(await bench_ingest.start_streams(self.urls[0], emails)):
            signal = simulate_ppg(60 + n % 40, PHONE_SECONDS + 1, bench_ingest.FS, seed=n, noise=0.05)
            bodies = bench_ingest.make_bodies(
                stream_id,
                signal.signal.tolist(),
                PHONE_SECONDS,
                now - timedelta(seconds=PHONE_SECONDS + 5),
                now,
            )
            self._phone_bodies.append((token, bodies))
        conn = await asyncpg.connect(dsn)
        try:
            self._employer = await conn.fetchval("SELECT id FROM organisation WHERE kind = 'employer'")
        finally:
            await conn.close()
        async with httpx.AsyncClient(base_url=self.urls[0], timeout=60) as http:
            self._admin_headers = await bench_reports.sign_in(http, ADMIN_EMAIL)
            await self._one_pdf(http)  # warm-up; also proves the report works before measuring

    def start(self) -> None:
        started = time.perf_counter()
        for n in range(self.pdf_clients):
            self._tasks.append(asyncio.create_task(self._pdfs(self.urls[n % len(self.urls)])))
        for n, (token, bodies) in enumerate(self._phone_bodies):
            url = self.urls[n % len(self.urls)]
            self._tasks.append(asyncio.create_task(self._phone(url, token, bodies, n, started)))

    def restart_counts(self) -> None:
        """Count from now: what ran beside the measured phase only."""
        self.counts = Counts()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _one_pdf(self, http: httpx.AsyncClient) -> None:
        response = await http.get(
            f"/api/v1/organisations/{self._employer}/report.pdf", headers=self._admin_headers
        )
        if response.status_code != 200 or not response.content.startswith(b"%PDF"):
            self.counts.errors.append(f"report.pdf: HTTP {response.status_code}")
            return
        self.counts.pdfs += 1
        self.counts.pdf_bytes += len(response.content)

    async def _pdfs(self, url: str) -> None:
        interval = self.pdf_clients / self.pdf_rate if self.pdf_rate else 0.0
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            due = time.perf_counter()
            while True:
                await self._one_pdf(http)
                due += interval
                await asyncio.sleep(max(0.0, due - time.perf_counter()))

    async def _phone(self, url: str, token: str, bodies: list[bytes], n: int, started: float) -> None:
        headers = {**bench_ingest.JSON, "Authorization": f"Bearer {token}"}
        offset = n % 10 / 10  # phones do not all send on the same tick
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            for seq, body in enumerate(bodies):
                due = started + seq + offset
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                response = await http.post(bench_ingest.PATH, content=body, headers=headers)
                if response.status_code in (200, 201):
                    self.counts.batches += 1
                else:
                    self.counts.errors.append(f"batch {seq}: HTTP {response.status_code}")
