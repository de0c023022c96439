"""asyncpg pool creation with codecs registered in init=, and the DSN resolution."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import asyncpg

from backend.core.config import Settings
from backend.db import scope
from backend.db.embedded import start_embedded

Pool = asyncpg.Pool
_SEPARATE_WAIT_S = 0.2  # wait for a free pooled connection before opening one of its own (``separate``)


class _Home:
    """The pool a connection belongs to (set once the pool exists), and how to connect like it."""

    pool: Pool | None = None
    dsn: str = ""
    server_settings: dict[str, str] | None = None


class PooledConnection(asyncpg.Connection):
    """A connection that knows its pool, so that a write which must outlive the caller's
    transaction (a refusal's audit row) can be made on another connection of the same pool."""

    __slots__ = ("home", "row_scope")
    home: _Home
    row_scope: scope.Scope


def resolve_dsn(settings: Settings) -> str:
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return start_embedded(settings.data_dir)


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def app_role_usable(dsn: str, role: str) -> bool:
    """True when the restricted application role exists and the DSN's user may assume it."""
    conn = await asyncpg.connect(dsn)
    try:
        usable = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)"
            " AND pg_has_role(current_user, $1, 'MEMBER')",
            role,
        )
        return bool(usable)
    finally:
        await conn.close()


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Returning a connection to the pool resets little more than asyncpg always does (roll back
    an open transaction, drop listeners). The only session state the application changes on a
    pooled connection is the row-level security scope (``backend.db.scope``), put back here when
    a request narrowed it. Its other settings come from ``server_settings`` at connect, advisory
    locks are transaction-scoped and LISTEN has its own connection (``pubsub.Hub``): asyncpg's
    default reset would cost a round trip per request for state that never exists."""
    await scope.restore(conn)


async def create_pool(dsn: str, *, min_size: int, max_size: int, role: str | None) -> Pool:
    server_settings: dict[str, str] = {
        "application_name": "ohconnect",
        "timezone": "UTC",
        scope.SETTING: scope.EVERY,
    }
    if role:
        server_settings["role"] = role
    kwargs: dict[str, Any] = {"server_settings": server_settings}
    home = _Home()
    home.dsn, home.server_settings = dsn, server_settings

    async def init(conn: asyncpg.Connection) -> None:
        cast(PooledConnection, conn).home = home
        cast(PooledConnection, conn).row_scope = scope.Scope()
        await _init_connection(conn)

    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init,
        reset=_keep_session,
        command_timeout=30,
        connection_class=PooledConnection,
        **kwargs,
    )
    if pool is None:
        raise RuntimeError("asyncpg returned no pool")
    home.pool = pool
    return pool


def pooled(conn: asyncpg.Connection) -> bool:
    """Whether ``conn`` comes from ``create_pool`` (and so has siblings ``separate`` can give)."""
    home = getattr(conn, "home", None)
    return isinstance(home, _Home) and home.pool is not None


@asynccontextmanager
async def separate(conn: asyncpg.Connection) -> AsyncIterator[asyncpg.Connection]:
    """Another connection like ``conn``'s, outside whatever transaction ``conn`` is in.

    A free connection of the same pool when one comes within ``_SEPARATE_WAIT_S``; otherwise a
    connection of its own, opened with the pool's settings and closed afterwards, so that requests
    holding every pooled connection while they record a refusal never wait for each other. A
    connection not from ``create_pool`` (a test's own, the migration runner's): ``ValueError``.
    """
    home = getattr(conn, "home", None)
    if not isinstance(home, _Home) or home.pool is None:
        raise ValueError("this connection does not come from an application pool")
    try:
        proxy = await home.pool.acquire(timeout=_SEPARATE_WAIT_S)
    except TimeoutError:
        own = await asyncpg.connect(home.dsn, server_settings=home.server_settings, timeout=10)
        try:
            yield own
        finally:
            await own.close()
        return
    try:
        yield cast(asyncpg.Connection, proxy)
    finally:
        await home.pool.release(proxy)
