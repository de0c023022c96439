"""Who is calling a clinic endpoint or socket: a signed-in user, or an invited third party.

Third parties (interpreters, companions) have no account: redeeming their join link gives them a
pass, kept in the HttpOnly ``ohc_guest`` cookie (or sent as a bearer token by other clients).
"""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie
from starlette.requests import HTTPConnection

from backend.auth import service as auth_service
from backend.auth.cookies import SESSION_COOKIE
from backend.auth.deps import SignInSchemes, bearer_token
from backend.clinics import joining
from backend.clinics.joining import Caller
from backend.core.errors import Unauthenticated
from backend.db.deps import Conn

GUEST_COOKIE = "ohc_guest"
_MAX_TOKEN = 200
GUEST = APIKeyCookie(
    name=GUEST_COOKIE,
    scheme_name="guest_cookie",
    description="The pass of an invited third party (interpreter, companion), set by joining.",
    auto_error=False,
)


async def identify(
    conn: asyncpg.Connection, connection: HTTPConnection, token: str | None = None
) -> Caller | None:
    """Bearer token or explicit token (user session first, then guest pass), else the cookies."""
    explicit = token or bearer_token(connection)
    candidates = [explicit] if explicit else []
    if not explicit:
        candidates = [
            c for c in (connection.cookies.get(SESSION_COOKIE), connection.cookies.get(GUEST_COOKIE)) if c
        ]
    for candidate in candidates:
        if len(candidate) > _MAX_TOKEN:
            continue
        found = await auth_service.authenticate(conn, candidate)
        if found is not None:
            return Caller(user=found[1])
        guest = await joining.guest_by_pass(conn, candidate)
        if guest is not None:
            return Caller(guest=guest)
    return None


async def get_caller(
    request: Request,
    conn: Conn,
    _schemes: SignInSchemes,
    _guest: Annotated[str | None, Security(GUEST)],
) -> Caller:
    caller = await identify(conn, request)
    if caller is None:
        raise Unauthenticated("Open the link from your invitation again, or sign in.")
    return caller


CurrentCaller = Annotated[Caller, Depends(get_caller)]
