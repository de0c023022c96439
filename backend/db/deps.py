"""Request-scoped database connection: acquires and releases only, never commits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, cast

import asyncpg
from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from backend.core.errors import Unavailable
from backend.db.pubsub import Hub

_RETRY = "The database is unavailable; please retry shortly."
_WAIT_S = 10.0  # longest wait for a connection before answering 503
_LOST = (asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError, OSError, TimeoutError)


@asynccontextmanager
async def connection(request: Request) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection for one request; every way of losing the database answers 503.

    Failing to get a connection (server down, refusing connections, too many), and the
    connection being lost or the server shutting down mid-request, all become ``Unavailable``
    so that clients know to retry. ``Conn`` gives it to an endpoint as a dependency; code that
    answers before the router (``backend.readings.fastpath``) opens it itself.
    """
    pool: asyncpg.Pool = request.app.state.pool
    async with _turn(request.app.state.pool_gate):
        try:
            proxy = await pool.acquire(timeout=_WAIT_S)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise Unavailable(_RETRY) from exc
        # A pooled connection proxies every Connection method; the stubs type it separately.
        conn = cast(asyncpg.Connection, proxy)
        try:
            yield conn
        except _LOST as exc:
            raise Unavailable(_RETRY) from exc
        except (asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError) as exc:
            # asyncpg reports a connection the server has just terminated as an interface or
            # internal state error (the pool may have detached it already): then it is an outage.
            if _gone(conn):
                raise Unavailable(_RETRY) from exc
            raise
        finally:
            await pool.release(proxy)


async def get_conn(request: Request) -> AsyncIterator[asyncpg.Connection]:
    """``connection`` as a dependency."""
    async with connection(request) as conn:
        yield conn


@asynccontextmanager
async def _turn(gate: asyncio.Semaphore) -> AsyncIterator[None]:
    """Wait for a connection first come, first served (asyncpg's own queue lets a request that
    has just arrived take a freed connection ahead of those waiting); 503 after ``_WAIT_S``."""
    if gate.locked():
        try:
            await asyncio.wait_for(gate.acquire(), _WAIT_S)
        except TimeoutError as exc:
            raise Unavailable(_RETRY) from exc
    else:
        await gate.acquire()  # returns at once
    try:
        yield
    finally:
        gate.release()


def _gone(conn: asyncpg.Connection) -> bool:
    try:
        return conn.is_closed()
    except asyncpg.InterfaceError:  # released by the pool when the server closed it
        return True


Conn = Annotated[asyncpg.Connection, Depends(get_conn)]


def get_hub(request: HTTPConnection) -> Hub:
    """This process's LISTEN/NOTIFY hub (live events across processes)."""
    hub: Hub = request.app.state.hub
    return hub


LiveHub = Annotated[Hub, Depends(get_hub)]
