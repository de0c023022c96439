"""What features above referrals do when a referral closes, inside the closing transaction.

Referrals sit below booking in the layers, so they cannot cancel an appointment themselves. A
feature registers a handler here once (``backend.main`` does it when the app is made); every
transition into a terminal state (``transitions.TERMINAL``) calls each handler in the transaction
that changes the state, so the referral never closes while its appointment stays booked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from backend.auth.schemas import User
from backend.referrals.schemas import ReferralRead

# (connection in the transition's transaction, who acted, the referral as it was before, action)
OnClose = Callable[[asyncpg.Connection, User, ReferralRead, str], Awaitable[None]]

_on_close: dict[str, OnClose] = {}


def on_close(name: str, handler: OnClose) -> None:
    """Register (or replace, by name) a handler called when a referral reaches a terminal state."""
    _on_close[name] = handler


async def closed(conn: asyncpg.Connection, user: User, referral: ReferralRead, action: str) -> None:
    """Run every handler, in the caller's transaction; an error rolls the transition back."""
    for handler in list(_on_close.values()):
        await handler(conn, user, referral, action)
