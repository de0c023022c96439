"""Development sender: a message counts as sent and stays in the outbox table.

Allowed only outside production (settings refuse it there). The log names the message by id,
kind and channel only (never its recipient, text or links); the demo mailbox page (`/mailbox`)
shows the whole message from the outbox table.
"""

from __future__ import annotations

import logging

from backend.notify.schemas import OutboxMessage

logger = logging.getLogger("ohconnect.outbox")


async def send(message: OutboxMessage) -> None:
    logger.info("%s message %s (%s) kept for the mailbox", message.channel, message.id, message.kind)
