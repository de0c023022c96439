"""deploy/restore-drill.sh, run for real: a pg_dump of a working database restores into a scratch
database, its row counts are checked against the archive, and the scratch database is dropped."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg

from backend.auth import service as auth_service
from tests.pg import client_programs

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "restore-drill.sh"


def libpq_env(dsn: str) -> dict[str, str]:
    parts = urlsplit(dsn)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    host = parts.hostname or parse_qs(parts.query).get("host", ["127.0.0.1"])[0]  # or a socket folder
    env.update(PGHOST=host, PGPORT=str(parts.port or 5432), PGDATABASE="postgres")
    env["PGUSER"] = parts.username or "postgres"
    if parts.password:
        env["PGPASSWORD"] = parts.password
    programs = client_programs()
    if programs is not None:  # the embedded server: its own pg_dump, pg_restore and psql first
        env["PATH"] = f"{programs}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(*command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    executable = shutil.which(command[0], path=env.get("PATH"))
    assert executable, f"{command[0]} is not installed"
    return subprocess.run(  # noqa: S603  (fixed commands from this file)
        [executable, *command[1:]], env=env, capture_output=True, text=True, timeout=120, check=False
    )


async def drill(backup: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(run, "bash", str(SCRIPT), str(backup), env=env)


async def pg_dump(dsn: str, env: dict[str, str], backup: Path) -> None:
    database = urlsplit(dsn).path.lstrip("/")
    done = await asyncio.to_thread(run, "pg_dump", "--format=custom", f"--file={backup}", database, env=env)
    assert done.returncode == 0, done.stderr


async def scratch_databases(pg_admin_dsn: str) -> list[str]:
    admin = await asyncpg.connect(pg_admin_dsn)
    try:
        rows = await admin.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'ohc_restore_drill_%'")
    finally:
        await admin.close()
    return [row["datname"] for row in rows]


async def test_a_backup_restores_into_a_scratch_database_and_checks_out(
    db_dsn: str, conn: asyncpg.Connection, pg_admin_dsn: str, tmp_path: Path
) -> None:
    provider = await auth_service.create_organisation(conn, name="Drill OH Ltd", kind="provider")
    for n in range(3):
        await auth_service.create_organisation(
            conn, name=f"Drill Employer {n}", kind="employer", provider_id=provider.id
        )
    organisations = await conn.fetchval("SELECT count(*) FROM organisation")
    version = await conn.fetchval("SELECT max(version) FROM schema_migration")
    env = libpq_env(db_dsn)
    backup = tmp_path / "ohconnect.dump"
    await pg_dump(db_dsn, env, backup)
    before = set(await scratch_databases(pg_admin_dsn))

    started = time.perf_counter()
    done = await drill(backup, {**env, "DRILL_EXPECT_VERSION": str(version)})
    seconds = time.perf_counter() - started

    print(f"\nrestore drill ({backup.stat().st_size} bytes): {seconds:.1f} s\n{done.stdout}")
    assert done.returncode == 0, done.stderr
    assert "row counts match the archive" in done.stdout
    assert f"schema version {version}" in done.stdout
    assert organisations == 4
    assert set(await scratch_databases(pg_admin_dsn)) == before, "the scratch database is dropped"


async def test_a_damaged_backup_fails_the_drill(db_dsn: str, pg_admin_dsn: str, tmp_path: Path) -> None:
    env = libpq_env(db_dsn)
    backup = tmp_path / "ohconnect.dump"
    await pg_dump(db_dsn, env, backup)
    data = backup.read_bytes()
    backup.write_bytes(data[: len(data) // 2])
    before = set(await scratch_databases(pg_admin_dsn))

    done = await drill(backup, env)

    assert done.returncode != 0
    assert "FAILED" in done.stderr
    assert set(await scratch_databases(pg_admin_dsn)) == before


async def test_a_wrong_schema_version_fails_the_drill(db_dsn: str, tmp_path: Path) -> None:
    env = libpq_env(db_dsn)
    backup = tmp_path / "ohconnect.dump"
    await pg_dump(db_dsn, env, backup)

    done = await drill(backup, {**env, "DRILL_EXPECT_VERSION": "9999"})

    assert done.returncode != 0
    assert "expected 9999" in done.stderr
