"""``WS /ws/clinic``: one socket per participant for the waiting room, the pre-call test and call
signalling. Message types are documented in ``backend.clinics.signalling``.

The first message must be ``join`` (within a few seconds). The caller is identified by the
``token`` in it, else by the session cookie (or the third party's guest cookie); the browser's
Origin must be this site. Every later message is checked against the sender's place in the room.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import cast
from urllib.parse import urlsplit
from uuid import uuid4

import asyncpg
from fastapi import APIRouter, WebSocket
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnect, WebSocketState

from backend.clinics import joining, presence, service, signalling
from backend.clinics.connection import Connection
from backend.clinics.deps import identify
from backend.clinics.errors import (
    AppointmentClosed,
    ClinicForbidden,
    MessageInvalid,
    RoomNotOpen,
    TooManyMessages,
)
from backend.clinics.joining import Caller
from backend.clinics.media import EchoPeer, PeerRegistry
from backend.clinics.presence import Seat
from backend.clinics.schemas import GuestCreate
from backend.clinics.signalling import (
    ClientMessage,
    CloseCode,
    Error,
    IceServerOut,
    Invited,
    Pong,
    PrecallAnswer,
    PrecallVerdict,
    Welcome,
)
from backend.clinics.turn import ice_config
from backend.clinics.waiting_room import HEARTBEAT_SECONDS, SILENCE_SECONDS, Rooms
from backend.core.config import Settings
from backend.core.errors import AppError, Unauthenticated

logger = logging.getLogger(__name__)
router = APIRouter()

JOIN_TIMEOUT = 10.0
BURST = 60  # messages a socket may send at once...
RATE = 20.0  # ...refilled at this many per second


def _origin_ok(websocket: WebSocket, settings: Settings) -> bool:
    origin = websocket.headers.get("origin")
    if origin is None:  # not a browser: nothing to forge
        return True
    allowed = {urlsplit(settings.public_url).netloc, websocket.headers.get("host", "")}
    return urlsplit(origin).netloc in allowed


class _Bucket:
    def __init__(self) -> None:
        self.tokens, self.at = float(BURST), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(BURST, self.tokens + (now - self.at) * RATE)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@router.websocket("/ws/clinic")
async def clinic_socket(websocket: WebSocket) -> None:
    settings: Settings = websocket.app.state.settings
    if not _origin_ok(websocket, settings):
        await websocket.close(code=CloseCode.FORBIDDEN_ORIGIN)
        return
    await websocket.accept()
    try:
        await _session(websocket, settings)
    except WebSocketDisconnect:
        pass
    finally:
        if websocket.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(RuntimeError, OSError):
                await websocket.close()


async def _refuse(websocket: WebSocket, error: AppError, code: CloseCode) -> None:
    await websocket.send_json(Error(code=error.code, detail=error.detail, refused="join").dump())
    await websocket.close(code=code)


def _join_refusal(error: AppError) -> CloseCode:
    """The close code of a refused join: one meaning each (docs/clinic-protocol.md)."""
    if isinstance(error, AppointmentClosed):
        return CloseCode.APPOINTMENT_CLOSED
    if isinstance(error, RoomNotOpen):
        return CloseCode.ROOM_NOT_OPEN
    if error.status_code == 404:
        return CloseCode.NOT_INVITED
    return CloseCode.INVALID_JOIN


async def _session(websocket: WebSocket, settings: Settings) -> None:
    pool: asyncpg.Pool = websocket.app.state.pool
    rooms: Rooms = websocket.app.state.clinic_rooms
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), JOIN_TIMEOUT)
        join = signalling.parse(raw)
        if not isinstance(join, signalling.Join):
            raise MessageInvalid("The first message must be join.")
    except TimeoutError:
        await _refuse(websocket, MessageInvalid("No join message arrived."), CloseCode.INVALID_JOIN)
        return
    except AppError as error:
        await _refuse(websocket, error, CloseCode.INVALID_JOIN)
        return
    async with pool.acquire() as proxy:
        db = cast(asyncpg.Connection, proxy)
        caller = await identify(db, websocket, join.token)
        if caller is None:
            await _refuse(
                websocket,
                Unauthenticated("Sign in or open your invitation link again."),
                CloseCode.NOT_SIGNED_IN,
            )
            return
        try:
            participant = await presence.locate(
                db, caller, clinic=join.clinic, appointment=join.appointment, settings=settings
            )
            appointment = await joining.appointment_view(db, participant.appointment_id)
        except AppError as error:
            await _refuse(websocket, error, _join_refusal(error))
            return
    async with rooms.room(participant.session_id) as room:
        async with pool.acquire() as proxy:
            seat, resumed = await presence.take_seat(
                cast(asyncpg.Connection, proxy),
                participant,
                caller,
                connection_id=uuid4(),
                resume=join.resume,
                process_id=rooms.process_id,
            )
        connection = Connection(
            seat,
            starts_at=appointment.starts_at if appointment else None,
            clinician_name=appointment.clinician_name if appointment else "",
        )
        writer = asyncio.create_task(_write(websocket, connection))
        ice = ice_config(settings, str(seat.participant_id))
        connection.send(
            Welcome(
                participant=seat.participant_id,
                kind=seat.kind,
                gen=seat.gen,
                resumed=resumed,
                clinic=seat.session_id,
                appointment=seat.appointment_id,
                heartbeat_seconds=HEARTBEAT_SECONDS,
                ice_servers=[IceServerOut.model_validate(s.model_dump()) for s in ice.ice_servers],
            )
        )
        handler = _Handler(websocket, connection, caller, pool, websocket.app.state.clinic_peers, settings)
        reason = "closed"
        missed_after = join.last_signal if resumed else None
        try:
            async with rooms.joining(room, connection, missed_after=missed_after):
                await rooms.sync(connection)
                reason = await handler.serve()
        finally:
            await handler.cleanup()
            async with pool.acquire() as proxy:
                await presence.leave_seat(cast(asyncpg.Connection, proxy), seat, reason)
            connection.close(CloseCode.NORMAL, reason)
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(writer, 2)


async def _write(websocket: WebSocket, connection: Connection) -> None:
    """The only task that sends on the socket, so messages never interleave."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        while (text := await connection.outbox.get()) is not None:
            await websocket.send_text(text)
        await websocket.close(
            code=connection.close_code or CloseCode.NORMAL, reason=connection.close_reason[:100]
        )


