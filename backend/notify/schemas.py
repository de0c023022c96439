"""Messages as the dispatcher, the senders and provider admins see them."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel

Channel = Literal["email", "sms"]
Status = Literal["pending", "sending", "sent", "failed"]


class NewMessage(BaseModel):
    channel: Channel
    recipient: str
    subject: str
    body: str
    provider_id: UUID | None = None
    kind: str = "general"
    calendar_ics: str | None = None


class OutboxMessage(BaseModel):
    """A message claimed for one delivery attempt (``attempts`` counts this one)."""

    id: UUID
    channel: Channel
    recipient: str
    subject: str
    body: str
    kind: str = "general"
    calendar_ics: str | None = None
    attempts: int = 1


class DeliveryError(Exception):
    """A sender could not deliver. ``permanent``: trying again cannot help (refused recipient,
    rejected request); otherwise the dispatcher retries later. ``reason`` never holds the body."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason[:1000]
        self.permanent = permanent


class MessageSummary(BaseModel):
    """One message in a provider admin's list: never its body."""

    id: UUID
    channel: Channel
    recipient: str
    kind: str
    subject: str
    status: Status
    attempts: int
    last_error: str | None
    created_at: AwareDatetime
    last_attempt_at: AwareDatetime | None
    failed_at: AwareDatetime | None
    sent_at: AwareDatetime | None
    resent_at: AwareDatetime | None
    resend_count: int


class MessagePage(BaseModel):
    items: list[MessageSummary]
    total: int
    limit: int
    offset: int


class MailboxMessage(BaseModel):
    """A message as the development mailbox shows it (whole body: development only)."""

    id: UUID
    channel: Channel
    recipient: str
    kind: str
    subject: str
    body: str
    status: Status
    has_calendar: bool
    created_at: AwareDatetime
    sent_at: AwareDatetime | None


class MailboxPage(BaseModel):
    items: list[MailboxMessage]
    total: int
    limit: int
    offset: int
