from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel

Outcome = Literal["ok", "denied", "not_found", "invalid", "error"]


class Actor(BaseModel):
    """Who is acting: enough to write an audit row without importing auth."""

    id: UUID | None
    role: str
    organisation_id: UUID | None


class AccessLogEntry(BaseModel):
    at: AwareDatetime
    actor_name: str
    actor_role: str | None
    actor_organisation: str | None
    action: str
    entity: str
    entity_id: str | None
    outcome: Outcome
