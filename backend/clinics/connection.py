"""One room socket as this process sees it: its seat, its outbox, and what it was last told; and
how call members and relayed signalling are shown to it."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from backend.clinics.presence import Seat
from backend.clinics.schemas import ParticipantRow
from backend.clinics.signalling import CallPeer, CloseCode, Out, Relayed

OUTBOX_SIZE = 256  # messages queued for one socket before it is judged too slow and closed
_RANK = {"clinician": 0, "employee": 1, "guest": 2}


@dataclass(eq=False)
class Connection:
    """One socket's seat, and what it was last told (so changes are sent as differences)."""

    seat: Seat
    starts_at: datetime | None = None
    clinician_name: str = ""
    outbox: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(OUTBOX_SIZE + 1))
    state: str | None = None
    call: UUID | None = None
    peers: dict[UUID, CallPeer] = field(default_factory=dict)
    queue_view: tuple[int, int, int] | None = None
    close_code: int | None = None
    close_reason: str = ""
    last_signal: int = 0  # the id of the last sdp/ice/bye sent to this socket
    signal_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def send(self, message: Out) -> None:
        if self.close_code is not None:
            return
        if self.outbox.qsize() >= OUTBOX_SIZE:
            self.close(CloseCode.TOO_SLOW, "too slow to receive")
            return
        self.outbox.put_nowait(json.dumps(message.dump(), separators=(",", ":")))

    def close(self, code: int, reason: str) -> None:
        if self.close_code is not None:
            return
        self.close_code, self.close_reason = code, reason
        while self.outbox.qsize() > OUTBOX_SIZE:
            self.outbox.get_nowait()
        self.outbox.put_nowait(None)


def peer_view(me: Seat, member: ParticipantRow) -> CallPeer:
    """A call member as this seat sees them; ``polite`` is this seat's role towards them."""
    mine = (_RANK[me.kind], str(me.participant_id))
    theirs = (_RANK[member.kind], str(member.id))
    return CallPeer(
        participant=member.id,
        kind=member.kind,
        name=member.display_name,
        gen=member.gen,
        connected=member.connection_id is not None,
        polite=mine > theirs,
    )


def relayed(signal_id: int, sender: UUID, from_gen: int, body: dict[str, Any]) -> Relayed:
    """A stored signalling message as its receiver is given it."""
    return Relayed(
        t=body["t"],
        id=signal_id,
        sender=sender,
        from_gen=from_gen,
        pc=body.get("pc"),
        description=body.get("description"),
        candidate=body.get("candidate"),
        reason=body.get("reason"),
    )
