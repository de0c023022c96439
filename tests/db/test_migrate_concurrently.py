"""Several databases of one cluster migrated at the same moment (as test workers, or several
installations sharing a server, do): the application role, which belongs to the whole cluster,
is created once and every database is migrated."""

from __future__ import annotations

import asyncio
import os

import asyncpg

from backend.db import migrate
from tests.pg import admin_dsn, with_database

DATABASES = 6


async def test_databases_migrated_at_once_share_a_new_application_role() -> None:
    admin = await asyncpg.connect(admin_dsn())
    role = f"ohc_race_role_{os.getpid()}"
    names = [f"ohc_race_{os.getpid()}_{i}" for i in range(DATABASES)]
    try:
        assert await admin.fetchval("SELECT count(*) FROM pg_roles WHERE rolname = $1", role) == 0
        for name in names:
            await admin.execute(f'CREATE DATABASE "{name}"')
        results = await asyncio.gather(
            *(migrate.migrate(with_database(admin_dsn(), name), app_role=role) for name in names),
            return_exceptions=True,
        )
        assert [r for r in results if isinstance(r, BaseException)] == []
        assert all(r == results[0] and r for r in results), results
        assert await admin.fetchval("SELECT count(*) FROM pg_roles WHERE rolname = $1", role) == 1
        for name in names:
            conn = await asyncpg.connect(with_database(admin_dsn(), name))
            try:
                assert await conn.fetchval("SELECT has_table_privilege($1, 'reading_batch', 'INSERT')", role)
            finally:
                await conn.close()
    finally:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        await admin.close()
