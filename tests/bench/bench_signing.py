"""Benchmark: what PAdES signing adds to a surveillance certificate, and what a burst of signed
certificates does to the event loop.

Each figure sits next to its baseline, measured in the same run:

* service: the certificate rendered unsigned (``certificate.render_certificate``) against the same
  rendered and signed (``DocumentSigner.sign``), interleaved, in this process; signed with the
  generated development key (ECDSA P-256) and with a provider-style RSA-3072 key and CA chain;
* HTTP: the real app (its own process, uvicorn, one worker, signing with the RSA-3072 key) on a
  fresh database: sign an outcome, then the first ``GET .../certificate.pdf`` (render + sign +
  store, on a document thread), against the second ``GET`` of the same certificate (stored bytes);
* the loop: ``GET /healthz`` latency while certificates are issued four at a time, against
  ``GET /healthz`` with nothing else running.

Run from the repository root (pytest does not collect this file):
    python -m tests.bench.bench_signing [--n 40] [--keep-db]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from datetime import UTC, date, datetime
from uuid import uuid4

import asyncpg
import httpx

from backend.reports import certificate, signing
from backend.reports.render import Stamp
from backend.surveillance.result_schemas import Restriction, ResultRead
from tests.bench.bench_referrals import Server, drop_database
from tests.bench.bench_reports import create_database, line, percentile, seed, sign_in
from tests.pg import admin_dsn
from tests.signing_keys import KeyFiles, provider_keys

OUTCOME = {"outcome": "FIT", "next_due_date": "2027-11-20", "outcome_consent": True}
AUDIOGRAM = {
    "left": {"1000": 10, "2000": 15, "3000": 20, "4000": 30, "6000": 30},
    "right": {"1000": 10, "2000": 15, "3000": 25, "4000": 30, "6000": 30},
}


def example_result() -> ResultRead:
    """A certificate's input with restrictions and actions (fictional people)."""
    return ResultRead(
        id=uuid4(), status="signed", enrolment_id=uuid4(), programme_id=uuid4(),
        programme_name="Press shop noise", programme_kind="noise", task_type=None,
        organisation_id=uuid4(), organisation_name="Bench Small (fictional)", person_id=uuid4(),
        full_name="Person 1", employee_number="B1", department="Dept 1", performed_on=date(2026, 11, 20),
        modality="in_person", procedure="Pure-tone audiometry", outcome="FIT_WITH_RESTRICTIONS",
        restrictions=[Restriction(text="No press shop work without double protection", duration="temporary")],
        review_date=date(2027, 2, 20), refer_to=None, due_by=None, incomplete_reason=None,
        employer_actions=["Check hearing protection fit and training"], next_due_date=date(2027, 5, 20),
        assessor_name="Nurse", assessor_role="OH nurse", assessor_registration="NMC 12A3456E",
        signed_at=datetime.now(UTC),
    )  # fmt: skip


def service_bench(n: int, signers: dict[str, signing.DocumentSigner]) -> dict[str, list[float]]:
    result = example_result()
    stamp = Stamp(uuid4(), datetime.now(UTC).replace(microsecond=0), certificate.certificate_hash(result))
    found: dict[str, list[float]] = {"unsigned": [], **{name: [] for name in signers}}
    for signer in signers.values():  # warm-up
        signer.sign(certificate.render_certificate(result, stamp))
    for _ in range(n):
        start = time.perf_counter()
        pdf = certificate.render_certificate(result, stamp)
        found["unsigned"].append(time.perf_counter() - start)
        for name, signer in signers.items():
            start = time.perf_counter()
            signer.sign(certificate.render_certificate(result, stamp))
            found[name].append(time.perf_counter() - start)
    assert pdf.startswith(b"%PDF")
    return found


