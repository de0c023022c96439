"""Reading e-mailed account links from the outbox, as the recipient would find them."""

from __future__ import annotations

import re

import asyncpg

LINK = re.compile(r"(https?://\S+#(?:token|sign-in)=([A-Za-z0-9_\-]+)\S*)")


async def last_message(conn: asyncpg.Connection, recipient: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT subject, body, kind, provider_id FROM outbox_message WHERE recipient = $1 "
        "ORDER BY created_at DESC LIMIT 1",
        recipient,
    )


async def emailed_link(conn: asyncpg.Connection, recipient: str) -> tuple[str, str]:
    """(the whole link, its token) of the newest message to this address."""
    message = await last_message(conn, recipient)
    assert message is not None, f"no message to {recipient}"
    match = LINK.search(message["body"])
    assert match, message["body"]
    return match.group(1), match.group(2)


async def message_count(conn: asyncpg.Connection, recipient: str) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM outbox_message WHERE recipient = $1", recipient))
