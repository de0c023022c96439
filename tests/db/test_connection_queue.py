"""Requests waiting for a pooled connection are served first come, first served, and give up with
503 (not a hang) when none frees in time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import SimpleNamespace

import asyncpg
import pytest
from starlette.requests import Request

from backend.core.errors import Unavailable
from backend.db import deps
from backend.db.pool import _keep_session as keep_session


def _request(pool: asyncpg.Pool, gate: asyncio.Semaphore) -> Request:
    app = SimpleNamespace(state=SimpleNamespace(pool=pool, pool_gate=gate))
    return Request({"type": "http", "app": app, "headers": []})


def _connection(request: Request) -> AbstractAsyncContextManager[asyncpg.Connection]:
    return asynccontextmanager(deps.get_conn)(request)


@pytest.fixture
async def pool(db_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    # One connection, returned without a round trip, as the app's pool does.
    created = await asyncpg.create_pool(db_dsn, min_size=1, max_size=1, reset=keep_session)
    assert created is not None
    yield created
    await created.close()


@pytest.mark.parametrize("hops", range(6))
async def test_waiting_requests_are_served_in_arrival_order(pool: asyncpg.Pool, hops: int) -> None:
    """``hops`` turns of the event loop after the connection starts going back, a new request
    arrives: at some of these moments the connection is free and the queue has not moved yet."""
    request = _request(pool, asyncio.Semaphore(1))
    served: list[str] = []
    holding = asyncio.Event()
    release = asyncio.Event()

    async def use(name: str) -> None:
        async with _connection(request) as conn:
            served.append(name)
            await conn.fetchval("SELECT 1")
            if name == "first":
                holding.set()
                await release.wait()

    async def arrives_as_it_frees() -> None:
        await release.wait()  # woken right after the first request, as it hands the connection back
        for _ in range(hops):
            await asyncio.sleep(0)
        await use("late")

    first = asyncio.create_task(use("first"))
    await holding.wait()
    waiting = [asyncio.create_task(use(f"waiting {i}")) for i in range(5)]
    late = asyncio.create_task(arrives_as_it_frees())
    await asyncio.sleep(0.05)  # all five queue behind the first
    release.set()
    await asyncio.gather(first, *waiting, late)
    # The late request finds the connection free before the first in line has run, yet waits.
    assert served == ["first", *(f"waiting {i}" for i in range(5)), "late"]


async def test_no_connection_in_time_is_503(pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deps, "_WAIT_S", 0.2)
    request = _request(pool, asyncio.Semaphore(1))
    async with _connection(request):
        with pytest.raises(Unavailable):
            async with _connection(request):
                pass
    async with _connection(request) as conn:  # the gate and the pool are whole again
        assert await conn.fetchval("SELECT 2") == 2
