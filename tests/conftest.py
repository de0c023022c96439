"""Real PostgreSQL, a real HTTP server per test, and a fresh database per test.

The schema is migrated once into a template database; each test gets its own copy
(CREATE DATABASE ... TEMPLATE), so tests are isolated and run in any order, and the app under
test commits for real. KEEP_DB=1 keeps each test's database for debugging.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher

from backend.auth import passwords
from backend.core.config import Settings
from backend.db import migrate
from backend.main import create_app
from tests.pg import admin_dsn, with_database

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main").replace("_", "")

# Real argon2id, with a cheaper cost profile than production so that a test world of users is quick.
passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
_COUNTER = itertools.count()


@pytest.fixture(scope="session")
def pg_admin_dsn() -> str:
    return admin_dsn()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _drop_stale(admin: asyncpg.Connection) -> None:
    """Drop databases left by earlier test runs whose process is gone (names carry the pid)."""
    for row in await admin.fetch("SELECT datname FROM pg_database WHERE datname ~ '^ohc_(t|tmpl)_'"):
        pid = row["datname"].split("_")[3]
        if pid.isdigit() and not _pid_alive(int(pid)):
            await admin.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def template_db(pg_admin_dsn: str) -> AsyncIterator[str]:
    name = f"ohc_tmpl_{_WORKER}_{os.getpid()}"
    admin = await asyncpg.connect(pg_admin_dsn)
    try:
        await _drop_stale(admin)
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    await migrate.migrate(with_database(pg_admin_dsn, name), app_role=Settings().db_app_role)
    yield name
    admin = await asyncpg.connect(pg_admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def db_dsn(pg_admin_dsn: str, template_db: str) -> AsyncIterator[str]:
    name = f"ohc_t_{_WORKER}_{os.getpid()}_{next(_COUNTER)}"
    admin = await asyncpg.connect(pg_admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    finally:
        await admin.close()
    yield with_database(pg_admin_dsn, name)
    if os.environ.get("KEEP_DB"):
        return
    admin = await asyncpg.connect(pg_admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def conn(db_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection (as the database owner) for seeding and for checking what was stored."""
    connection = await asyncpg.connect(db_dsn)
    await connection.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    yield connection
    await connection.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    settings: Settings


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {}


@asynccontextmanager
async def running_app(db_dsn: str, **overrides: object) -> AsyncIterator[Server]:
    """The app served by uvicorn in this process on a free port, against ``db_dsn``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=db_dsn,
        environment="test",
        public_url=url,
        db_pool_min=1,
        db_pool_max=4,
        **overrides,  # type: ignore[arg-type]
    )
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_config=None, log_level="warning", lifespan="on"
    )
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    for _ in range(500):
        if uv.started or task.done():
            break
        await asyncio.sleep(0.01)
    if task.done():
        task.result()
    assert uv.started, "server did not start"
    try:
        yield Server(url, settings)
    finally:
        uv.should_exit = True
        await task


@pytest.fixture
async def server(db_dsn: str, settings_overrides: dict[str, object]) -> AsyncIterator[Server]:
    async with running_app(db_dsn, **settings_overrides) as running:
        yield running


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    # Idle connections are dropped before uvicorn's 5 s keep-alive ends: a request sent on a
    # connection the server is closing at that moment fails with a read error.
    limits = httpx.Limits(keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as http:
        yield http