class _Handler:
    """Reads one socket's messages in order and acts on each; refusals are answered, never fatal."""

    def __init__(
        self,
        websocket: WebSocket,
        connection: Connection,
        caller: Caller,
        pool: asyncpg.Pool,
        peers: PeerRegistry,
        settings: Settings,
    ) -> None:
        self.websocket, self.connection, self.caller = websocket, connection, caller
        self.seat: Seat = connection.seat
        self.pool, self.peers, self.settings = pool, peers, settings
        self.echo: EchoPeer | None = None
        self.bucket = _Bucket()

    async def serve(self) -> str:
        while self.connection.close_code is None:
            try:
                message = await asyncio.wait_for(self.websocket.receive(), SILENCE_SECONDS)
            except TimeoutError:
                self.connection.close(CloseCode.NO_HEARTBEAT, "no heartbeat")
                return "no heartbeat"
            if message["type"] == "websocket.disconnect":
                return "disconnected"
            raw = message.get("text") or message.get("bytes") or b""
            try:
                if not self.bucket.take():
                    raise TooManyMessages("Too many messages; slow down.")
                await self.dispatch(signalling.parse(raw))
            except AppError as error:
                self.connection.send(
                    Error(code=error.code, detail=error.detail, refused=signalling.message_type(raw))
                )
        return self.connection.close_reason or "closed"

    async def dispatch(self, message: ClientMessage) -> None:
        if isinstance(message, signalling.Ping):
            self.connection.send(Pong())
        elif isinstance(message, signalling.Join):
            raise MessageInvalid("Already joined.")
        elif isinstance(message, signalling.CLINICIAN_ONLY) and self.seat.kind != "clinician":
            raise ClinicForbidden("Only the clinician running the clinic can do that.")
        elif isinstance(message, signalling.Precall):
            await self._precall(message)
        elif isinstance(message, signalling.PrecallResult):
            await self._precall_result(message)
        elif isinstance(message, signalling.Invite):
            await self._invite(message)
        else:
            async with self.pool.acquire() as proxy:
                await self._act(cast(asyncpg.Connection, proxy), message)

    async def _act(self, db: asyncpg.Connection, message: ClientMessage) -> None:
        if isinstance(message, signalling.Testing):
            await presence.testing(db, self.seat)
        elif isinstance(message, signalling.Ready):
            await presence.ready(db, self.seat)
        elif isinstance(message, signalling.RELAYED):
            body = message.model_dump(mode="json", exclude={"to"})
            await presence.relay(db, self.seat, message.to, body)
        elif isinstance(message, signalling.Leave):
            await presence.leave(db, self.seat)
        elif isinstance(message, signalling.Quality):
            await presence.quality(db, self.seat, message.sample.model_dump())
        elif isinstance(message, signalling.Admit):
            await presence.admit(db, self.seat, message.participant)
        elif isinstance(message, signalling.Hold):
            await presence.hold(db, self.seat, message.participant)
        elif isinstance(message, signalling.Message):
            await presence.message(db, self.seat, message.to, message.text)
        elif isinstance(message, signalling.End):
            await presence.end(db, self.seat, message.appointment)

    async def _precall(self, message: signalling.Precall) -> None:
        if self.echo is not None:
            await self.peers.release(self.echo, "replaced by a new test")
        self.echo, answer = await self.peers.open_echo(message.description)
        self.connection.send(PrecallAnswer(description=answer))

    async def _precall_result(self, message: signalling.PrecallResult) -> None:
        if self.echo is None:
            raise MessageInvalid("No connection test is running.")
        echo, self.echo = self.echo, None
        verdict = await self.peers.verdict(echo, message.stats)
        async with self.pool.acquire() as proxy:
            await presence.save_verdict(cast(asyncpg.Connection, proxy), self.seat, verdict)
        self.connection.send(PrecallVerdict(verdict=verdict))

    async def _invite(self, message: signalling.Invite) -> None:
        if self.caller.user is None:
            raise ClinicForbidden()
        try:
            body = GuestCreate.model_validate(
                {"name": message.name, "role": message.role, "email": message.email}
            )
        except ValidationError as exc:
            raise MessageInvalid(f"invite: {exc.errors()[0]['msg']}") from None
        async with self.pool.acquire() as proxy:
            found = await service.invite_guest(
                cast(asyncpg.Connection, proxy), self.caller.user, message.appointment, body, self.settings
            )
        self.connection.send(
            Invited(participant=found.participant.id, name=found.participant.display_name, url=found.url)
        )

    async def cleanup(self) -> None:
        if self.echo is not None:
            await self.peers.release(self.echo, "socket closed")
            self.echo = None
