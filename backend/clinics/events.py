"""Live events of a clinic session's waiting room, published with pg_notify (delivered on commit).

One channel per clinic session. Payloads carry ids only; every process that holds sockets in the
room reads what it needs from the database, which stays the source of truth.

Event kinds (``k``):
  ``p``    a participant's state, connection or call membership changed:
           ``p`` (participant), ``a`` (appointment)
  ``sig``  a signalling message stored in clinic_signal: ``id``, ``to`` (participant)
  ``msg``  a clinician's message to one participant, stored in call_event: ``id``, ``to``
  ``q``    a call member's connection quality changed: ``p``, ``a``, ``level``, ``audio_only``
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from backend.clinics.schemas import ParticipantRow
from backend.db.pubsub import publish


def channel(session_id: UUID) -> str:
    return f"clinic_{session_id.hex}"


async def participant_changed(
    conn: asyncpg.Connection, participant: ParticipantRow, appointment_id: UUID | None = None
) -> None:
    await publish(
        conn,
        channel(participant.session_id),
        {
            "k": "p",
            "p": str(participant.id),
            "a": str(appointment_id or participant.appointment_id or ""),
        },
    )


async def signal(conn: asyncpg.Connection, session_id: UUID, signal_id: int, to: UUID) -> None:
    await publish(conn, channel(session_id), {"k": "sig", "id": signal_id, "to": str(to)})


async def message(conn: asyncpg.Connection, session_id: UUID, event_id: int, to: UUID) -> None:
    await publish(conn, channel(session_id), {"k": "msg", "id": event_id, "to": str(to)})


async def quality(conn: asyncpg.Connection, session_id: UUID, payload: dict[str, Any]) -> None:
    await publish(conn, channel(session_id), {"k": "q", **payload})
