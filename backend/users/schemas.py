"""User administration by provider and client admins."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from backend.auth.schemas import Role
from backend.core.types import Email

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Department = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class ManagedUser(BaseModel):
    id: UUID
    organisation_id: UUID
    organisation_name: str
    organisation_kind: Literal["provider", "employer"]
    role: Role
    email: str
    full_name: str
    department: str | None
    active: bool
    has_password: bool  # False until an invited person has chosen one
    created_at: AwareDatetime


class UserPage(BaseModel):
    items: list[ManagedUser]
    total: int
    limit: int
    offset: int


class AdminOrganisation(BaseModel):
    """An organisation whose users the caller may manage, with the roles it may hold."""

    id: UUID
    name: str
    kind: Literal["provider", "employer"]
    roles: list[Role] = Field(default_factory=list)


class UserInvite(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "organisation_id": "00000000-0000-4000-8000-000000000000",
                    "role": "manager",
                    "email": "sam.manager@employer.example",
                    "full_name": "Sam Manager",
                    "department": "Logistics",
                }
            ]
        },
    )

    organisation_id: UUID
    role: Role
    email: Email
    full_name: Name
    department: Department | None = None


class UserChange(BaseModel):
    """Fields to change; those left out stay as they are (an empty department clears it)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"role": "manager", "department": "Finance"}]}
    )

    role: Role | None = None
    full_name: Name | None = None
    department: Department | None = None

    @model_validator(mode="after")
    def _something(self) -> UserChange:
        if not self.model_fields_set:
            raise ValueError("give at least one of role, full_name, department")
        return self


class Scope(BaseModel):
    """Whose users an admin manages: a provider's own and its client employers', or one employer's."""

    provider_id: UUID | None = None
    organisation_id: UUID | None = None


class UserFilter(BaseModel):
    q: str | None = None
    role: Role | None = None
    organisation_id: UUID | None = None
    active: bool | None = None
    limit: int = 50
    offset: int = 0
