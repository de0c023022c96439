"""User administration. Provider admins manage their provider's users and its client employers';
client admins manage their own organisation's (employer roles only). Anyone outside the caller's
scope is "not found"; nobody deactivates themselves or changes their own role. Every read and
change is audited, refusals included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg

from backend.accounts import service as accounts_service
from backend.audit import service as audit
from backend.audit.schemas import NoSubject, Outcome
from backend.auth import service as auth_service
from backend.auth.schemas import EMPLOYER_ROLES, PROVIDER_ROLES, Role, User
from backend.core.config import Settings
from backend.core.errors import AppError, Conflict, NotFound
from backend.users import queries
from backend.users.errors import OwnAccount, RoleNotGrantable, RoleNotInOrganisation, UserNotFound
from backend.users.schemas import (
    AdminOrganisation,
    ManagedUser,
    Scope,
    UserChange,
    UserFilter,
    UserInvite,
    UserPage,
)

_OUTCOME: dict[int, Outcome] = {403: "denied", 404: "not_found", 409: "denied", 422: "invalid"}


def scope_for(admin: User) -> Scope:
    if admin.role == Role.provider_admin:
        return Scope(provider_id=admin.organisation_id)
    return Scope(organisation_id=admin.organisation_id)


def grantable(admin: User) -> frozenset[Role]:
    """Roles this admin may give: a provider admin any, a client admin only employer roles."""
    return PROVIDER_ROLES | EMPLOYER_ROLES if admin.role == Role.provider_admin else EMPLOYER_ROLES


def _roles_of(kind: str) -> frozenset[Role]:
    return PROVIDER_ROLES if kind == "provider" else EMPLOYER_ROLES


@asynccontextmanager
async def _use_case(
    conn: asyncpg.Connection, admin: User, action: str, user_id: UUID | None = None
) -> AsyncIterator[None]:
    """One transaction; a refusal rolls it back and is then audited on its own."""
    try:
        async with conn.transaction():
            yield
    except AppError as error:
        async with conn.transaction():
            await audit.record(
                conn, admin.actor(), action, "app_user", user_id,
                outcome=_OUTCOME.get(error.status_code, "invalid"), subject_user_id=user_id,
            )  # fmt: skip
        raise


async def _target(conn: asyncpg.Connection, admin: User, user_id: UUID) -> ManagedUser:
    if not await queries.lock_user(conn, scope_for(admin), user_id):
        raise UserNotFound("No such user.")
    found = await queries.get_user(conn, scope_for(admin), user_id)
    if found is None:
        raise UserNotFound("No such user.")
    return found


async def list_users(conn: asyncpg.Connection, admin: User, where: UserFilter) -> UserPage:
    async with _use_case(conn, admin, "user.list"):
        items = await queries.list_users(conn, scope_for(admin), where)
        total = await queries.count_users(conn, scope_for(admin), where)
        await audit.record(conn, admin.actor(), "user.list", "app_user", None, subject=NoSubject)
    return UserPage(items=items, total=total, limit=where.limit, offset=where.offset)


async def get(conn: asyncpg.Connection, admin: User, user_id: UUID) -> ManagedUser:
    async with _use_case(conn, admin, "user.read", user_id):
        found = await queries.get_user(conn, scope_for(admin), user_id)
        if found is None:
            raise UserNotFound("No such user.")
        await audit.record(conn, admin.actor(), "user.read", "app_user", user_id, subject_user_id=user_id)
    return found


async def organisations(conn: asyncpg.Connection, admin: User) -> list[AdminOrganisation]:
    """The organisations whose users this admin manages, each with the roles they may give there."""
    found = await queries.list_organisations(conn, scope_for(admin))
    allowed = grantable(admin)
    return [
        org.model_copy(update={"roles": [r for r in Role if r in _roles_of(org.kind) and r in allowed]})
        for org in found
    ]


async def invite(conn: asyncpg.Connection, admin: User, body: UserInvite, settings: Settings) -> ManagedUser:
    """Create an account without a password and e-mail its owner a link to choose one."""
    async with _use_case(conn, admin, "user.invite"):
        if body.role not in grantable(admin):
            raise RoleNotGrantable(f"You may not give the role {body.role.value}.")
        org = await queries.get_organisation(conn, scope_for(admin), body.organisation_id)
        if org is None:
            raise NotFound("No such organisation.")
        if body.role not in _roles_of(org.kind):
            raise _bad_role(body.role, org.name)
        user = await auth_service.create_user(
            conn, organisation_id=org.id, role=body.role, email=body.email, password=None,
            full_name=body.full_name, department=body.department or None,
        )  # fmt: skip
        await accounts_service.send_invitation(conn, user.id, inviter=admin, settings=settings)
        await audit.record(conn, admin.actor(), "user.invite", "app_user", user.id, subject_user_id=user.id)
        created = await _target(conn, admin, user.id)
    return created


def _bad_role(role: Role, organisation: str) -> RoleNotInOrganisation:
    return RoleNotInOrganisation(
        f"The role {role.value} does not belong in {organisation}.",
        errors=[{"field": "role", "message": "not a role of this organisation", "type": "value_error"}],
    )


async def change(conn: asyncpg.Connection, admin: User, user_id: UUID, body: UserChange) -> ManagedUser:
    """Change someone's role, name or department (never one's own role)."""
    async with _use_case(conn, admin, "user.update", user_id):
        target = await _target(conn, admin, user_id)
        if body.role is not None and body.role != target.role:
            if target.id == admin.id:
                raise OwnAccount("You cannot change your own role; ask another admin.")
            if body.role not in grantable(admin):
                raise RoleNotGrantable(f"You may not give the role {body.role.value}.")
            if body.role not in _roles_of(target.organisation_kind):
                raise _bad_role(body.role, target.organisation_name)
        await queries.update_user(
            conn, user_id,
            role=body.role.value if body.role else None,
            full_name=body.full_name,
            department=("department" in body.model_fields_set, body.department),
        )  # fmt: skip
        await audit.record(conn, admin.actor(), "user.update", "app_user", user_id, subject_user_id=user_id)
        changed = await _target(conn, admin, user_id)
    return changed


async def set_active(conn: asyncpg.Connection, admin: User, user_id: UUID, *, active: bool) -> ManagedUser:
    """Deactivate (every session ends and every e-mailed link stops working) or reactivate."""
    action = "user.reactivate" if active else "user.deactivate"
    async with _use_case(conn, admin, action, user_id):
        if user_id == admin.id:
            raise OwnAccount("You cannot deactivate or reactivate your own account.")
        await _target(conn, admin, user_id)
        await queries.set_active(conn, user_id, active)
        if not active:
            await auth_service.revoke_sessions(conn, user_id)
            await accounts_service.revoke_links(conn, user_id)
        await audit.record(conn, admin.actor(), action, "app_user", user_id, subject_user_id=user_id)
        changed = await _target(conn, admin, user_id)
    return changed


async def resend_invitation(
    conn: asyncpg.Connection, admin: User, user_id: UUID, settings: Settings
) -> ManagedUser:
    """Send a new set-password link to someone who has not chosen a password yet."""
    async with _use_case(conn, admin, "user.invite.resend", user_id):
        target = await _target(conn, admin, user_id)
        if target.has_password or not target.active:
            raise Conflict("This person already has a password or is deactivated.")
        await accounts_service.send_invitation(conn, user_id, inviter=admin, settings=settings)
    return target
