"""User administration for provider admins and client admins."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from backend.auth.deps import AppSettings, require_role
from backend.auth.schemas import Role, User
from backend.core.openapi import errors
from backend.db.deps import Conn
from backend.users import service
from backend.users.schemas import AdminOrganisation, ManagedUser, UserChange, UserFilter, UserInvite, UserPage

router = APIRouter(prefix="/api/v1/users", tags=["users"])

UserAdmin = Annotated[User, Depends(require_role(Role.provider_admin, Role.client_admin))]


@router.get("", response_model=UserPage, responses=errors(401, 403, 422, 503))
async def list_users(
    admin: UserAdmin,
    conn: Conn,
    q: Annotated[
        str | None, Query(max_length=200, description="part of a name, e-mail or department")
    ] = None,
    role: Role | None = None,
    organisation_id: UUID | None = None,
    active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> UserPage:
    """The users this admin manages (provider admin: the provider's and its client employers';
    client admin: their organisation's), searchable and paged."""
    where = UserFilter(
        q=q.strip() if q else None, role=role, organisation_id=organisation_id, active=active,
        limit=limit, offset=offset,
    )  # fmt: skip
    return await service.list_users(conn, admin, where)


@router.get("/organisations", response_model=list[AdminOrganisation], responses=errors(401, 403, 503))
async def organisations(admin: UserAdmin, conn: Conn) -> list[AdminOrganisation]:
    """Organisations whose users this admin manages, with the roles they may give in each."""
    return await service.organisations(conn, admin)


@router.post("", status_code=201, response_model=ManagedUser, responses=errors(401, 403, 404, 409, 422, 503))
async def invite(body: UserInvite, admin: UserAdmin, conn: Conn, settings: AppSettings) -> ManagedUser:
    """Invite someone: an account without a password, and an e-mail with a link to choose one.
    `403` for a role this admin may not give, `409` when the address already has an account."""
    return await service.invite(conn, admin, body, settings)


@router.get("/{user_id}", response_model=ManagedUser, responses=errors(401, 403, 404, 503))
async def get_user(user_id: UUID, admin: UserAdmin, conn: Conn) -> ManagedUser:
    return await service.get(conn, admin, user_id)


@router.patch("/{user_id}", response_model=ManagedUser, responses=errors(401, 403, 404, 422, 503))
async def change(user_id: UUID, body: UserChange, admin: UserAdmin, conn: Conn) -> ManagedUser:
    """Change role, name or department. Nobody changes their own role."""
    return await service.change(conn, admin, user_id, body)


@router.post("/{user_id}/deactivate", response_model=ManagedUser, responses=errors(401, 403, 404, 503))
async def deactivate(user_id: UUID, admin: UserAdmin, conn: Conn) -> ManagedUser:
    """Deactivate: the person's sessions end at once and their e-mailed links stop working."""
    return await service.set_active(conn, admin, user_id, active=False)


@router.post("/{user_id}/reactivate", response_model=ManagedUser, responses=errors(401, 403, 404, 503))
async def reactivate(user_id: UUID, admin: UserAdmin, conn: Conn) -> ManagedUser:
    return await service.set_active(conn, admin, user_id, active=True)


@router.post("/{user_id}/invitation", response_model=ManagedUser, responses=errors(401, 403, 404, 409, 503))
async def resend_invitation(
    user_id: UUID, admin: UserAdmin, conn: Conn, settings: AppSettings
) -> ManagedUser:
    """Send a new set-password link to someone who has not chosen a password yet."""
    return await service.resend_invitation(conn, admin, user_id, settings)
