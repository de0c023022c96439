"""Migrations: idempotent, safe to run concurrently, and the audit trail stays append-only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from backend.core.config import Settings
from backend.db import migrate
from tests.db.fresh import empty_database

APP_ROLE = Settings().db_app_role


@pytest.fixture
async def empty_dsn(pg_admin_dsn: str) -> AsyncIterator[str]:
    async with empty_database(pg_admin_dsn, "ohc_mig") as dsn:
        yield dsn


async def recorded(dsn: str) -> list[int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT version FROM schema_migration ORDER BY version")
        return [r["version"] for r in rows]
    finally:
        await conn.close()


async def test_applies_everything_once(empty_dsn: str) -> None:
    everything = [m.version for m in migrate.available()]
    assert await migrate.migrate(empty_dsn, app_role=APP_ROLE) == everything
    assert await migrate.migrate(empty_dsn, app_role=APP_ROLE) == []
    assert await recorded(empty_dsn) == everything


async def test_concurrent_runs_both_succeed(empty_dsn: str) -> None:
    first, second = await asyncio.gather(
        migrate.migrate(empty_dsn, app_role=APP_ROLE), migrate.migrate(empty_dsn, app_role=APP_ROLE)
    )
    everything = [m.version for m in migrate.available()]
    # The advisory lock serialises the runs: one applies everything, the other finds nothing to do.
    assert sorted([first, second]) == [[], everything]
    assert await recorded(empty_dsn) == everything


async def test_migration_files_are_numbered_once_and_without_gaps() -> None:
    # A repeated number would fail on apply; a gap filled later would run out of order on
    # databases that already have the later files.
    versions = [m.version for m in migrate.available()]
    assert len(set(versions)) == len(versions), f"a migration number is used twice: {versions}"
    assert versions == list(range(1, len(versions) + 1)), f"gap in migration numbers: {versions}"
    assert migrate.latest_version() == versions[-1]


async def insert_audit_row(conn: asyncpg.Connection) -> int:
    row_id: int = await conn.fetchval(
        "INSERT INTO audit_event (action, entity, outcome) VALUES ('test.write', 'test', 'ok') RETURNING id"
    )
    return row_id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET outcome = 'denied' WHERE id = $1",
        "DELETE FROM audit_event WHERE id = $1",
    ],
)
async def test_app_role_cannot_rewrite_the_audit_trail(db_dsn: str, statement: str) -> None:
    conn = await asyncpg.connect(db_dsn, server_settings={"role": APP_ROLE})
    try:
        assert await conn.fetchval("SELECT current_user") == APP_ROLE
        row_id = await insert_audit_row(conn)  # appending is what the application does
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(statement, row_id)
        assert await conn.fetchval("SELECT outcome FROM audit_event WHERE id = $1", row_id) == "ok"
    finally:
        await conn.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET outcome = 'denied' WHERE id = $1",
        "DELETE FROM audit_event WHERE id = $1",
        "TRUNCATE audit_event",
    ],
)
async def test_even_the_owner_cannot_rewrite_the_audit_trail(db_dsn: str, statement: str) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        row_id = await insert_audit_row(conn)
        args = [row_id] if "$1" in statement else []
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute(statement, *args)
        assert await conn.fetchval("SELECT count(*) FROM audit_event WHERE id = $1", row_id) == 1
    finally:
        await conn.close()


async def test_app_role_cannot_rewrite_referral_history(db_dsn: str) -> None:
    conn = await asyncpg.connect(db_dsn, server_settings={"role": APP_ROLE})
    try:
        for statement in ("UPDATE referral_event SET action = 'x'", "DELETE FROM referral_event"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
    finally:
        await conn.close()
