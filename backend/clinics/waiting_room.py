"""This process's share of the waiting rooms: its own sockets, and the fan-out of room events to them.

Everything a socket is told is read from PostgreSQL when a room event arrives (LISTEN/NOTIFY
through the process's Hub), so any number of processes can serve one room and a process that
restarts simply re-reads. Per room and process there is one subscription and one task that
handles events in commit order; queue positions are recomputed with one query per room.

Liveness is the WebSocket's: each process touches ``last_seen_at`` of its sockets every few
seconds, and every process sweeps places whose socket has been silent too long (its process may
have died), which tells the others the person is reconnecting. Each process also renews its lease
in ``clinic_process``; the sockets of a process whose lease runs out are recorded as dropped in
their calls' activity logs (``backend.clinics.failover``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast
from uuid import UUID, uuid4

import asyncpg

from backend.clinics import events, failover, presence, queries, room_queries
from backend.clinics.connection import Connection, peer_view, relayed
from backend.clinics.schemas import ParticipantRow
from backend.clinics.signalling import (
    Call,
    CloseCode,
    Error,
    Participant,
    Peer,
    PeerQuality,
    Queue,
    Room,
    RoomMessage,
    State,
)
from backend.clinics.verdict import estimate_wait, rounded_minutes
from backend.core.clock import utc_now
from backend.db.pubsub import RESYNC, Hub

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5  # clients ping this often; this process touches its sockets as often
SILENCE_SECONDS = 20  # a socket silent this long is closed
STALE_SECONDS = 30  # a place not touched this long is freed by any process's sweep
QUEUE_DEBOUNCE_SECONDS = 0.2
QUEUE_REFRESH_SECONDS = 20


@dataclass(eq=False)
class _Room:
    session_id: UUID
    connections: set[Connection] = field(default_factory=set)
    users: int = 0
    task: asyncio.Task[None] | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    queue_task: asyncio.Task[None] | None = None


class Rooms:
    """The rooms this process has sockets in; created and stopped in the app's lifespan."""

    def __init__(self, pool: asyncpg.Pool, hub: Hub) -> None:
        self._pool = pool
        self._hub = hub
        self._rooms: dict[UUID, _Room] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.process_id = uuid4()  # this process's lease in clinic_process

    async def start(self) -> None:
        try:  # the lease, and a look for processes that died while none of us was running
            async with self._pool.acquire() as proxy:
                await self._beat(cast(asyncpg.Connection, proxy))
        except (OSError, asyncpg.PostgresError, TimeoutError):
            logger.warning("waiting-room lease not taken at start", exc_info=True)
        self._tasks = [asyncio.create_task(self._heartbeat()), asyncio.create_task(self._refresh_queues())]

    async def stop(self) -> None:
        for room in self._rooms.values():
            for connection in room.connections:
                connection.close(CloseCode.SERVER_RESTARTING, "server restarting")
        for task in [*self._tasks, *(r.task for r in self._rooms.values() if r.task)]:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def connections(self) -> list[Connection]:
        return [c for room in self._rooms.values() for c in room.connections]

    @contextlib.asynccontextmanager
    async def room(self, session_id: UUID) -> AsyncIterator[_Room]:
        """Subscribed to the room's events before a seat is taken, so nothing is missed."""
        room = self._rooms.setdefault(session_id, _Room(session_id))
        room.users += 1
        if room.task is None:
            room.task = asyncio.create_task(self._run(room))
        try:
            await asyncio.wait_for(room.ready.wait(), 10)
            yield room
        finally:
            room.users -= 1
            if room.users == 0 and self._rooms.get(session_id) is room:
                del self._rooms[session_id]
                if room.task:
                    room.task.cancel()

    async def _run(self, room: _Room) -> None:
        async with self._hub.subscribe(events.channel(room.session_id)) as queue:
            room.ready.set()
            while True:
                raw = await queue.get()
                try:
                    if raw == RESYNC:
                        for connection in list(room.connections):
                            await self.sync(connection)
                    else:
                        await self._handle(room, json.loads(raw))
                except (OSError, asyncpg.PostgresError, TimeoutError):
                    logger.warning("room event not handled; resyncing", exc_info=True)
                    queue.put_nowait(RESYNC)
                    await asyncio.sleep(1)
                except Exception:  # one bad event must not stop the room for everyone
                    logger.exception("room event failed")

    async def sync(self, connection: Connection) -> None:
        """Tell one socket everything (on joining, and after lost events)."""
        async with self._pool.acquire() as proxy:
            db = cast(asyncpg.Connection, proxy)
            await self._refresh_self(db, connection, force=True)
            if connection.seat.kind == "clinician":  # the list first: the call refers to its people
                session = await queries.get_session(db, connection.seat.session_id)
                entries = await queries.room_entries(db, connection.seat.session_id)
                connection.send(
                    Room(
                        entries=entries, active_appointment=session.active_appointment_id if session else None
                    )
                )
            await self._refresh_call(db, connection, {}, force=True)
        connection.queue_view = None
        self._schedule_queue(self._rooms.get(connection.seat.session_id))

    async def _handle(self, room: _Room, event: dict[str, Any]) -> None:
        kind = event.get("k")
        if kind == "p":
            await self._on_participant(room, UUID(event["p"]), UUID(event["a"]) if event.get("a") else None)
        elif kind in ("sig", "msg"):
            targets = [c for c in room.connections if str(c.seat.participant_id) == event.get("to")]
            if targets:
                await (self._on_signal if kind == "sig" else self._on_message)(targets, int(event["id"]))
        elif kind == "q":
            update = PeerQuality(
                participant=UUID(event["p"]), level=event["level"], audio_only=event["audio_only"]
            )
            for c in room.connections:
                if (
                    c.call is not None
                    and str(c.call) == event.get("a")
                    and c.seat.participant_id != update.participant
                ):
                    c.send(update)

    async def _on_participant(self, room: _Room, participant_id: UUID, appointment_id: UUID | None) -> None:
        async with self._pool.acquire() as proxy:
            db = cast(asyncpg.Connection, proxy)
            clinicians = [c for c in room.connections if c.seat.kind == "clinician"]
            if clinicians:  # the clinician's list first: that is the latency that matters
                for entry in await queries.room_entries(db, room.session_id, participant_id):
                    for c in clinicians:
                        c.send(Participant(entry=entry))
            for c in [c for c in room.connections if c.seat.participant_id == participant_id]:
                await self._refresh_self(db, c)
            members: dict[UUID, list[ParticipantRow]] = {}
            for c in list(room.connections):
                if (
                    c.seat.kind == "clinician"
                    or c.seat.appointment_id == appointment_id
                    or c.call == appointment_id
                ):
                    await self._refresh_call(db, c, members)
        self._schedule_queue(room)

    async def _refresh_self(self, db: asyncpg.Connection, c: Connection, *, force: bool = False) -> None:
        row = await queries.get_participant(db, c.seat.participant_id)
        if row is None:
            c.close(CloseCode.NOT_INVITED, "gone")
            return
        if row.connection_id is None:
            await failover.reclaim(db, c.seat)
        elif row.connection_id != c.seat.connection_id:
            c.send(
                Error(
                    code="replaced", detail="You joined from another window or device; this one has stopped."
                )
            )
            c.close(CloseCode.REPLACED, "replaced")
            return
        if force or row.state != c.state:
            c.state = row.state
            c.send(State(state=row.state))

    async def _refresh_call(
        self,
        db: asyncpg.Connection,
        c: Connection,
        members: dict[UUID, list[ParticipantRow]],
        *,
        force: bool = False,
    ) -> None:
        """Tell a socket who is in its call, as differences from what it was told before."""
        call = await presence.current_call(db, c.seat, c.state)
        if call is not None and call not in members:
            members[call] = await queries.call_members(db, call)
        found = [m for m in members.get(call, []) if m.id != c.seat.participant_id] if call else []
        if call is not None and c.seat.participant_id not in {m.id for m in members[call]}:
            found = []
        now = {m.id: peer_view(c.seat, m) for m in found}
        if force or call != c.call:
            c.call, c.peers = call, now
            c.send(Call(appointment=call, peers=list(now.values())))
            return
        for pid, view in now.items():
            old = c.peers.get(pid)
            if old is None or old.gen != view.gen:
                c.send(Peer(status="joined", peer=view))
            elif old.connected != view.connected:
                c.send(Peer(status="connected" if view.connected else "reconnecting", peer=view))
        for pid in c.peers.keys() - now.keys():
            gone = await queries.get_participant(db, pid)
            c.send(Peer(status="left", peer=c.peers[pid], state=gone.state if gone else None))
        c.peers = now

    async def _on_signal(self, targets: list[Connection], signal_id: int) -> None:
        async with self._pool.acquire() as proxy:
            found = await queries.get_signal(cast(asyncpg.Connection, proxy), signal_id)
        if found is None:
            return
        sender, _, from_gen, body = found
        message = relayed(signal_id, sender, from_gen, body)
        for c in targets:
            async with c.signal_lock:
                if signal_id > c.last_signal:
                    c.last_signal = signal_id
                    c.send(message)

    @contextlib.asynccontextmanager
    async def joining(
        self, room: _Room, connection: Connection, *, missed_after: int | None
    ) -> AsyncIterator[None]:
        """Add a socket to its room; one that resumed is first given the signalling it missed while
        it was between sockets (or processes). Live signalling waits meanwhile, so none is lost,
        repeated or reordered."""
        async with connection.signal_lock:
            room.connections.add(connection)
            if missed_after is not None:
                connection.last_signal = missed_after
                async with self._pool.acquire() as proxy:
                    missed = await failover.missed_signals(
                        cast(asyncpg.Connection, proxy),
                        connection.seat.participant_id,
                        gen=connection.seat.gen,
                        after=missed_after,
                    )
                for signal in missed:
                    connection.send(relayed(signal.id, signal.from_participant, signal.from_gen, signal.body))
                    connection.last_signal = signal.id
        try:
            yield
        finally:
            room.connections.discard(connection)

    async def _on_message(self, targets: list[Connection], event_id: int) -> None:
        async with self._pool.acquire() as proxy:
            found = await queries.get_call_event(cast(asyncpg.Connection, proxy), event_id)
        if found is None:
            return
        for c in targets:
            c.send(RoomMessage(at=found.at, text=str(found.detail.get("text", "")), sender=c.clinician_name))

    def _schedule_queue(self, room: _Room | None) -> None:
        if room is None or not any(c.seat.kind == "employee" for c in room.connections):
            return
        if room.queue_task is None or room.queue_task.done():
            room.queue_task = asyncio.create_task(self._queue_later(room))

    async def _queue_later(self, room: _Room) -> None:
        await asyncio.sleep(QUEUE_DEBOUNCE_SECONDS)
        try:
            await self._refresh_queue(room)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            logger.warning("queue refresh failed", exc_info=True)

    async def _refresh_queue(self, room: _Room) -> None:
        """Queue position and estimated wait for each waiting employee on this process, from one query."""
        waiting = [c for c in room.connections if c.seat.kind == "employee"]
        if not waiting:
            return
        async with self._pool.acquire() as proxy:
            db = cast(asyncpg.Connection, proxy)
            order = await queries.queue(db, room.session_id)
            session = await queries.get_session(db, room.session_id)
            if session is None:
                return
            pace = await queries.pace(db, session.clinician_id, session.session_date)
            busy_for: float | None = None
            if session.active_appointment_id is not None:
                active = await queries.get_appointment(db, session.active_appointment_id)
                if active and active.first_admitted_at:
                    busy_for = (utc_now() - active.first_admitted_at).total_seconds()
        pace_seconds = pace.mean_seconds or session.slot_minutes * 60.0
        now = utc_now()
        for c in waiting:
            if c.state != "waiting" or c.seat.participant_id not in order:
                c.queue_view = None
                continue
            position = order.index(c.seat.participant_id) + 1
            wait = estimate_wait(
                position=position,
                pace_seconds=pace_seconds,
                busy_for_seconds=busy_for,
                slot_starts_at=c.starts_at or now,
                now=now,
            )
            view = (position, rounded_minutes(wait), len(order))
            if view != c.queue_view:
                c.queue_view = view
                c.send(
                    Queue(
                        position=position,
                        waiting=len(order),
                        estimate_minutes=view[1],
                        pace_minutes=round(pace_seconds / 60),
                        clinician_busy=busy_for is not None,
                    )
                )

    async def _refresh_queues(self) -> None:
        while True:
            await asyncio.sleep(QUEUE_REFRESH_SECONDS)
            for room in list(self._rooms.values()):
                self._schedule_queue(room)

    async def _beat(self, db: asyncpg.Connection) -> None:
        await room_queries.beat(db, self.process_id, host=socket.gethostname()[:200], pid=os.getpid())
        await failover.bury_dead_processes(db, lease_seconds=STALE_SECONDS)

    async def _heartbeat(self) -> None:
        """Renew this process's lease and touch its places; record the sockets of dead processes;
        free anyone's places that nobody touches any more."""
        beats = 0
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            beats += 1
            try:
                async with self._pool.acquire() as proxy:
                    db = cast(asyncpg.Connection, proxy)
                    ids = [c.seat.connection_id for c in self.connections]
                    if ids:
                        await queries.touch(db, ids)
                    await self._beat(db)
                    await failover.sweep(db, stale_seconds=STALE_SECONDS)
                    if beats % 12 == 0:
                        await queries.delete_old_signals(db, timedelta(minutes=2))
                        await room_queries.delete_closed_connections(db, timedelta(days=1))
            except (OSError, asyncpg.PostgresError, TimeoutError):
                logger.warning("waiting-room heartbeat failed", exc_info=True)
