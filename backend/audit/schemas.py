from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final, Literal
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


@dataclass(frozen=True, slots=True)
class Subject:
    """The person a record is about, as their access log finds them: their account, the e-mail
    address their records carry (people under surveillance or just referred may have no
    account), or both. At least one is required."""

    user_id: UUID | None = None
    email: str | None = None

    def __post_init__(self) -> None:
        if self.email is not None:  # addresses are stored lower-case everywhere; the log matches exactly
            object.__setattr__(self, "email", self.email.strip().lower() or None)
        if self.user_id is None and self.email is None:
            raise ValueError("a Subject names a user id or an e-mail address")


class _Nobody(Enum):
    NO_SUBJECT = "no subject"


# The record is about no person (a programme, a clinic day, an organisation, an issued document's
# check), or a refusal of an id that names nobody the caller may know about.
NoSubject: Final = _Nobody.NO_SUBJECT
NoSubjectType = Literal[_Nobody.NO_SUBJECT]
AuditSubject = Subject | NoSubjectType
