"""Group commit: writes of one kind that wait at the same time are made in one statement.

Each request keeps its own pooled connection. One group statement runs at a time (two at once
stored fewer batches a second: ``tests/bench/RESULTS.md``, 2026-12-03). A request whose write
finds none running writes everything waiting (its own write and those queued behind it) in
one statement on its own connection, so one round trip and one commit (one WAL flush) serve
the whole group; requests whose writes were taken by another wait for that statement's answer.
With nothing else waiting, a write is made at once, alone: grouping adds no wait to a quiet
server, and under load the groups grow by themselves while the previous statement runs.

A group holds at most one write per key (two changes of one row in one statement would see the
same snapshot); a later write of a key waits for the next group. A write is made alone, on its
own connection, when:

* its connection is inside a transaction (the group would commit with that transaction, after
  the others had been told their writes were stored);
* the group statement failed: every write of the group is tried again alone, so that one bad
  write, or a lost connection, fails only its own request.

The group statement must be all or nothing (one statement is) and must answer each write on its
own (``write`` returns one result per item, in order).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import asyncpg

T = TypeVar("T")
R = TypeVar("R")

Write = Callable[[asyncpg.Connection, Sequence[T]], Awaitable[Sequence[R]]]


class _Alone:
    """The outcome of a write whose group failed: make it again, alone."""


_ALONE = _Alone()


@dataclass(slots=True)
class _Waiting(Generic[T, R]):
    item: T
    key: Hashable
    outcome: asyncio.Future[R | _Alone]


class WriteGroups(Generic[T, R]):
    """Make concurrent writes in groups (see the module docstring); one per process and kind."""

    def __init__(self, write: Write[T, R], key: Callable[[T], Hashable], *, max_items: int = 32) -> None:
        if max_items < 1:
            raise ValueError("max_items must be at least 1")
        self._write = write
        self._key = key
        self._max_items = max_items
        self._queue: list[_Waiting[T, R]] = []
        self._running = False  # a group statement is running (one at a time)
        self._freed: asyncio.Future[None] | None = None  # set when a running statement ends
        self.statements = 0  # statements that succeeded, groups and writes made alone
        self.items = 0  # the writes they made

    async def write(self, conn: asyncpg.Connection, item: T) -> R:
        """Write ``item``, with whatever else is waiting, and answer its own result."""
        if conn.is_in_transaction():
            return await self._alone(conn, item)
        waiting: _Waiting[T, R] = _Waiting(item, self._key(item), asyncio.get_running_loop().create_future())
        self._queue.append(waiting)
        try:
            while not waiting.outcome.done():
                if not self._running and self._queue:
                    await self._run_group(conn)
                else:
                    await self._until_freed(waiting)
        finally:
            if waiting in self._queue:  # cancelled before any group took it
                self._queue.remove(waiting)
        outcome = waiting.outcome.result()
        if isinstance(outcome, _Alone):
            return await self._alone(conn, item)
        return outcome

    async def _alone(self, conn: asyncpg.Connection, item: T) -> R:
        result = (await self._write(conn, [item]))[0]
        self.statements += 1
        self.items += 1
        return result

    def _take(self) -> list[_Waiting[T, R]]:
        """The oldest waiting writes, one per key, at most ``max_items``."""
        group: list[_Waiting[T, R]] = []
        keys: set[Hashable] = set()
        for waiting in self._queue:
            if len(group) == self._max_items:
                break
            if waiting.key not in keys:
                keys.add(waiting.key)
                group.append(waiting)
        taken = {id(w) for w in group}
        self._queue = [w for w in self._queue if id(w) not in taken]
        return group

    async def _run_group(self, conn: asyncpg.Connection) -> None:
        group = self._take()
        self._running = True
        try:
            results = await self._write(conn, [w.item for w in group])
            if len(results) != len(group):
                raise RuntimeError("a group write answered a different number of results")
        except BaseException as exc:
            for waiting in group:
                if waiting.outcome.done():
                    continue
                if len(group) == 1 and not isinstance(exc, asyncio.CancelledError):
                    waiting.outcome.set_exception(exc)  # its own failure: no second try
                else:
                    waiting.outcome.set_result(_ALONE)
            if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
                raise
            return  # the failure is answered to each write of the group
        finally:
            self._running = False
            if self._freed is not None:
                self._freed.set_result(None)
                self._freed = None
        self.statements += 1
        self.items += len(group)
        for waiting, result in zip(group, results, strict=True):
            if not waiting.outcome.done():
                waiting.outcome.set_result(result)

    async def _until_freed(self, waiting: _Waiting[T, R]) -> None:
        """Wait until this write is answered or the running statement ends."""
        if self._freed is None:
            self._freed = asyncio.get_running_loop().create_future()
        await asyncio.wait((waiting.outcome, self._freed), return_when=asyncio.FIRST_COMPLETED)
