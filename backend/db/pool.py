"""asyncpg pool creation with codecs registered in init=, and the DSN resolution."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from backend.core.config import Settings
from backend.db.embedded import start_embedded

Pool = asyncpg.Pool


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
    """Returning a connection to the pool resets nothing more than asyncpg always does (roll back
    an open transaction, drop listeners). The application never changes session state on pooled
    connections: its settings come from ``server_settings`` at connect, advisory locks are
    transaction-scoped and LISTEN has its own connection (``pubsub.Hub``). asyncpg's default
    reset would cost a round trip per request for state that never exists."""


async def create_pool(dsn: str, *, min_size: int, max_size: int, role: str | None) -> Pool:
    server_settings: dict[str, str] = {"application_name": "ohconnect", "timezone": "UTC"}
    if role:
        server_settings["role"] = role
    kwargs: dict[str, Any] = {"server_settings": server_settings}
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        command_timeout=30,
        **kwargs,
    )
    if pool is None:
        raise RuntimeError("asyncpg returned no pool")
    return pool
