"""Shared by the lifecycle tests."""

from __future__ import annotations

import asyncpg


async def one(conn: asyncpg.Connection, sql: str, *args: object) -> asyncpg.Record:
    """The one row a statement must find."""
    row = await conn.fetchrow(sql, *args)
    assert row is not None, sql
    return row
