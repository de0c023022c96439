"""Group commit (``backend.db.grouped``) on a real PostgreSQL: writes that wait at the same time
share one statement, a group never holds one key twice, one bad write fails only itself, a write
inside a transaction commits with that transaction alone, and a write given up while waiting is
never made."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import cast

import asyncpg
import pytest

from backend.db.grouped import WriteGroups

Item = tuple[int, int]  # (key, value); a negative value breaks the table's check

WRITE = """
WITH written AS (
    INSERT INTO grouped_probe (key, value) SELECT * FROM unnest($1::int[], $2::int[]) RETURNING key, value
), slow AS (SELECT pg_sleep($3))
SELECT coalesce(array_agg(value ORDER BY key), '{}') FROM written, slow
"""


class Probe:
    """A write function over a real table that records the groups it was given."""

    def __init__(self, seconds: float = 0.05) -> None:
        self.seconds = seconds
        self.groups: list[list[Item]] = []

    async def write(self, conn: asyncpg.Connection, items: Sequence[Item]) -> list[int]:
        self.groups.append(list(items))
        values = await conn.fetchval(WRITE, [k for k, _ in items], [v for _, v in items], self.seconds)
        by_key = dict(zip(sorted(k for k, _ in items), values, strict=True))
        return [by_key[k] for k, _ in items]


@pytest.fixture
async def pool(db_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(db_dsn, min_size=2, max_size=12) as created:
        await created.execute(
            "CREATE TABLE grouped_probe (key int NOT NULL, value int NOT NULL CHECK (value >= 0))"
        )
        yield created


async def _write(pool: asyncpg.Pool, groups: WriteGroups[Item, int], item: Item) -> int:
    async with pool.acquire() as conn:
        return await groups.write(cast(asyncpg.Connection, conn), item)


async def _stored(pool: asyncpg.Pool) -> list[Item]:
    return [
        (r["key"], r["value"]) for r in await pool.fetch("SELECT key, value FROM grouped_probe ORDER BY key")
    ]


async def test_writes_waiting_together_share_one_statement(pool: asyncpg.Pool) -> None:
    probe = Probe()
    groups: WriteGroups[Item, int] = WriteGroups(probe.write, key=lambda item: item[0])
    results = await asyncio.gather(*(_write(pool, groups, (k, 10 * k)) for k in range(10)))
    assert results == [10 * k for k in range(10)]  # each write answered its own result
    assert await _stored(pool) == [(k, 10 * k) for k in range(10)]  # each made once
    assert sum(len(g) for g in probe.groups) == 10
    assert len(probe.groups) <= 3, probe.groups  # one alone, then the rest as they queued
    assert max(len(g) for g in probe.groups) >= 5
    assert (groups.statements, groups.items) == (len(probe.groups), 10)


async def test_a_group_holds_each_key_once(pool: asyncpg.Pool) -> None:
    probe = Probe()
    groups: WriteGroups[Item, int] = WriteGroups(probe.write, key=lambda item: item[0])
    items = [(1, 1), (1, 2), (1, 3), (2, 4), (2, 5), (3, 6)]
    assert await asyncio.gather(*(_write(pool, groups, item) for item in items)) == [1, 2, 3, 4, 5, 6]
    for group in probe.groups:
        keys = [k for k, _ in group]
        assert len(keys) == len(set(keys)), probe.groups
    assert sorted(await _stored(pool)) == items


async def test_a_bad_write_fails_only_its_own_request(pool: asyncpg.Pool) -> None:
    probe = Probe()
    groups: WriteGroups[Item, int] = WriteGroups(probe.write, key=lambda item: item[0])
    items = [(k, -1 if k == 5 else k) for k in range(8)]
    results = await asyncio.gather(*(_write(pool, groups, item) for item in items), return_exceptions=True)
    assert isinstance(results[5], asyncpg.CheckViolationError)
    assert [r for i, r in enumerate(results) if i != 5] == [k for k in range(8) if k != 5]
    assert await _stored(pool) == [(k, k) for k in range(8) if k != 5]
    failed = [g for g in probe.groups if (5, -1) in g]
    assert len(failed[0]) > 1, probe.groups  # it failed in a group, whose others were made again alone
    assert failed[-1] == [(5, -1)]


async def test_a_write_in_a_transaction_is_made_alone_and_commits_with_it(pool: asyncpg.Pool) -> None:
    probe = Probe(seconds=0.0)
    groups: WriteGroups[Item, int] = WriteGroups(probe.write, key=lambda item: item[0])
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        outside = asyncio.create_task(_write(pool, groups, (2, 2)))
        assert await groups.write(cast(asyncpg.Connection, conn), (1, 1)) == 1
        assert await outside == 2
        await transaction.rollback()
    assert [(1, 1)] in probe.groups  # not grouped with the other write
    assert await _stored(pool) == [(2, 2)]


async def test_a_write_given_up_while_waiting_is_never_made(pool: asyncpg.Pool) -> None:
    probe = Probe(seconds=0.3)
    groups: WriteGroups[Item, int] = WriteGroups(probe.write, key=lambda item: item[0])
    first = asyncio.create_task(_write(pool, groups, (1, 1)))
    await asyncio.sleep(0.1)  # the first statement is running
    waiting = asyncio.create_task(_write(pool, groups, (2, 2)))
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await first == 1
    assert await _write(pool, groups, (3, 3)) == 3
    assert await _stored(pool) == [(1, 1), (3, 3)]
    assert probe.groups == [[(1, 1)], [(3, 3)]]
