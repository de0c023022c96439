"""SQL for organisations, users, sessions and sign-in attempts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from backend.auth.schemas import Organisation, Session, User

_USER_COLUMNS = """
u.id, u.organisation_id, u.role, u.email, u.full_name, u.department,
o.kind AS organisation_kind, coalesce(o.provider_id, o.id) AS provider_id
"""

INSERT_ORGANISATION = """
INSERT INTO organisation (name, kind, provider_id) VALUES ($1, $2, $3)
RETURNING id, name, kind, provider_id
"""
GET_ORGANISATION = "SELECT id, name, kind, provider_id FROM organisation WHERE id = $1"
GET_ORGANISATION_BY_NAME = (
    "SELECT id, name, kind, provider_id FROM organisation WHERE lower(name) = lower($1)"
)

INSERT_USER = """
INSERT INTO app_user (organisation_id, role, email, full_name, department, password_hash)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
"""
SET_PASSWORD = "UPDATE app_user SET password_hash = $2 WHERE id = $1"
GET_USER = (
    f"SELECT {_USER_COLUMNS} FROM app_user u JOIN organisation o ON o.id = u.organisation_id WHERE u.id = $1"
)
GET_USER_FOR_LOGIN = f"""
SELECT {_USER_COLUMNS}, u.password_hash FROM app_user u JOIN organisation o ON o.id = u.organisation_id
WHERE u.email = $1 AND u.disabled_at IS NULL
"""
GET_USER_BY_EMAIL = f"""
SELECT {_USER_COLUMNS} FROM app_user u JOIN organisation o ON o.id = u.organisation_id WHERE u.email = $1
"""

COUNT_RECENT_FAILURES = """
SELECT count(*) FROM login_attempt WHERE email = $1 AND NOT succeeded AND at > now() - $2::interval
"""
COUNT_RECENT_IP_FAILURES = """
SELECT count(*) FROM login_attempt WHERE client_ip = $1 AND NOT succeeded AND at > now() - $2::interval
"""
# Sign-in checks for one account are taken one at a time, across processes, for the rest of the
# caller's transaction: the count of recent failures and the reservation of the next attempt
# cannot interleave (the first key is a fixed namespace for login locks).
LOCK_LOGIN = "SELECT pg_advisory_xact_lock(1819240302, hashtext($1))"
RESERVE_LOGIN_ATTEMPT = """
INSERT INTO login_attempt (email, succeeded, client_ip) VALUES ($1, false, $2) RETURNING id
"""
MARK_LOGIN_SUCCEEDED = "UPDATE login_attempt SET succeeded = true WHERE id = $1"

INSERT_SESSION = """
INSERT INTO auth_session (user_id, token_hash, csrf_hash, via, expires_at) VALUES ($1, $2, $3, $4, $5)
RETURNING id
"""
GET_SESSION = f"""
SELECT s.id AS session_id, s.user_id, s.csrf_hash, s.created_at AS session_created_at, s.expires_at,
       {_USER_COLUMNS}