async def drafts(http: httpx.AsyncClient, nurse: dict[str, str], dsn: str, n: int) -> list[str]:
    """``n`` signed results of the small employer not yet holding one (a certificate each)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT e.id FROM hs_enrolment e JOIN hs_person p ON p.id = e.person_id "
            "WHERE p.email LIKE '%@small.example' AND NOT EXISTS "
            "(SELECT 1 FROM hs_result r WHERE r.enrolment_id = e.id) ORDER BY e.id"
        )
    finally:
        await conn.close()
    made = []
    for row in rows[:n]:
        body = {"enrolment_id": str(row["id"]), "performed_on": "2026-11-20"}
        created = await http.post(
            "/api/v1/surveillance/results",
            headers=nurse,
            json={**body, "measurements": {"audiogram": AUDIOGRAM}},
        )
        created.raise_for_status()
        signed = await http.post(
            f"/api/v1/surveillance/results/{created.json()['id']}/sign", headers=nurse, json=OUTCOME
        )
        signed.raise_for_status()
        made.append(created.json()["id"])
    return made


async def fetch(http: httpx.AsyncClient, nurse: dict[str, str], result_id: str) -> float:
    start = time.perf_counter()
    pdf = await http.get(f"/api/v1/surveillance/results/{result_id}/certificate.pdf", headers=nurse)
    pdf.raise_for_status()
    assert b"/ByteRange" in pdf.content, "a signed PDF"
    return time.perf_counter() - start


async def healthz(
    http: httpx.AsyncClient, *, count: int = 0, until: asyncio.Future[None] | None = None
) -> list[float]:
    """Sequential ``GET /healthz`` latencies: ``count`` of them, or as many as fit until ``until``."""
    found: list[float] = []
    while (len(found) < count) if until is None else not until.done():
        start = time.perf_counter()
        (await http.get("/healthz")).raise_for_status()
        found.append(time.perf_counter() - start)
        await asyncio.sleep(0.005)
    return found


async def http_bench(url: str, dsn: str, n: int) -> dict[str, list[float]]:
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        nurse = await sign_in(http, "nurse@bench.example")
        first, burst = await drafts(http, nurse, dsn, n), await drafts(http, nurse, dsn, n)
        issue = [await fetch(http, nurse, rid) for rid in first]
        again = [await fetch(http, nurse, rid) for rid in first]
        idle = await healthz(http, count=4 * n)

        async def issue_burst() -> None:
            for i in range(0, len(burst), 4):
                await asyncio.gather(*(fetch(http, nurse, rid) for rid in burst[i : i + 4]))

        busy = asyncio.ensure_future(issue_burst())
        loaded = await healthz(http, until=busy)
        await busy
    return {
        "baseline: GET certificate.pdf again (stored)": again,
        "first GET certificate.pdf (render+sign+store)": issue,
        "baseline: GET /healthz, nothing else running": idle,
        "GET /healthz while issuing 4 at a time": loaded,
    }


def ratio(label: str, signed: list[float], base: list[float]) -> str:
    p50 = percentile(signed, 0.5) / percentile(base, 0.5)
    p95 = percentile(signed, 0.95) / percentile(base, 0.95)
    return f"  {label}: p50 x{p50:.1f}, p95 x{p95:.1f}"


async def main(n: int, keep_db: bool) -> int:
    keys_dir = Path(tempfile.mkdtemp(prefix="ohconnect-bench-keys-"))
    rsa: KeyFiles = provider_keys(keys_dir, bits=3072)
    dev_pem = signing.development_pem()
    signers = {
        "render + sign, development P-256 key": signing.from_pem(dev_pem, dev_pem, development=True),
        "render + sign, RSA-3072 key and CA chain": signing.from_pem(
            rsa.key.read_bytes(), rsa.cert.read_bytes()
        ),
    }
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    service = await asyncio.to_thread(service_bench, n * 2, signers)  # pyHanko runs its own loop
    print(line("baseline: render certificate, unsigned", service["unsigned"]))
    for name in signers:
        print(line(name, service[name]))
        print(ratio("signed / unsigned", service[name], service["unsigned"]))

    admin = admin_dsn()
    name = f"ohc_bench_signing_{os.getpid()}"
    dsn = await create_database(admin, name)
    try:
        await seed(dsn, signs=2 * n, employees=200)
        env = {
            "DATABASE_URL": dsn, "OHCONNECT_ENVIRONMENT": "test", "OHCONNECT_LOG_LEVEL": "WARNING",
            "OHCONNECT_SIGNING_KEY_FILE": str(rsa.key), "OHCONNECT_SIGNING_CERT_FILE": str(rsa.cert),
        }  # fmt: skip
        server = Server("backend.main:create_app", env)
        try:
            await server.ready("/healthz")
            figures = await http_bench(server.url, dsn, n)
        finally:
            server.stop()
        for label, values in figures.items():
            print(line(label, values))
        labels = list(figures)
        print(ratio("first issue / stored", figures[labels[1]], figures[labels[0]]))
        print(ratio("healthz while issuing / idle", figures[labels[3]], figures[labels[2]]))
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(keys_dir, ignore_errors=True)
        if not keep_db:
            await drop_database(admin, name)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.n, args.keep_db)))
