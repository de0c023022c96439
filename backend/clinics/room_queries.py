"""SQL of the video room across processes: process leases, the ledger of room sockets, and
signalling kept for a receiver who is moving to another process."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import BaseModel

# --- the call's appointment ---
# The room's lock on an appointment. NO KEY UPDATE (not UPDATE): an activity-log row written by
# another use-case that already holds a participant still gets its foreign-key check through;
# with FOR UPDATE, ending a call while someone leaves deadlocked.
LOCK_CALL = "SELECT id FROM appointment WHERE id = $1 FOR NO KEY UPDATE"

# --- process leases ---
BEAT = """
INSERT INTO clinic_process (id, host, pid) VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE SET beat_at = now()
"""
EXPIRE_PROCESS = "UPDATE clinic_process SET beat_at = '-infinity' WHERE id = $1"
# Dead processes are deleted by whoever sees them first (a concurrent sweeper waits, then finds none).
TAKE_DEAD_PROCESSES = "DELETE FROM clinic_process WHERE beat_at < now() - $1::interval RETURNING id"

# --- the ledger of room sockets ---
OPEN_CONNECTION = """
INSERT INTO clinic_connection (id, participant_id, process_id, gen) VALUES ($1, $2, $3, $4)
"""
CLOSE_CONNECTION = """
UPDATE clinic_connection SET closed_at = now(), close_reason = $2 WHERE id = $1 AND closed_at IS NULL
"""
CLOSE_ORPHANS = """
UPDATE clinic_connection SET closed_at = now(), close_reason = $2
WHERE process_id = ANY($1::uuid[]) AND closed_at IS NULL
RETURNING id, participant_id, process_id, gen
"""
# Closed sockets are kept a day (the activity log keeps what mattered).
DELETE_CLOSED_CONNECTIONS = "DELETE FROM clinic_connection WHERE closed_at < now() - $1::interval"
# The place is freed only if the dead socket still holds it (nobody resumed elsewhere yet).
RELEASE_PLACE = """
UPDATE clinic_participant SET connection_id = NULL WHERE id = $1 AND connection_id = $2 RETURNING id
"""

# --- signalling kept for a resume ---
# Only from the sender's current generation: what an older one sent is for a leg that is gone.
PENDING_SIGNALS = """
SELECT s.id, s.from_participant, s.from_gen, s.body
FROM clinic_signal s JOIN clinic_participant p ON p.id = s.from_participant AND p.gen = s.from_gen
WHERE s.to_participant = $1 AND s.to_gen = $2 AND s.id > $3 AND s.created_at > now() - $4::interval
ORDER BY s.id
"""


class OrphanRow(BaseModel):
    """A socket whose process died while it was open."""

    id: UUID
    participant_id: UUID
    process_id: UUID
    gen: int


class PendingSignal(BaseModel):
    id: int
    from_participant: UUID
    from_gen: int
    body: dict[str, Any]


async def lock_call(conn: asyncpg.Connection, appointment_id: UUID) -> None:
    await conn.execute(LOCK_CALL, appointment_id)


async def beat(conn: asyncpg.Connection, process_id: UUID, *, host: str, pid: int) -> None:
    """Register the process, or renew its lease (re-registering it if it was judged dead)."""
    await conn.execute(BEAT, process_id, host, pid)


async def expire_process(conn: asyncpg.Connection, process_id: UUID) -> None:
    await conn.execute(EXPIRE_PROCESS, process_id)


async def take_dead_processes(conn: asyncpg.Connection, older_than: timedelta) -> list[UUID]:
    return [r["id"] for r in await conn.fetch(TAKE_DEAD_PROCESSES, older_than)]


async def open_connection(
    conn: asyncpg.Connection, connection_id: UUID, participant_id: UUID, *, process_id: UUID, gen: int
) -> None:
    await conn.execute(OPEN_CONNECTION, connection_id, participant_id, process_id, gen)


async def close_connection(conn: asyncpg.Connection, connection_id: UUID, reason: str) -> None:
    await conn.execute(CLOSE_CONNECTION, connection_id, reason[:200])


async def close_orphans(conn: asyncpg.Connection, process_ids: list[UUID], reason: str) -> list[OrphanRow]:
    return [OrphanRow.model_validate(dict(r)) for r in await conn.fetch(CLOSE_ORPHANS, process_ids, reason)]


async def delete_closed_connections(conn: asyncpg.Connection, older_than: timedelta) -> None:
    await conn.execute(DELETE_CLOSED_CONNECTIONS, older_than)


async def release_place(conn: asyncpg.Connection, participant_id: UUID, connection_id: UUID) -> bool:
    return await conn.fetchval(RELEASE_PLACE, participant_id, connection_id) is not None


async def pending_signals(
    conn: asyncpg.Connection, participant_id: UUID, *, gen: int, after: int, within: timedelta
) -> list[PendingSignal]:
    rows = await conn.fetch(PENDING_SIGNALS, participant_id, gen, after, within)
    return [PendingSignal.model_validate(dict(r)) for r in rows]
