"""GOV.UK Notify (the official ``notifications-python-client``): every SMS, and e-mail when the
sender is ``notify``.

Notify sends only through templates made in its web interface. ohconnect uses one generic
template per channel: an e-mail template whose subject is ``((subject))`` and body ``((body))``,
and a text-message template whose body is ``((body))``; their ids are settings. The outbox id is
the ``reference``, so a delivery can be traced in Notify. Notify does not attach files to
e-mails, so a calendar invitation is not carried through it (SMTP carries it).

The client is synchronous (``requests``) and not thread-safe: each send builds its own client
and runs in a worker thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from backend.core.config import Settings
from backend.notify.schemas import DeliveryError, OutboxMessage

TIMEOUT_S = 30
_PERMANENT = frozenset({400, 401, 403, 404, 413, 422})


def classify(exc: APIError) -> DeliveryError:
    """Permanent: Notify refused the request (400 invalid, 403 key refused). Transient: rate
    limited (429), Notify unavailable (5xx), or no answer (the client reports those as 503)."""
    status = exc.status_code
    detail = exc.message if isinstance(exc.message, str) else "; ".join(
        str(e.get("message", e)) for e in exc.message
    )  # fmt: skip
    return DeliveryError(f"Notify {status}: {detail}"[:1000], permanent=status in _PERMANENT)


class NotifySender:
    def __init__(self, settings: Settings) -> None:
        if settings.notify_api_key is None:
            raise ValueError("Notify needs OHCONNECT_NOTIFY_API_KEY")
        self._key = settings.notify_api_key.get_secret_value()
        self._base_url = settings.notify_base_url
        self._email_template = str(settings.notify_email_template_id or "")
        self._sms_template = str(settings.notify_sms_template_id or "")

    def _send_now(self, message: OutboxMessage) -> None:
        # The client library has no type annotations.
        client: Any = NotificationsAPIClient(self._key, base_url=self._base_url, timeout=TIMEOUT_S)  # type: ignore[no-untyped-call]
        try:
            if message.channel == "sms":
                client.send_sms_notification(
                    phone_number=message.recipient,
                    template_id=self._sms_template,
                    personalisation={"body": message.body},
                    reference=str(message.id),
                )
            else:
                client.send_email_notification(
                    email_address=message.recipient,
                    template_id=self._email_template,
                    personalisation={"subject": message.subject, "body": message.body},
                    reference=str(message.id),
                )
        finally:
            client.request_session.close()

    async def send(self, message: OutboxMessage) -> None:
        if message.channel == "email" and not self._email_template:
            raise DeliveryError(
                "no Notify e-mail template: set OHCONNECT_NOTIFY_EMAIL_TEMPLATE_ID", permanent=True
            )
        try:
            await asyncio.to_thread(self._send_now, message)
        except APIError as exc:
            raise classify(exc) from exc
