"""Refusals are audited however deeply the refused use-case was nested in another's transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import cast
from uuid import uuid4

import asyncpg
import httpx

from backend.audit import service as audit
from backend.audit.schemas import Actor, NoSubject
from backend.db import pool as db_pool
from tests.clinics.helpers import make_session
from tests.factories import login, make_world
from tests.reports.helpers import consent


async def _rows(conn: asyncpg.Connection, entity_id: str, request_id: str) -> list[tuple[str, str]]:
    rows = await conn.fetch(
        "SELECT action, outcome FROM audit_event WHERE entity_id = $1 AND request_id = $2 ORDER BY id",
        entity_id,
        request_id,
    )
    return [(r["action"], r["outcome"]) for r in rows]


async def test_a_report_consent_for_an_unknown_referral_is_audited(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    nurse = await login(client, world.users["clinician"])
    unknown = str(uuid4())
    refused = await client.put(
        f"/api/v1/referrals/{unknown}/report/consent",
        json=consent(world.users["manager"].email),
        headers={**nurse, "X-Request-ID": "nested-consent"},
    )
    assert refused.status_code == 404, refused.text
    # The referral lookup inside the report's transaction, and the report use-case itself.
    assert await _rows(conn, unknown, "nested-consent") == [
        ("referral.read", "not_found"),
        ("report.consent", "not_found"),
    ]


async def test_a_report_draft_read_of_another_tenants_referral_is_audited(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    outsider = await login(client, world.users["other_clinician"])
    unknown = str(uuid4())
    refused = await client.get(
        f"/api/v1/referrals/{unknown}/report/draft", headers={**outsider, "X-Request-ID": "nested-draft"}
    )
    assert refused.status_code == 404, refused.text
    assert await _rows(conn, unknown, "nested-draft") == [
        ("referral.read", "not_found"),
        ("report.draft.read", "not_found"),
    ]


async def test_booking_an_unknown_referral_is_audited(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    nurse = await login(client, world.users["clinician"])
    session = await make_session(client, nurse, start_in=timedelta(hours=2))
    unknown = str(uuid4())
    refused = await client.post(
        "/api/v1/booking/appointments",
        json={"referral_id": unknown, "slot_id": session["slots"][0]["id"]},
        headers={**nurse, "X-Request-ID": "nested-booking"},
    )
    assert refused.status_code == 404, refused.text
    # The referral lookup ran inside the booking's transaction, which the refusal rolled back.
    assert await _rows(conn, unknown, "nested-booking") == [("referral.read", "not_found")]


async def test_a_refusal_outlives_every_enclosing_transaction(db_dsn: str) -> None:
    """Three levels deep, all rolled back: the refusal's row is still there (one row, committed)."""
    pool = await db_pool.create_pool(db_dsn, min_size=1, max_size=2, role=None)
    actor = Actor(id=None, role="system", organisation_id=None)
    entity_id = str(uuid4())
    try:
        async with pool.acquire() as proxy:
            conn = cast(asyncpg.Connection, proxy)
            try:
                async with conn.transaction(), conn.transaction(), conn.transaction():
                    await audit.refused(
                        conn, actor, "test.nested", "referral", entity_id, outcome="denied", subject=NoSubject
                    )
                    raise LookupError("refused")
            except LookupError:
                pass
            found = await conn.fetch("SELECT outcome FROM audit_event WHERE entity_id = $1", entity_id)
        assert [r["outcome"] for r in found] == ["denied"]
    finally:
        await pool.close()
