"""Which client organisations a database session may see (row-level security, migration 0012).

The setting ``ohconnect.orgs`` holds ``*`` (every organisation) or a comma-separated list of
organisation ids; unset or empty, the application role sees no client data at all. Pooled
connections start with ``*`` (``EVERY`` in the pool's ``server_settings``): background work,
sign-in and link redemption act for no one organisation. A request narrows its connection once
the signed-in person is known (``narrow_to_organisation`` / ``narrow_to_provider``), and the pool
puts ``*`` back when the connection is released (``restore``), so the next user of the connection
starts from the pool's default whichever request narrowed it.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

SETTING = "ohconnect.orgs"
EVERY = "*"

# Session-level (is_local false): the narrowed scope holds for every later statement and
# transaction of the request on this connection, until the pool restores the default.
NARROW_TO_ORGANISATION = "SELECT set_config('ohconnect.orgs', $1::uuid::text, false)"
# An OH provider's staff: the provider itself and every employer it serves.
NARROW_TO_PROVIDER = """
SELECT set_config('ohconnect.orgs', coalesce(string_agg(o.id::text, ',' ORDER BY o.id), ''), false)
FROM organisation o
WHERE o.id = $1 OR o.provider_id = $1
"""
RESTORE = "RESET ohconnect.orgs"
CURRENT = "SELECT current_setting('ohconnect.orgs', true)"


class Scope:
    """Per-connection flag: whether this connection was narrowed since it was last restored."""

    __slots__ = ("narrowed",)

    def __init__(self) -> None:
        self.narrowed = False


def _scope(conn: asyncpg.Connection) -> Scope | None:
    scope = getattr(conn, "row_scope", None)
    return scope if isinstance(scope, Scope) else None


def _mark(conn: asyncpg.Connection) -> None:
    if conn.is_in_transaction():
        # A transaction that rolls back would take the narrowing with it, widening the scope again.
        raise RuntimeError("the row scope is narrowed outside transactions only")
    scope = _scope(conn)
    if scope is not None:
        scope.narrowed = True


async def narrow_to_organisation(conn: asyncpg.Connection, organisation_id: UUID) -> None:
    """From now on this connection sees the rows of one organisation only."""
    _mark(conn)  # before the change: a failure half-way still restores on release
    await conn.execute(NARROW_TO_ORGANISATION, organisation_id)


async def narrow_to_provider(conn: asyncpg.Connection, provider_id: UUID) -> None:
    """From now on this connection sees a provider's rows and those of its client employers."""
    _mark(conn)
    await conn.execute(NARROW_TO_PROVIDER, provider_id)


def is_default(conn: asyncpg.Connection) -> bool:
    """Whether this pooled connection still has the pool's scope (it was not narrowed); False
    for a connection that did not come from the app's pool."""
    scope = _scope(conn)
    return scope is not None and not scope.narrowed


async def restore(conn: asyncpg.Connection) -> None:
    """Back to the session's default (``*`` for pooled connections); a round trip only when the
    connection was narrowed."""
    scope = _scope(conn)
    if scope is None or not scope.narrowed:
        return
    await conn.execute(RESTORE)
    scope.narrowed = False


async def current(conn: asyncpg.Connection) -> str | None:
    """The setting as this connection has it now (None when never set)."""
    value: str | None = await conn.fetchval(CURRENT)
    return value
