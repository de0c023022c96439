"""No personal or clinical data in any log line: a full journey through the HTTP API of a real
``ohconnect serve`` process logging JSON at DEBUG, then every captured line is searched."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import sys
from pathlib import Path

import asyncpg
import httpx
from websockets.asyncio.client import connect

from backend.auth.schemas import Role
from backend.core.config import Settings
from backend.core.http import request_id_var
from backend.observe import logs
from tests.conftest import free_port
from tests.core.test_production_guard import SAFE_PRODUCTION
from tests.factories import login, make_user, make_world, referral_form
from tests.readings.helpers import post, simulated, start_stream
from tests.surveillance.helpers import enrol, make_programme, record

PRODUCTION = {
    **SAFE_PRODUCTION,
    "mail_sender": "smtp",
    "smtp_host": "smtp.example.org",
    "mail_from": "oh@example.org",
}

TOKEN = re.compile(r"#token=([A-Za-z0-9_\-]+)")
EMPLOYEE = {
    "full_name": "Wilhelmina Quarterfield",
    "email": "w.quarterfield@employer.example",
    "date_of_birth": "1979-02-28",
    "phone": "07700 900781",
    "employee_number": "QF-40417",
}
REFERRER = {
    "name": "Cordelia Fenwickhale",
    "phone": "07700 900654",
    "email": "c.fenwickhale@employer.example",
}
WORKER = {
    "full_name": "Bartholomew Inchcape",
    "email": "b.inchcape@employer.example",
    "date_of_birth": "1968-07-19",
}
CLIENT_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+:\d+ - |\('127\.0\.0\.1', \d+\)")
CLINICAL = ("tinnitus", "dermatitis", "eczema", "otitis")


def forbidden(manager_email: str) -> list[str]:
    words = [*EMPLOYEE.values(), *REFERRER.values(), *WORKER.values(), *CLINICAL, manager_email]
    words += ["Quarterfield", "Wilhelmina", "Fenwickhale", "Inchcape", "Bartholomew"]
    words += ["07700900781", "07700900654", "28/02/1979", "19/07/1968", "1979-02-28", "1968-07-19"]
    return [w.lower() for w in words]


async def serve(db_dsn: str, log: Path) -> tuple[str, asyncio.subprocess.Process]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_dsn,
        "OHCONNECT_ENVIRONMENT": "development",
        "OHCONNECT_LOG_LEVEL": "DEBUG",
        "OHCONNECT_LOG_FORMAT": "json",
        "OHCONNECT_DB_POOL_MIN": "1",
        "OHCONNECT_DB_POOL_MAX": "4",
    }
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "backend.cli",
            "serve",
            "--port",
            str(port),
            env=env,
            stdout=sink,
            stderr=sink,
        )
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url) as http:
        for _ in range(600):
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return url, process
            except httpx.TransportError:
                pass
            assert process.returncode is None, "the server exited (see its log)"
            await asyncio.sleep(0.1)
    raise AssertionError("the server did not start")


async def referral_journey(
    client: httpx.AsyncClient, conn: asyncpg.Connection, manager: dict[str, str]
) -> str:
    form = referral_form()
    form["employee"].update(EMPLOYEE)
    form["referrer"].update(REFERRER)
    form["reason"]["concern"] = "Reports tinnitus and hand dermatitis since the new line opened."
    form["absence"]["record"] = [{"start_date": "2026-10-01", "reason": "Eczema flare (dermatitis)"}]
    created = await client.post("/api/v1/referrals", json=form, headers=manager)
    assert created.status_code == 201, created.text
    referral_id: str = created.json()["id"]
    assert (await client.post(f"/api/v1/referrals/{referral_id}/submit", headers=manager)).status_code == 200
    body = await conn.fetchval(
        "SELECT body FROM outbox_message WHERE recipient = $1 ORDER BY created_at DESC LIMIT 1",
        EMPLOYEE["email"],
    )
    found = TOKEN.search(body or "")
    assert found, "no link queued for the employee"
    session = await client.post("/api/v1/auth/link", json={"token": found.group(1)})
    assert session.status_code == 200, session.text
    employee = {"Authorization": f"Bearer {session.json()['access_token']}"}
    ack = await client.post(
        f"/api/v1/referrals/{referral_id}/acknowledgement",
        headers=employee,
        json={"discussed": True, "comment": "We talked about the tinnitus on Monday."},
    )
    assert ack.status_code == 200, ack.text
    return referral_id


async def test_a_full_journey_logs_no_personal_or_clinical_data(
    db_dsn: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    url, process = await serve(db_dsn, log)
    try:
        world = await make_world(conn)
        person = await make_user(
            conn, world.employer, Role.employee, email=EMPLOYEE["email"], name=EMPLOYEE["full_name"]
        )
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            manager = await login(client, world.users["manager"])
            clinician = await login(client, world.users["clinician"])
            referral_id = await referral_journey(client, conn, manager)
            triaged = await client.post(
                f"/api/v1/referrals/{referral_id}/transitions",
                json={
                    "action": "triage",
                    "modality": "video",
                    "clinician_grade": "ohn",
                    "priority": "urgent",
                },
                headers=clinician,
            )
            assert triaged.status_code == 200, triaged.text
            assert (
                await client.get(f"/api/v1/referrals/{referral_id}", headers=clinician)
            ).status_code == 200

            admin = await login(client, world.users["client_admin"])
            programme = await make_programme(client, admin, kind="skin")
            enrolment = await enrol(client, admin, programme["id"], **WORKER)
            result = await record(
                client, clinician, enrolment["id"], measurements={},
                clinical_notes="Contact dermatitis on both hands; mild tinnitus reported.",
            )  # fmt: skip
            read = await client.get(f"/api/v1/surveillance/results/{result['id']}", headers=clinician)
            assert read.status_code == 200, read.text
            assert "dermatitis" in read.text

            employee = await login(client, person)
            stream_id, device = await start_stream(client, employee, "ble-hr")
            for batch in simulated("ble-hr", stream_id, seconds=2, bpm=72):
                assert (await post(client, device, batch)).status_code == 201
            live = url.replace("http://", "ws://") + f"/ws/readings/{stream_id}"
            async with connect(live, additional_headers=employee) as ws:
                assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "snapshot"
            assert (await client.get("/no-such-page")).status_code == 404
        for _ in range(100):  # every queued message has been through the sender (which logs)
            if not await conn.fetchval("SELECT count(*) FROM outbox_message WHERE sent_at IS NULL"):
                break
            await asyncio.sleep(0.1)
        assert await conn.fetchval("SELECT count(*) FROM outbox_message WHERE sent_at IS NOT NULL") >= 1
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 20)

    lines = [line for line in log.read_text("utf-8").splitlines() if line.strip()]
    words = forbidden(world.users["manager"].email)
    leaks = [(word, line) for line in lines for word in words if word in line.lower()]
    print(f"log privacy: {len(lines)} log lines checked for {len(words)} personal and clinical terms")
    assert leaks == [], leaks[:5]
    addresses = [line for line in lines if CLIENT_ADDRESS.search(line)]
    assert addresses == [], addresses[:3]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [r for r in records if r.get("logger") == "ohconnect.access"]
    assert len(access) >= 20
    assert all(r.get("request_id") for r in access), "an access line without a request id"
    assert any(r.get("route") == "/api/v1/referrals/{referral_id}/transitions" for r in access)
    assert any(r["event"] == "WebSocket /ws/readings/{stream_id} accepted" for r in access)
    assert any(r.get("level") == "debug" for r in records), "the server did not log at DEBUG"
    assert any(r.get("logger") == "ohconnect.outbox" for r in records), "no message reached the sender"


def test_text_format_carries_the_request_id_and_json_is_one_object_per_line() -> None:
    token = request_id_var.set("req-abc123")
    try:
        record = logging.LogRecord("ohconnect.test", logging.INFO, __file__, 1, "stored %s", ("batch",), None)
        text = logs.formatter("text").format(record)
        line = logs.formatter("json").format(record)
    finally:
        request_id_var.reset(token)
    assert "stored batch" in text
    assert "request_id=req-abc123" in text
    assert json.loads(line)["request_id"] == "req-abc123"
    assert json.loads(line)["event"] == "stored batch"
    assert Settings(**PRODUCTION).log_format_used == "json"
    assert Settings(environment="development").log_format_used == "text"
    assert Settings(**PRODUCTION, log_format="text").log_format_used == "text"


def test_a_logged_traceback_carries_no_local_variables() -> None:
    def fail(full_name: str) -> None:
        raise RuntimeError("could not store the record")

    try:
        fail("Wilhelmina " + "Quarter" + "field")  # the name only ever exists as a local variable
    except RuntimeError:
        record = logging.LogRecord("ohconnect.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    for fmt in ("json", "text"):
        rendered = logs.formatter(fmt).format(record)
        assert "could not store the record" in rendered
        assert "Quarterfield" not in rendered, fmt
