"""Retention: each class loses exactly what is past its period (one second either side of each
cutoff), a dry run changes nothing, whole months of raw readings go with their partitions, and each
pass leaves one audit row naming its counts. Runs as the application role, as the job will."""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from backend import cli
from backend.core.config import Settings
from backend.db import scope
from backend.lifecycle import policy
from backend.lifecycle.retention import run_retention
from tests.factories import World, login, make_referral, make_world
from tests.lifecycle.helpers import one

NOW = datetime(2027, 6, 15, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def cut(record_class: str) -> datetime:
    return policy.cutoff(record_class, NOW)


def digest() -> bytes:
    return hashlib.sha256(os.urandom(16)).digest()


async def app_connection(db_dsn: str) -> asyncpg.Connection:
    # As the app's pool connects: the application role, acting for every organisation.
    settings = {"role": Settings().db_app_role, scope.SETTING: scope.EVERY}
    return await asyncpg.connect(db_dsn, server_settings=settings)


async def _sessions(conn: asyncpg.Connection, world: World) -> None:
    edge = cut("auth_session")
    user = world.users["employee"].id
    rows = [  # (expires_at, revoked_at): the first two are past their period
        (edge - SECOND, None),
        (NOW + timedelta(days=1), edge - SECOND),
        (edge, None),
        (NOW + timedelta(days=1), edge + SECOND),
        (NOW + timedelta(days=1), None),
    ]
    for expires, revoked in rows:
        await conn.execute(
            "INSERT INTO auth_session (user_id, token_hash, csrf_hash, via, created_at, expires_at,"
            " revoked_at) VALUES ($1, $2, $3, 'password', $4, $5, $6)",
            user, digest(), digest(), expires - timedelta(days=2), expires, revoked,
        )  # fmt: skip


async def _tokens(conn: asyncpg.Connection, world: World) -> None:
    user = world.users["employee"].id
    edge = cut("account_token")
    for expires, used in [(edge - SECOND, None), (NOW, edge - SECOND), (edge + SECOND, None), (NOW, edge)]:
        await conn.execute(
            "INSERT INTO account_token (token_hash, purpose, user_id, created_at, expires_at, used_at)"
            " VALUES ($1, 'sign_in', $2, $3, $4, $5)",
            digest(), user, expires - timedelta(days=1), expires, used,
        )  # fmt: skip


async def _attempts_and_messages(conn: asyncpg.Connection) -> None:
    edge = cut("sign_in_attempt")
    for at in (edge - SECOND, edge, edge + SECOND):
        await conn.execute(
            "INSERT INTO login_attempt (email, succeeded, at) VALUES ('a@b.example', false, $1)", at
        )
        await conn.execute(
            "INSERT INTO account_token_attempt (kind, email, at) VALUES ('request', 'a@b.example', $1)", at
        )
    edge = cut("outbox_message")
    rows = [  # (status, sent_at, failed_at, created_at): the first two are past their period
        ("sent", edge - SECOND, None, edge - timedelta(days=1)),
        ("failed", None, edge - SECOND, edge - timedelta(days=1)),
        ("sent", edge, None, edge - timedelta(days=1)),
        ("failed", None, edge + SECOND, edge - timedelta(days=1)),
        ("pending", None, None, edge - timedelta(days=400)),  # not delivered yet: never deleted
    ]
    for status, sent, failed, created in rows:
        await conn.execute(  # the pending one waits for a retry far ahead, so the server leaves it alone
            "INSERT INTO outbox_message (recipient, subject, body, status, sent_at, failed_at, created_at,"
            " next_attempt_at) VALUES ('a@b.example', 'Hello', 'Body', $1, $2, $3, $4, '2099-01-01Z')",
            status, sent, failed, created,
        )  # fmt: skip


async def _drafts(client: httpx.AsyncClient, conn: asyncpg.Connection, world: World) -> dict[str, str]:
    manager = await login(client, world.users["manager"])
    edge = cut("draft_referral")
    ids = {}
    for name, updated, submit in (
        ("old", edge - SECOND, False),
        ("edge", edge, False),
        ("sent", edge - SECOND, True),
    ):
        referral = await make_referral(client, manager, submit=submit)
        upload = await client.post(
            f"/api/v1/referrals/{referral['id']}/attachments", headers=manager,
            files={"file": ("fit-note.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
            data={"kind": "fit_note"},
        ) if not submit else None  # fmt: skip
        assert upload is None or upload.status_code == 201
        await conn.execute(
            "UPDATE referral SET updated_at = $2 WHERE id = $1", uuid.UUID(referral["id"]), updated
        )
        ids[name] = referral["id"]
    return ids


async def _readings(conn: asyncpg.Connection, world: World) -> uuid.UUID:
    """Batches 0-2 in April 2026 (a month wholly before the cutoff), 3 just before the cutoff in June,
    4 exactly at it, and 5 received before the cutoff with its reading after it."""
    edge = cut("reading_raw")
    assert edge == datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
    employee = world.users["employee"].id
    consent = await conn.fetchval(
        "INSERT INTO reading_consent (employee_id, statement_version, statement_sha256) VALUES ($1, 'v1', $2)"
        " RETURNING id", employee, digest(),
    )  # fmt: skip
    stream = uuid.uuid4()
    await conn.execute(
        "INSERT INTO reading_stream (id, employee_id, employer_id, provider_id, consent_id, device_kind,"
        " device_model) VALUES ($1, $2, $3, $4, $5, 'ble-hr', 'Test strap')",
        stream, employee, world.employer.id, world.provider.id, consent,
    )  # fmt: skip
    april = datetime(2026, 4, 10, tzinfo=UTC)
    batches = [(0, april, april), (1, april, april), (2, april, april)]
    batches += [(3, edge - SECOND, edge - SECOND), (4, edge, edge), (5, edge - SECOND, edge + SECOND)]
    for seq, received, taken in batches:
        await conn.execute("SELECT reading_partition_ensure($1)", taken)
        await conn.execute(
            "INSERT INTO reading_batch (stream_id, seq, body_sha256, payload_kind, device, sent_at,"
            " received_at, clock_skew_s, first_offset_s, last_offset_s, payload, receipt)"
            " VALUES ($1, $2, $3, 'values', '{}'::jsonb, $4, $4, 0, 0, 0, '{}'::jsonb, '{}'::jsonb)",
            stream, seq, digest(), received,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO reading (stream_id, seq, taken_at, offset_s, source, heart_rate_bpm)"
            " VALUES ($1, $2, $3, 0, 'value', 70)",
            stream, seq, taken,
        )  # fmt: skip
    return stream


async def _state(conn: asyncpg.Connection) -> dict[str, Any]:
    return {
        "sessions": await conn.fetchval("SELECT count(*) FROM auth_session WHERE user_id IS NOT NULL"),
        "tokens": await conn.fetchval("SELECT count(*) FROM account_token"),
        "attempts": await conn.fetchval("SELECT count(*) FROM login_attempt"),
        "token_attempts": await conn.fetchval("SELECT count(*) FROM account_token_attempt"),
        "messages": await conn.fetchval(
            "SELECT count(*) FROM outbox_message WHERE recipient = 'a@b.example'"
        ),
        "drafts": await conn.fetchval(
            "SELECT count(*) FROM referral WHERE status = 'DRAFT' AND deleted_at IS NULL"
        ),
        "readings": sorted(r["seq"] for r in await conn.fetch("SELECT seq FROM reading")),
        "batches": sorted(r["seq"] for r in await conn.fetch("SELECT seq FROM reading_batch")),
        "april": await conn.fetchval("SELECT to_regclass('public.reading_y2026m04') IS NOT NULL"),
    }


@pytest.fixture
async def seeded(client: httpx.AsyncClient, conn: asyncpg.Connection) -> dict[str, Any]:
    world = await make_world(conn)
    drafts = await _drafts(client, conn, world)
    # What signing in and submitting left behind (sessions, attempts, the employee's message and
    # link) is not part of the data under test.
    for table in ("auth_session", "login_attempt", "outbox_message", "entry_link"):
        await conn.execute(f"DELETE FROM {table}")  # noqa: S608  (table names from this list)
    await _sessions(conn, world)
    await _tokens(conn, world)
    await _attempts_and_messages(conn)
    stream = await _readings(conn, world)
    return {"world": world, "drafts": drafts, "stream": stream}


EXPECTED = {
    "auth_session": 2,
    "account_token": 2,
    "sign_in_attempt": 2,
    "entry_link": 0,
    "outbox_message": 2,
    "clinic_signal": 0,
    "draft_referral": 1,
    "reading_partition": 1,
    "reading_raw": 1,
    "reading_batch": 4,
    "oh_clinical_record": 0,
    "night_worker_record": 0,
    "statutory_health_record": 0,
}


async def test_dry_run_counts_what_is_due_and_changes_nothing(
    seeded: dict[str, Any], conn: asyncpg.Connection, db_dsn: str
) -> None:
    before = await _state(conn)
    app = await app_connection(db_dsn)
    try:
        report = await run_retention(app, now=NOW, dry_run=True)
    finally:
        await app.close()
    assert {c.record_class: c.affected for c in report.classes} == EXPECTED
    assert await _state(conn) == before
    passes = await conn.fetch("SELECT * FROM retention_pass WHERE run_id = $1", report.run_id)
    assert len(passes) == len(policy.CLASSES)
    assert all(p["dry_run"] for p in passes)


async def test_retention_deletes_exactly_what_is_past_its_period(
    seeded: dict[str, Any], conn: asyncpg.Connection, db_dsn: str
) -> None:
    app = await app_connection(db_dsn)
    try:
        report = await run_retention(app, now=NOW, batch_size=2)  # several batches per class
    finally:
        await app.close()
    counts = {c.record_class: c.affected for c in report.classes}
    # Batches 0-2 lose their readings with the April partition; the pass over batches counts all four.
    assert counts == {**EXPECTED, "reading_raw": 1, "reading_batch": 4}
    state = await _state(conn)
    assert state["sessions"] == 3
    assert state["tokens"] == 2
    assert state["attempts"] == 2
    assert state["token_attempts"] == 2
    assert state["messages"] == 3
    assert state["readings"] == [4, 5]
    assert state["batches"] == [4, 5]
    assert state["april"] is False
    drafts = seeded["drafts"]
    old = await one(conn, "SELECT * FROM referral WHERE id = $1", uuid.UUID(drafts["old"]))
    assert old["deleted_at"] is not None
    assert old["form"] == {}
    assert old["employee_email"] == ""
    assert (
        await conn.fetchval("SELECT count(*) FROM referral_attachment WHERE referral_id = $1", old["id"]) == 0
    )
    event = await one(conn, "SELECT * FROM referral_event WHERE referral_id = $1 ORDER BY id DESC", old["id"])
    assert (event["action"], event["actor_role"]) == ("retention_erase", "system")
    for kept in ("edge", "sent"):
        row = await one(conn, "SELECT * FROM referral WHERE id = $1", uuid.UUID(drafts[kept]))
        assert row["deleted_at"] is None
        assert row["form"] != {}
    # The stream's summary stays with the clinical record.
    assert await conn.fetchval("SELECT count(*) FROM reading_stream WHERE id = $1", seeded["stream"]) == 1


async def test_each_pass_is_audited_once_with_its_counts_and_no_person(
    seeded: dict[str, Any], conn: asyncpg.Connection
) -> None:
    report = await run_retention(conn, now=NOW)
    rows = await conn.fetch(
        "SELECT a.action, a.actor_role, a.subject_user_id, a.subject_email, p.record_class, p.affected"
        " FROM audit_event a JOIN retention_pass p ON p.id::text = a.entity_id"
        " WHERE a.entity = 'retention_pass'"
    )
    assert len(rows) == len(policy.CLASSES)
    assert {r["record_class"]: r["affected"] for r in rows} == {
        c.record_class: c.affected for c in report.classes
    }
    assert all(
        r["actor_role"] == "system" and r["subject_user_id"] is None and r["subject_email"] is None
        for r in rows
    )
    assert {r["action"] for r in rows} == {f"retention.{c.action}" for c in policy.CLASSES}
    # A second run finds nothing more to do.
    again = await run_retention(conn, now=NOW)
    assert all(c.affected == 0 for c in again.classes if c.action != "review")


async def test_clinical_records_past_their_period_are_counted_for_review_not_destroyed(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    await make_referral(client, manager)
    recent = (await make_referral(client, manager))["id"]
    real_now = datetime.now(UTC)
    later = real_now + policy.years(policy.CLINICAL_YEARS) + timedelta(days=1)  # cutoff: tomorrow
    # A history entry the day after tomorrow: that referral's last entry is after the cutoff.
    await conn.execute(
        "INSERT INTO referral_event (referral_id, actor_role, action, to_status, at)"
        " VALUES ($1, 'manager', 'edit', 'SUBMITTED', $2)", uuid.UUID(recent), real_now + timedelta(days=2),
    )  # fmt: skip
    counts = {c.record_class: c.affected for c in (await run_retention(conn, now=later)).classes}
    assert counts["oh_clinical_record"] == 1
    counts = {c.record_class: c.affected for c in (await run_retention(conn, now=real_now)).classes}
    assert counts["oh_clinical_record"] == 0
    assert (
        await conn.fetchval("SELECT count(*) FROM referral WHERE deleted_at IS NULL AND status <> 'DRAFT'")
        == 2
    )


def test_the_cli_prints_one_line_per_class(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db_dsn: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_dsn)
    assert cli.main(["retention", "--dry-run"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == [c.name for c in policy.CLASSES]
    assert all("dry run" in line for line in lines)
