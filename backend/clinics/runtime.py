"""What the clinics feature runs for the app's lifetime: the waiting rooms of this process, the
server-side WebRTC peers, and the reminder loop. Started and stopped by ``backend.main``'s lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from dataclasses import dataclass

import asyncpg
from starlette.datastructures import State

from backend.booking import reminders
from backend.clinics.media import PeerRegistry
from backend.clinics.waiting_room import Rooms
from backend.core.config import Settings
from backend.db.pubsub import Hub


@dataclass
class ClinicRuntime:
    rooms: Rooms
    peers: PeerRegistry
    reminders: asyncio.Task[None]

    async def stop(self) -> None:
        await self.rooms.stop()
        await self.peers.stop()
        self.reminders.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reminders


async def start(
    state: State,
    pool: asyncpg.Pool,
    hub: Hub,
    settings: Settings,
    sender: reminders.ReminderSender | None = None,
) -> ClinicRuntime:
    rooms, peers = Rooms(pool, hub), PeerRegistry(settings)
    await rooms.start()
    await peers.start()
    state.clinic_rooms, state.clinic_peers = rooms, peers
    task = asyncio.create_task(reminders.run(pool, sender or reminders.OutboxReminders()))
    # Everything made while starting (modules, schemas, the pool) lives as long as the process.
    # Freezing it keeps full garbage collections, which stall every socket of the process, down
    # to the objects made since: measured, this takes waiting-room event latency p99 from
    # hundreds of milliseconds to tens (tests/bench/bench_waiting_room.py).
    gc.freeze()
    return ClinicRuntime(rooms, peers, task)
