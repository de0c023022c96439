"""Senders: deliver one claimed message or raise ``DeliveryError`` (permanent or transient).

``build(settings)`` picks them from the settings: SMS always through GOV.UK Notify; e-mail over
SMTP or through Notify; everything to the log with the development sender ``log``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from backend.core.config import Settings
from backend.notify.schemas import DeliveryError, OutboxMessage
from backend.notify.senders import govuk_notify, log, smtp

Sender = Callable[[OutboxMessage], Awaitable[None]]
logger = logging.getLogger("ohconnect.delivery")


async def _no_sms(message: OutboxMessage) -> None:
    raise DeliveryError("no SMS provider: set OHCONNECT_NOTIFY_API_KEY", permanent=True)


def build(settings: Settings) -> Sender:
    """The sender for every channel, as the settings choose."""
    if settings.mail_sender == "log":
        return log.send
    if settings.notify_api_key is None:
        logger.warning(
            "text messages cannot be sent without OHCONNECT_NOTIFY_API_KEY; they will be marked failed"
        )
    sms: Sender = govuk_notify.NotifySender(settings).send if settings.notify_api_key else _no_sms
    email: Sender = (
        govuk_notify.NotifySender(settings).send
        if settings.mail_sender == "notify"
        else smtp.SmtpSender(settings).send
    )

    async def send(message: OutboxMessage) -> None:
        await (sms if message.channel == "sms" else email)(message)

    return send


__all__ = ["DeliveryError", "Sender", "build"]
