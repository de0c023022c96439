"""Request-scoped database connection: acquires and releases only, never commits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, cast

import asyncpg
from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from backend.core.errors import Unavailable
from backend.db.pubsub import Hub


async def get_conn(request: Request) -> AsyncIterator[asyncpg.Connection]:
    pool: asyncpg.Pool = request.app.state.pool
    try:
        conn = await pool.acquire(timeout=10)
    except (OSError, TimeoutError, asyncpg.PostgresConnectionError) as exc:
        raise Unavailable("The database is unavailable; please retry shortly.") from exc
    try:
        # A pooled connection proxies every Connection method; the stubs type it separately.
        yield cast(asyncpg.Connection, conn)
    finally:
        await pool.release(conn)


Conn = Annotated[asyncpg.Connection, Depends(get_conn)]


def get_hub(request: HTTPConnection) -> Hub:
    """This process's LISTEN/NOTIFY hub (live events across processes)."""
    hub: Hub = request.app.state.hub
    return hub


LiveHub = Annotated[Hub, Depends(get_hub)]
