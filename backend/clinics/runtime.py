"""What the clinics feature runs for the app's lifetime: the waiting rooms of this process and the
server-side WebRTC peers (reminders are a background job: ``backend.jobs``). Started and stopped
by ``backend.main``'s lifespan."""

from __future__ import annotations

import gc
from dataclasses import dataclass

import asyncpg
from starlette.datastructures import State

from backend.clinics.media import PeerRegistry
from backend.clinics.waiting_room import Rooms
from backend.core.config import Settings
from backend.db.pubsub import Hub


@dataclass
class ClinicRuntime:
    rooms: Rooms
    peers: PeerRegistry

    async def stop(self) -> None:
        await self.rooms.stop()
        await self.peers.stop()


async def start(
    state: State,
    pool: asyncpg.Pool,
    hub: Hub,
    settings: Settings,
) -> ClinicRuntime:
    rooms, peers = Rooms(pool, hub), PeerRegistry(settings)
    await rooms.start()
    await peers.start()
    state.clinic_rooms, state.clinic_peers = rooms, peers
    # Everything made while starting (modules, schemas, the pool) lives as long as the process.
    # Freezing it keeps full garbage collections, which stall every socket of the process, down
    # to the objects made since: measured, this takes waiting-room event latency p99 from
    # hundreds of milliseconds to tens (tests/bench/bench_waiting_room.py).
    gc.freeze()
    return ClinicRuntime(rooms, peers)
