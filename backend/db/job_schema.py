"""The job queue's tables (procrastinate's schema), applied by ``migrate`` under its advisory lock.

A new database gets procrastinate's whole schema and every migration file it ships is recorded
as applied. On an existing database, the files of a newer procrastinate that are not recorded yet
are applied in name order (procrastinate names them by version), each in its own transaction.
Upgrading across a procrastinate version that ships "post" migrations: stop every worker and app
process of the old version first (deploy/README.md, "Upgrades").
"""

from __future__ import annotations

import logging
from importlib import resources
from importlib.resources.abc import Traversable

import asyncpg

logger = logging.getLogger(__name__)

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS job_queue_migration (
    name text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
HAS_QUEUE = "SELECT to_regclass('procrastinate_jobs') IS NOT NULL"
RECORDED = "SELECT name FROM job_queue_migration"
RECORD = "INSERT INTO job_queue_migration (name) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING"
# The application role only reads the queue (``/metrics`` counts jobs by status); the workers
# use the connecting (owner) role.
GRANT = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ':app_role') THEN
        EXECUTE 'GRANT SELECT ON procrastinate_jobs TO :app_role';
    END IF;
END
$$
"""


def _sql_folder() -> Traversable:
    return resources.files("procrastinate.sql")


def schema_sql() -> str:
    return (_sql_folder() / "schema.sql").read_text("utf-8")


def shipped_migrations() -> dict[str, str]:
    """procrastinate's migration files by name (``03.04.00_01_pre_....sql``), in version order."""
    folder = _sql_folder() / "migrations"
    files = sorted(e.name for e in folder.iterdir() if e.name.endswith(".sql"))
    return {name: (folder / name).read_text("utf-8") for name in files}


async def apply(conn: asyncpg.Connection, *, app_role: str) -> list[str]:
    """Bring the job queue's schema up to the installed procrastinate; returns what was applied.
    The caller holds the migration lock."""
    await conn.execute(CREATE_TABLE)
    shipped = shipped_migrations()
    if not await conn.fetchval(HAS_QUEUE):
        async with conn.transaction():
            await conn.execute(schema_sql())
            await conn.execute(GRANT.replace(":app_role", app_role))
            await conn.execute(RECORD, list(shipped))
        logger.info("applied the job queue schema")
        return ["schema"]
    done = {r["name"] for r in await conn.fetch(RECORDED)}
    if not done:  # made outside ``migrate`` (procrastinate's own command): take it as current
        await conn.execute(RECORD, list(shipped))
        return []
    applied = []
    for name, sql in shipped.items():
        if name in done:
            continue
        async with conn.transaction():
            await conn.execute(sql)
            await conn.execute(RECORD, [name])
        logger.info("applied job queue migration %s", name)
        applied.append(name)
    return applied
