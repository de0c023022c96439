"""SQL for administering users within an admin's scope (a provider and its employers, or one employer)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from backend.users.schemas import AdminOrganisation, ManagedUser, Scope, UserFilter

_COLUMNS = """
u.id, u.organisation_id, o.name AS organisation_name, o.kind AS organisation_kind, u.role, u.email,
u.full_name, u.department, u.disabled_at IS NULL AS active, u.password_hash IS NOT NULL AS has_password,
u.created_at
"""
_FROM = "FROM app_user u JOIN organisation o ON o.id = u.organisation_id"
# $1 provider (its own users and its client employers'), $2 one organisation; one of them is set.
_IN_SCOPE = "($1::uuid IS NULL OR o.id = $1 OR o.provider_id = $1) AND ($2::uuid IS NULL OR o.id = $2)"
_FILTER = f"""
WHERE {_IN_SCOPE}
  AND ($3::text IS NULL OR u.email ILIKE $3 OR u.full_name ILIKE $3 OR coalesce(u.department, '') ILIKE $3)
  AND ($4::text IS NULL OR u.role = $4)
  AND ($5::uuid IS NULL OR o.id = $5)
  AND ($6::boolean IS NULL OR (u.disabled_at IS NULL) = $6)
"""
LIST_USERS = f"""
SELECT {_COLUMNS} {_FROM} {_FILTER}
ORDER BY o.kind DESC, o.name, lower(u.full_name), u.email
LIMIT $7 OFFSET $8
"""
COUNT_USERS = f"SELECT count(*) {_FROM} {_FILTER}"
GET_USER = f"SELECT {_COLUMNS} {_FROM} WHERE {_IN_SCOPE} AND u.id = $3"
LOCK_USER = f"SELECT u.id {_FROM} WHERE {_IN_SCOPE} AND u.id = $3 FOR UPDATE OF u"
UPDATE_USER = """
UPDATE app_user SET role = coalesce($2, role), full_name = coalesce($3, full_name),
       department = CASE WHEN $4 THEN nullif($5, '') ELSE department END
WHERE id = $1
"""
SET_ACTIVE = """
UPDATE app_user SET disabled_at = CASE WHEN $2 THEN NULL ELSE coalesce(disabled_at, now()) END WHERE id = $1
"""
LIST_ORGANISATIONS = f"""
SELECT o.id, o.name, o.kind FROM organisation o WHERE {_IN_SCOPE} ORDER BY o.kind DESC, o.name
"""
GET_ORGANISATION = f"SELECT o.id, o.name, o.kind FROM organisation o WHERE {_IN_SCOPE} AND o.id = $3"


def _pattern(q: str | None) -> str | None:
    if not q:
        return None
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filter_values(scope: Scope, where: UserFilter) -> list[object]:
    role = where.role.value if where.role else None
    return [
        scope.provider_id,
        scope.organisation_id,
        _pattern(where.q),
        role,
        where.organisation_id,
        where.active,
    ]


async def list_users(conn: asyncpg.Connection, scope: Scope, where: UserFilter) -> list[ManagedUser]:
    rows = await conn.fetch(LIST_USERS, *_filter_values(scope, where), where.limit, where.offset)
    return [ManagedUser.model_validate(dict(r)) for r in rows]


async def count_users(conn: asyncpg.Connection, scope: Scope, where: UserFilter) -> int:
    return int(await conn.fetchval(COUNT_USERS, *_filter_values(scope, where)))


async def get_user(conn: asyncpg.Connection, scope: Scope, user_id: UUID) -> ManagedUser | None:
    row = await conn.fetchrow(GET_USER, scope.provider_id, scope.organisation_id, user_id)
    return ManagedUser.model_validate(dict(row)) if row else None


async def lock_user(conn: asyncpg.Connection, scope: Scope, user_id: UUID) -> bool:
    return await conn.fetchval(LOCK_USER, scope.provider_id, scope.organisation_id, user_id) is not None


async def update_user(
    conn: asyncpg.Connection,
    user_id: UUID,
    *,
    role: str | None,
    full_name: str | None,
    department: tuple[bool, str | None],
) -> None:
    """``department`` is (change it?, new value): an empty or None value clears it."""
    await conn.execute(UPDATE_USER, user_id, role, full_name, department[0], department[1] or "")


async def set_active(conn: asyncpg.Connection, user_id: UUID, active: bool) -> None:
    await conn.execute(SET_ACTIVE, user_id, active)


async def list_organisations(conn: asyncpg.Connection, scope: Scope) -> list[AdminOrganisation]:
    rows = await conn.fetch(LIST_ORGANISATIONS, scope.provider_id, scope.organisation_id)
    return [AdminOrganisation.model_validate(dict(r)) for r in rows]


async def get_organisation(conn: asyncpg.Connection, scope: Scope, org_id: UUID) -> AdminOrganisation | None:
    row = await conn.fetchrow(GET_ORGANISATION, scope.provider_id, scope.organisation_id, org_id)
    return AdminOrganisation.model_validate(dict(row)) if row else None
