"""Time zone of the room's messages (UK). Invitations and join links are booking's
(``backend.booking.invitations``)."""

from __future__ import annotations

from backend.booking.calendar import UK

__all__ = ["UK"]
