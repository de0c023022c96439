"""SQL for account tokens, their throttle, and the account facts those need."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import asyncpg

from backend.accounts.schemas import AccountUser, NewToken, Purpose, Redeemed

_ACCOUNT = """
SELECT u.id, u.email, u.full_name, u.organisation_id, o.name AS organisation_name,
       coalesce(o.provider_id, o.id) AS provider_id,
       u.password_hash IS NOT NULL AS has_password, u.disabled_at IS NULL AS active
FROM app_user u JOIN organisation o ON o.id = u.organisation_id
"""
GET_ACCOUNT_BY_EMAIL = _ACCOUNT + "WHERE u.email = $1"
GET_ACCOUNT = _ACCOUNT + "WHERE u.id = $1"

# Serialises throttle checks for one key (an address or a client address) across processes.
LOCK_KEY = "SELECT pg_advisory_xact_lock(hashtextextended($1, 7316220007))"
COUNT_BY_EMAIL = """
SELECT count(*) FROM account_token_attempt WHERE kind = $1 AND email = $2 AND at > now() - $3::interval
"""
COUNT_BY_IP = """
SELECT count(*) FROM account_token_attempt WHERE client_ip = $1 AND at > now() - $2::interval
"""
INSERT_ATTEMPT = "INSERT INTO account_token_attempt (kind, email, client_ip) VALUES ($1, $2, $3)"

INSERT_TOKEN = """
INSERT INTO account_token (token_hash, purpose, user_id, created_by, expires_at)
VALUES ($1, $2, $3, $4, $5)
"""
# Unused links of these purposes stop working (a newer one was sent, or the account changed).
SPEND_OUTSTANDING = """
UPDATE account_token SET used_at = now()
WHERE user_id = $1 AND purpose = ANY($2::text[]) AND used_at IS NULL
"""
# Spends the link if it is unused, unexpired, of an accepted purpose and its account is active.
REDEEM = """
UPDATE account_token t SET used_at = now()
FROM app_user u
WHERE t.token_hash = $1 AND t.purpose = ANY($2::text[]) AND t.used_at IS NULL AND t.expires_at > now()
  AND u.id = t.user_id AND u.disabled_at IS NULL
RETURNING t.user_id, t.purpose
"""
PEEK = """
SELECT t.user_id, t.purpose FROM account_token t JOIN app_user u ON u.id = t.user_id
WHERE t.token_hash = $1 AND t.purpose = ANY($2::text[]) AND t.used_at IS NULL AND t.expires_at > now()
  AND u.disabled_at IS NULL
"""
SESSION_VIA = "SELECT via FROM auth_session WHERE id = $1"


async def get_account_by_email(conn: asyncpg.Connection, email: str) -> AccountUser | None:
    row = await conn.fetchrow(GET_ACCOUNT_BY_EMAIL, email)
    return AccountUser.model_validate(dict(row)) if row else None


async def get_account(conn: asyncpg.Connection, user_id: UUID) -> AccountUser | None:
    row = await conn.fetchrow(GET_ACCOUNT, user_id)
    return AccountUser.model_validate(dict(row)) if row else None


async def lock_key(conn: asyncpg.Connection, key: str) -> None:
    await conn.execute(LOCK_KEY, key)


async def count_for_email(conn: asyncpg.Connection, *, kind: str, email: str, window: timedelta) -> int:
    return int(await conn.fetchval(COUNT_BY_EMAIL, kind, email, window))


async def count_for_ip(conn: asyncpg.Connection, *, client_ip: str, window: timedelta) -> int:
    return int(await conn.fetchval(COUNT_BY_IP, client_ip, window))


async def insert_attempt(
    conn: asyncpg.Connection, *, kind: str, email: str | None, client_ip: str | None
) -> None:
    await conn.execute(INSERT_ATTEMPT, kind, email, client_ip)


async def insert_token(conn: asyncpg.Connection, token: NewToken) -> None:
    await conn.execute(
        INSERT_TOKEN, token.token_hash, token.purpose, token.user_id, token.created_by, token.expires_at
    )


async def spend_outstanding(conn: asyncpg.Connection, user_id: UUID, purposes: tuple[Purpose, ...]) -> None:
    await conn.execute(SPEND_OUTSTANDING, user_id, list(purposes))


async def redeem(
    conn: asyncpg.Connection, token_hash: bytes, purposes: tuple[Purpose, ...]
) -> Redeemed | None:
    row = await conn.fetchrow(REDEEM, token_hash, list(purposes))
    return Redeemed.model_validate(dict(row)) if row else None


async def peek(conn: asyncpg.Connection, token_hash: bytes, purposes: tuple[Purpose, ...]) -> Redeemed | None:
    row = await conn.fetchrow(PEEK, token_hash, list(purposes))
    return Redeemed.model_validate(dict(row)) if row else None


async def session_via(conn: asyncpg.Connection, session_id: UUID) -> str | None:
    via: str | None = await conn.fetchval(SESSION_VIA, session_id)
    return via