FROM auth_session s
JOIN app_user u ON u.id = s.user_id
JOIN organisation o ON o.id = u.organisation_id
WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND u.disabled_at IS NULL
"""
REVOKE_SESSION = "UPDATE auth_session SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL"
REVOKE_USER_SESSIONS = "UPDATE auth_session SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL"
# A live session's end moved to $2 (only later, never earlier); returns the end now in force.
EXTEND_SESSION = """
UPDATE auth_session SET expires_at = greatest(expires_at, $2)
WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()
RETURNING expires_at
"""


def _user(row: asyncpg.Record) -> User:
    return User.model_validate({k: row[k] for k in User.model_fields})


async def insert_organisation(
    conn: asyncpg.Connection, name: str, kind: str, provider_id: UUID | None
) -> Organisation:
    row = await conn.fetchrow(INSERT_ORGANISATION, name, kind, provider_id)
    return Organisation.model_validate(dict(row or {}))


async def get_organisation(conn: asyncpg.Connection, org_id: UUID) -> Organisation | None:
    row = await conn.fetchrow(GET_ORGANISATION, org_id)
    return Organisation.model_validate(dict(row)) if row else None


async def get_organisation_by_name(conn: asyncpg.Connection, name: str) -> Organisation | None:
    row = await conn.fetchrow(GET_ORGANISATION_BY_NAME, name)
    return Organisation.model_validate(dict(row)) if row else None


async def insert_user(conn: asyncpg.Connection, **fields: Any) -> UUID:
    user_id: UUID = await conn.fetchval(
        INSERT_USER,
        fields["organisation_id"],
        fields["role"],
        fields["email"],
        fields["full_name"],
        fields["department"],
        fields["password_hash"],
    )
    return user_id


async def set_password(conn: asyncpg.Connection, user_id: UUID, password_hash: str) -> None:
    await conn.execute(SET_PASSWORD, user_id, password_hash)


async def get_user(conn: asyncpg.Connection, user_id: UUID) -> User | None:
    row = await conn.fetchrow(GET_USER, user_id)
    return _user(row) if row else None


async def get_user_by_email(conn: asyncpg.Connection, email: str) -> User | None:
    row = await conn.fetchrow(GET_USER_BY_EMAIL, email)
    return _user(row) if row else None


async def get_user_for_login(conn: asyncpg.Connection, email: str) -> tuple[User, str | None] | None:
    row = await conn.fetchrow(GET_USER_FOR_LOGIN, email)
    return (_user(row), row["password_hash"]) if row else None


async def recent_failures(conn: asyncpg.Connection, email: str, window: timedelta) -> int:
    return int(await conn.fetchval(COUNT_RECENT_FAILURES, email, window))


async def recent_ip_failures(conn: asyncpg.Connection, client_ip: str, window: timedelta) -> int:
    return int(await conn.fetchval(COUNT_RECENT_IP_FAILURES, client_ip, window))


async def lock_login(conn: asyncpg.Connection, email: str) -> None:
    await conn.execute(LOCK_LOGIN, email)


async def reserve_login_attempt(conn: asyncpg.Connection, email: str, client_ip: str | None) -> int:
    """An attempt recorded as failed before the password is checked; marked succeeded if it was."""
    attempt_id: int = await conn.fetchval(RESERVE_LOGIN_ATTEMPT, email, client_ip)
    return attempt_id


async def mark_login_succeeded(conn: asyncpg.Connection, attempt_id: int) -> None:
    await conn.execute(MARK_LOGIN_SUCCEEDED, attempt_id)


async def insert_session(
    conn: asyncpg.Connection,
    user_id: UUID,
    token_hash: bytes,
    csrf_hash: bytes,
    via: str,
    expires_at: datetime,
) -> UUID:
    session_id: UUID = await conn.fetchval(INSERT_SESSION, user_id, token_hash, csrf_hash, via, expires_at)
    return session_id


async def get_session(conn: asyncpg.Connection, token_hash: bytes) -> tuple[Session, User] | None:
    row = await conn.fetchrow(GET_SESSION, token_hash)
    if row is None:
        return None
    session = Session(
        id=row["session_id"],
        user_id=row["user_id"],
        csrf_hash=row["csrf_hash"],
        created_at=row["session_created_at"],
        expires_at=row["expires_at"],
    )
    return session, _user(row)


async def revoke_session(conn: asyncpg.Connection, session_id: UUID) -> None:
    await conn.execute(REVOKE_SESSION, session_id)


async def revoke_user_sessions(conn: asyncpg.Connection, user_id: UUID) -> None:
    await conn.execute(REVOKE_USER_SESSIONS, user_id)


async def extend_session(conn: asyncpg.Connection, session_id: UUID, until: datetime) -> datetime | None:
    """The session's end once moved to ``until`` (if later); None when it has ended meanwhile."""
    expires_at: datetime | None = await conn.fetchval(EXTEND_SESSION, session_id, until)
    return expires_at
