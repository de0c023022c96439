"""Live events across processes through PostgreSQL LISTEN/NOTIFY.

``publish`` runs ``pg_notify`` on the caller's connection, so inside a transaction the event
is delivered only if and when it commits. Each process runs one ``Hub``: a single LISTEN
connection whose notifications are fanned out to in-process subscriber queues. If that
connection drops, the hub reconnects and puts ``RESYNC`` on every queue: subscribers then
rebuild their view from the database, which stays the source of truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

logger = logging.getLogger(__name__)

RESYNC = "__resync__"
MAX_PAYLOAD_BYTES = 7900  # PostgreSQL's limit is 8000 bytes per notification
_CHANNEL_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def _check_channel(channel: str) -> None:
    if not _CHANNEL_RE.match(channel):
        raise ValueError(f"invalid channel name {channel!r}")


def notification(channel: str, payload: dict[str, Any] | str) -> tuple[str, str]:
    """The checked ``pg_notify`` arguments (channel, text) for an event, for a statement that
    notifies as part of a change (``SELECT pg_notify($n, $m)``). The event is a dict, or the JSON
    text of one already serialised (a model's ``model_dump_json``)."""
    _check_channel(channel)
    text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"), default=str)
    if len(text.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError("event payload too large; publish an id and store the data in a table")
    return channel, text


async def publish(conn: asyncpg.Connection, channel: str, payload: dict[str, Any]) -> None:
    await conn.execute("SELECT pg_notify($1, $2)", *notification(channel, payload))


class Hub:
    """One LISTEN connection per process, shared by every local subscriber."""

    def __init__(self, dsn: str, *, queue_size: int = 1000) -> None:
        self._dsn = dsn
        self._queue_size = queue_size
        self._subscribers: dict[str, set[asyncio.Queue[str]]] = {}
        self._conn: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()
        self._watchdog: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self) -> None:
        await self._connect()
        self._watchdog = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        self._closed = True
        if self._watchdog:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close()

    async def _connect(self) -> None:
        conn = await asyncpg.connect(self._dsn, server_settings={"application_name": "ohconnect-listen"})
        for channel in list(self._subscribers):
            await conn.add_listener(channel, self._deliver)
        self._conn = conn

    def _deliver(self, _conn: object, _pid: int, channel: str, payload: object) -> None:
        for queue in self._subscribers.get(channel, ()):
            _put(queue, str(payload))

    async def _watch(self) -> None:
        """Reconnect when the LISTEN connection is lost, then tell subscribers to resync."""
        while not self._closed:
            await asyncio.sleep(0.5)
            if self._conn is not None and not self._conn.is_closed():
                continue
            try:
                async with self._lock:
                    await self._connect()
            except (OSError, asyncpg.PostgresError) as exc:
                logger.warning("LISTEN connection lost, retrying: %s", type(exc).__name__)
                await asyncio.sleep(2)
                continue
            for queues in self._subscribers.values():
                for queue in queues:
                    _put(queue, RESYNC)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[asyncio.Queue[str]]:
        _check_channel(channel)
        queue: asyncio.Queue[str] = asyncio.Queue(self._queue_size)
        async with self._lock:
            first = channel not in self._subscribers
            self._subscribers.setdefault(channel, set()).add(queue)
            if first and self._conn is not None and not self._conn.is_closed():
                await self._conn.add_listener(channel, self._deliver)
        try:
            yield queue
        finally:
            async with self._lock:
                queues = self._subscribers.get(channel, set())
                queues.discard(queue)
                if not queues:
                    self._subscribers.pop(channel, None)
                    if self._conn is not None and not self._conn.is_closed():
                        with contextlib.suppress(OSError, asyncpg.PostgresError):
                            await self._conn.remove_listener(channel, self._deliver)


def _put(queue: asyncio.Queue[str], item: str) -> None:
    """Never block the listener: a subscriber that falls behind loses old events and resyncs."""
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            while not queue.empty():
                queue.get_nowait()
        queue.put_nowait(RESYNC)
        if item == RESYNC:
            return
    queue.put_nowait(item)
