"""Development sender: the whole message (single-use links included) goes to the log.

Allowed only outside production (settings refuse it there); the demo mailbox page shows the same
messages from the outbox table.
"""

from __future__ import annotations

import logging

from backend.notify.schemas import OutboxMessage

logger = logging.getLogger("ohconnect.outbox")


async def send(message: OutboxMessage) -> None:
    logger.info(
        "%s %s (%s) to %s: %s\n%s",
        message.channel,
        message.id,
        message.kind,
        message.recipient,
        message.subject,
        message.body,
    )
