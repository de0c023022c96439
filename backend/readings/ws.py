"""``WS /ws/readings/{stream_id}``: the live view of one measurement stream.

The caller is identified by the ``Authorization: Bearer`` header, else the session cookie; the
browser's Origin must be this site. Clinicians of the employee's provider and the employee
may watch; anyone else is closed with 4404 (4401 when not signed in). Messages are
``LiveEvent`` JSON: a ``snapshot`` first, then one ``batch`` per stored batch (from whichever app
process stored it, through LISTEN/NOTIFY), ``closed`` when the measurement ends, and a fresh
``snapshot`` whenever events may have been missed. Client messages are ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import cast
from urllib.parse import urlsplit
from uuid import UUID

import asyncpg
from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from backend.auth import service as auth_service
from backend.auth.cookies import SESSION_COOKIE
from backend.auth.schemas import User
from backend.core.config import Settings
from backend.core.errors import AppError
from backend.db.pubsub import RESYNC, Hub
from backend.readings import service

router = APIRouter()
_MAX_TOKEN = 200


def _origin_ok(websocket: WebSocket, settings: Settings) -> bool:
    origin = websocket.headers.get("origin")
    if origin is None:  # not a browser: nothing to forge
        return True
    return urlsplit(origin).netloc in {
        urlsplit(settings.public_url).netloc,
        websocket.headers.get("host", ""),
    }


def _token(websocket: WebSocket) -> str | None:
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    token = value.strip() if scheme.lower() == "bearer" else websocket.cookies.get(SESSION_COOKIE)
    return token if token and len(token) <= _MAX_TOKEN else None


async def _user(db: asyncpg.Connection, websocket: WebSocket) -> User | None:
    token = _token(websocket)
    found = await auth_service.authenticate(db, token) if token else None
    return found[1] if found else None


@router.websocket("/ws/readings/{stream_id}")
async def live_readings(websocket: WebSocket, stream_id: UUID) -> None:
    settings: Settings = websocket.app.state.settings
    if not _origin_ok(websocket, settings):
        await websocket.close(code=4403)
        return
    await websocket.accept()
    try:
        await _serve(websocket, stream_id, settings)
    except WebSocketDisconnect:
        pass
    finally:
        if websocket.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):  # the client left first
                await websocket.close()


async def _snapshot(websocket: WebSocket, user: User, stream_id: UUID, settings: Settings) -> str:
    pool: asyncpg.Pool = websocket.app.state.pool
    async with pool.acquire() as proxy:
        event = await service.watch(cast(asyncpg.Connection, proxy), user, stream_id, settings)
    return event.model_dump_json(exclude_none=True)


async def _serve(websocket: WebSocket, stream_id: UUID, settings: Settings) -> None:
    pool: asyncpg.Pool = websocket.app.state.pool
    hub: Hub = websocket.app.state.hub
    async with pool.acquire() as proxy:
        user = await _user(cast(asyncpg.Connection, proxy), websocket)
    if user is None:
        await websocket.close(code=4401, reason="Sign in to watch live readings.")
        return
    async with hub.subscribe(service.channel(stream_id)) as queue:
        try:
            first = await _snapshot(websocket, user, stream_id, settings)
        except AppError as error:
            await websocket.close(code=4000 + error.status_code, reason=error.title)
            return
        await websocket.send_text(first)
        forward = asyncio.create_task(_forward(websocket, queue, user, stream_id, settings))
        try:
            while True:  # read (and ignore) client messages until the socket closes
                await websocket.receive_text()
        finally:
            forward.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError, OSError):
                await forward


async def _forward(
    websocket: WebSocket, queue: asyncio.Queue[str], user: User, stream_id: UUID, settings: Settings
) -> None:
    while True:
        item = await queue.get()
        if item == RESYNC:
            try:
                item = await _snapshot(websocket, user, stream_id, settings)
            except AppError as error:
                await websocket.close(code=4000 + error.status_code, reason=error.title)
                return
        await websocket.send_text(item)
