"""The room across app processes: leases, dropped connections, and signalling kept for a resume.

Every process holding room sockets renews a lease in ``clinic_process`` with its heartbeat, and
each socket is recorded in ``clinic_connection`` with the process that holds it. When a process
dies, its sockets never say goodbye; once its lease has run out, the first process to notice
(any process's heartbeat, or the next one to start) closes those connections and records each
in the call's activity log ("left", reason "server process stopped") — also when the person has
already resumed on another process, which a look at ``clinic_participant`` alone would miss.

Signalling is stored (``clinic_signal``) with the receiver's call generation. A receiver whose
socket was between processes when a message was sent resumes the same generation with the id of
the last message it got (``join.last_signal``) and is given what it missed, for
``SIGNAL_KEEP_SECONDS``.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import asyncpg

from backend.clinics import events, queries, room_queries
from backend.clinics.presence import Seat
from backend.clinics.room_queries import PendingSignal
from backend.clinics.schemas import ParticipantRow

SIGNAL_KEEP_SECONDS = 30
DEAD_PROCESS_REASON = "server process stopped"


async def _call_of(conn: asyncpg.Connection, row: ParticipantRow) -> UUID | None:
    """The call whose log records this participant's comings and goings (a clinician's: the active one)."""
    if row.appointment_id is not None:
        return row.appointment_id
    session = await queries.get_session(conn, row.session_id)
    return session.active_appointment_id if session else None


async def bury_dead_processes(conn: asyncpg.Connection, *, lease_seconds: float) -> int:
    """Record and close the connections of every process whose lease ran out; how many."""
    async with conn.transaction():
        dead = await room_queries.take_dead_processes(conn, timedelta(seconds=lease_seconds))
        if not dead:
            return 0
        orphans = await room_queries.close_orphans(conn, dead, DEAD_PROCESS_REASON)
        for orphan in orphans:
            row = await queries.get_participant(conn, orphan.participant_id, lock=True)
            if row is None:
                continue
            held = await room_queries.release_place(conn, row.id, orphan.id)
            call = await _call_of(conn, row)
            if call is not None:
                detail = {"reason": DEAD_PROCESS_REASON, "gen": orphan.gen, "resumed": not held}
                await queries.insert_call_event(conn, call, row.id, None, "left", detail)
            if held:
                await events.participant_changed(conn, row, call)
    return len(orphans)


async def reclaim(conn: asyncpg.Connection, seat: Seat) -> bool:
    """Hold the place again after a sweep wrongly judged this live socket gone."""
    async with conn.transaction():
        row = await queries.get_participant(conn, seat.participant_id, lock=True)
        if row is None or row.connection_id is not None:
            return False
        row = await queries.connect(conn, row.id, seat.connection_id, row.gen)
        await events.participant_changed(conn, row)
    return True


async def sweep(conn: asyncpg.Connection, *, stale_seconds: float) -> int:
    """Free places whose socket stopped sending heartbeats (its process may have died)."""
    async with conn.transaction():
        rows = await queries.sweep_stale(conn, timedelta(seconds=stale_seconds))
        for row in rows:
            call = await _call_of(conn, row)
            if call is not None:
                await queries.insert_call_event(conn, call, row.id, None, "left", {"reason": "no heartbeat"})
            await events.participant_changed(conn, row, call)
    return len(rows)


async def missed_signals(
    conn: asyncpg.Connection, participant_id: UUID, *, gen: int, after: int
) -> list[PendingSignal]:
    """Signalling sent to this generation of the participant after ``after``, still kept, from
    its senders' current generations."""
    return await room_queries.pending_signals(
        conn, participant_id, gen=gen, after=after, within=timedelta(seconds=SIGNAL_KEEP_SECONDS)
    )
