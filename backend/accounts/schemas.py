"""E-mailed account links: requests, redemptions and the answers."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from backend.auth.schemas import UserRead
from backend.core.types import Email

Purpose = Literal["set_password", "reset_password", "sign_in"]
PASSWORD_PURPOSES: tuple[Purpose, ...] = ("set_password", "reset_password")

EXAMPLE_EMAIL = "nobody@employer.example"
EXAMPLE_TOKEN = "f2Jc0m3Q7pXn8cVtV8o1yE0aQzWl4Hq9sJd6Kx2Ub5A"  # noqa: S105 - matches no stored token
EXAMPLE_PASSWORD = "river lantern quietly 42"  # noqa: S105 - a documentation example


def _same_site_path(value: str) -> str:
    """A path on this site to return to after signing in: never another site, never the API."""
    if (
        not value.startswith("/")
        or value.startswith(("//", "/\\", "/api/", "/ws/"))
        or any(c in value for c in "\\\r\n\t")
    ):
        raise ValueError("must be a path on this site, starting with a single /")
    return value


NextPath = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_same_site_path)]
Token = Annotated[str, Field(min_length=20, max_length=200)]
Password = Annotated[str, Field(min_length=1, max_length=256)]


class PasswordResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"email": EXAMPLE_EMAIL}]})

    email: Email


class SignInLinkRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"email": EXAMPLE_EMAIL, "next": "/referrals.html"}]},
    )

    email: Email
    next: NextPath | None = None  # the page the e-mailed link returns to after signing in


class LinkRequested(BaseModel):
    """The same answer whether or not the address belongs to an account."""

    detail: str


class TokenRedeem(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"token": EXAMPLE_TOKEN}]})

    token: Token


class PasswordWithToken(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"token": EXAMPLE_TOKEN, "password": EXAMPLE_PASSWORD}]},
    )

    token: Token
    password: Password


class PasswordFromLink(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"password": EXAMPLE_PASSWORD}]}
    )

    password: Password


class PasswordSet(BaseModel):
    """The account whose password was set: its address, to sign in with."""

    email: str


class SignInState(BaseModel):
    """Whether this browser is signed in (always 200, so that anonymous pages log no error)."""

    signed_in: bool
    user: UserRead | None = None


class AccountUser(BaseModel):
    id: UUID
    email: str
    full_name: str
    organisation_id: UUID
    organisation_name: str
    provider_id: UUID
    has_password: bool
    active: bool


class NewToken(BaseModel):
    token_hash: bytes
    purpose: Purpose
    user_id: UUID
    created_by: UUID | None
    expires_at: AwareDatetime


class Redeemed(BaseModel):
    user_id: UUID
    purpose: Purpose
