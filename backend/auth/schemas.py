from __future__ import annotations

from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from backend.audit.schemas import Actor
from backend.core.types import Email


class Role(StrEnum):
    provider_admin = "provider_admin"
    clinician = "clinician"
    client_admin = "client_admin"
    manager = "manager"
    employee = "employee"


PROVIDER_ROLES = frozenset({Role.provider_admin, Role.clinician})
EMPLOYER_ROLES = frozenset({Role.client_admin, Role.manager, Role.employee})

OrgKind = Literal["provider", "employer"]


class Organisation(BaseModel):
    id: UUID
    name: str
    kind: OrgKind
    provider_id: UUID | None


class User(BaseModel):
    """The signed-in person, with the organisation facts every permission check needs."""

    id: UUID
    organisation_id: UUID
    role: Role
    email: str
    full_name: str
    department: str | None
    organisation_kind: OrgKind
    # The OH provider this user works for or is served by.
    provider_id: UUID

    def actor(self) -> Actor:
        return Actor(id=self.id, role=self.role.value, organisation_id=self.organisation_id)


class Session(BaseModel):
    id: UUID
    user_id: UUID
    csrf_hash: bytes
    created_at: AwareDatetime
    expires_at: AwareDatetime


class SessionStatus(BaseModel):
    """When this session ends, and until when it may be extended."""

    expires_at: AwareDatetime
    latest_expiry: AwareDatetime  # extending never moves the end past this
    can_extend: bool


class LoginRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "nurse@provider.example", "password": "correct horse battery"}]
        }
    )

    email: Email
    password: str = Field(min_length=1, max_length=256)


class UserRead(BaseModel):
    id: UUID
    role: Role
    organisation_id: UUID
    email: str
    full_name: str
    department: str | None = None


class LoginResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token type, not a secret
    expires_at: AwareDatetime
    csrf_token: str
    user: UserRead


class IssuedSession(BaseModel):
    token: str
    csrf_token: str
    expires_at: AwareDatetime
    user: User


# Examples of success responses in the OpenAPI document (checked against these models by a test).
EXAMPLE_USER = {
    "id": "0b7d2c1e-5f3a-4c8e-9d21-6a4f1e2b3c4d",
    "role": "manager",
    "organisation_id": "5c9e7a10-2b4d-4e6f-8a1c-3d5e7f9a1b2c",
    "email": "sam.manager@employer.example",
    "full_name": "Sam Manager",
    "department": "Logistics",
}
EXAMPLE_LOGIN = {
    "access_token": "kq3J9xV0bWm2Yc7TtR4sPz8uL1nA6dEfGhIjKlMnOpQ",
    "token_type": "bearer",
    "expires_at": "2026-12-02T20:00:00Z",
    "csrf_token": "Zx8Wv6Ut4Sr2Qp0On8Ml6Kj4Ih2Gf0Ed",
    "user": dict(EXAMPLE_USER),
}
