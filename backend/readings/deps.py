"""Dependencies of the readings endpoints: the signed-in user, and who sends a batch.

Phones retry on 503; ``backend.db.deps.Conn`` answers 503 for every kind of database outage.
"""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from backend.auth.deps import SignInSchemes, bearer_token, get_session
from backend.auth.schemas import User
from backend.core.errors import Unauthenticated
from backend.db.deps import Conn
from backend.readings import service
from backend.readings.service import Writer

_MAX_TOKEN = 200


async def get_writer(request: Request, conn: Conn, _schemes: SignInSchemes) -> Writer:
    return await writer_of(request, conn)


async def writer_of(request: Request, conn: asyncpg.Connection) -> Writer:
    """Who sends: a stream's device token (checked where it is used), or the signed-in employee."""
    token = bearer_token(request)
    if token is not None and token.startswith(service.DEVICE_TOKEN_PREFIX):
        if len(token) > _MAX_TOKEN:
            raise Unauthenticated(service.DEVICE_REFUSED)
        return service.device_token(token)  # checked against the stream where it is used
    _session, user = await get_session(request, conn)
    return Writer(user=user)


BatchWriter = Annotated[Writer, Depends(get_writer)]


async def get_reader(request: Request, conn: Conn, _schemes: SignInSchemes) -> User:
    """The signed-in person (bearer token or session cookie), on the outage-safe connection."""
    _session, user = await get_session(request, conn)
    return user


Reader = Annotated[User, Depends(get_reader)]
