"""Test clients for ``/ws/clinic``: a socket that records what it is told, and a call agent that
behaves like the browser pages (offers to the peers it is impolite to, answers the others) using
real aiortc peer connections on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from aiortc.mediastreams import MediaStreamTrack
from av import VideoFrame
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TIMEOUT = 15.0
Match = Callable[[dict[str, Any]], bool]


class Socket:
    """One participant's WebSocket: every message is kept, and can be awaited by type."""

    def __init__(self, base_url: str, label: str) -> None:
        self.url = base_url.replace("http://", "ws://") + "/ws/clinic"
        self.label = label
        self.ws: ClientConnection | None = None
        self.seen: list[dict[str, Any]] = []
        self._cursor = 0
        self._changed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self.listeners: list[Callable[[dict[str, Any]], Any]] = []
        self.closed_code: int | None = None

    async def open(self, join: dict[str, Any], *, origin: str | None = None) -> dict[str, Any]:
        """Connect and join; returns the welcome (or the error that refused the join)."""
        headers = {"Origin": origin} if origin else None
        self.ws = await connect(self.url, additional_headers=headers, max_size=2**22)
        self.closed_code = None
        self._reader = asyncio.create_task(self._read(self.ws))
        await self.send({"t": "join", **join})
        return await self.expect(lambda m: m["t"] in ("welcome", "error"))

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                message = json.loads(raw)
                self.seen.append(message)
                self._changed.set()
                for listener in self.listeners:
                    result = listener(message)
                    if asyncio.iscoroutine(result):
                        await result
        except ConnectionClosed:
            pass  # a dropped socket simply stops reading; listener and decoding errors still surface
        finally:
            self.closed_code = ws.close_code if ws.close_code is not None else 1006
            self._changed.set()

    async def send(self, message: dict[str, Any] | str) -> None:
        assert self.ws is not None
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def expect(self, match: Match | str, within: float = TIMEOUT, **fields: Any) -> dict[str, Any]:
        """The next message (after the last one expected) that matches; earlier ones are skipped."""
        test = match if callable(match) else (lambda m, t=match: m.get("t") == t)
        deadline = time.monotonic() + within
        while True:
            for index in range(self._cursor, len(self.seen)):
                message = self.seen[index]
                if test(message) and all(message.get(k) == v for k, v in fields.items()):
                    self._cursor = index + 1
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                recent = [m.get("t") for m in self.seen[-15:]]
                raise AssertionError(
                    f"{self.label}: no {match!r} {fields} within {within}s; recent: {recent}"
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def drop(self) -> None:
        """Lose the connection without a closing handshake, as a network drop would."""
        assert self.ws is not None
        self.ws.transport.abort()
        if self._reader:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._reader, 5)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._reader, 5)


class SmallVideo(VideoStreamTrack):
    """A 160x120 moving pattern: cheap to encode, and its frames are not all identical."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        self.count += 1
        image = numpy.full((120, 160, 3), (self.count * 7) % 255, dtype=numpy.uint8)
        frame = VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts, frame.time_base = pts, time_base or fractions.Fraction(1, 90_000)
        return frame


@dataclass
class Leg:
    pc: RTCPeerConnection
    pc_id: str
    peer_gen: int
    frames: int = 0
    readers: list[asyncio.Task[None]] = field(default_factory=list)


class CallAgent:
    """Joins calls as the pages do: a fresh peer connection per peer generation, offers where impolite."""

    def __init__(self, socket: Socket) -> None:
        self.socket = socket
        self.legs: dict[str, Leg] = {}
        self.frames: dict[str, int] = {}  # frames decoded from each peer, over all its legs
        self.errors: list[str] = []
        self.answer_gate: asyncio.Event | None = None  # when set by a test, answers wait for it
        socket.listeners.append(self._on_message)

    async def _on_message(self, m: dict[str, Any]) -> None:
        try:
            await self._handle(m)
        except Exception as exc:  # surfaced by the test through self.errors
            self.errors.append(f"{m.get('t')}: {exc!r}")

    async def _handle(self, m: dict[str, Any]) -> None:
        kind = m["t"]
        if kind == "call":
            wanted = {p["participant"]: p for p in m["peers"]}
            for pid in list(self.legs):
                if pid not in wanted or self.legs[pid].peer_gen != wanted[pid]["gen"]:
                    await self._drop_leg(pid)
            for peer in m["peers"]:
                if not peer["polite"] and peer["participant"] not in self.legs:
                    await self._offer(peer["participant"], peer["gen"])
        elif kind == "peer":
            peer, status = m["peer"], m["status"]
            if status == "left" or (status == "joined" and peer["polite"]):
                await self._drop_leg(peer["participant"])
            leg = self.legs.get(peer["participant"])
            stuck = status == "connected" and (leg is None or leg.pc.connectionState != "connected")
            if not peer["polite"] and (status == "joined" or stuck):
                await self._offer(peer["participant"], peer["gen"])
        elif kind == "sdp":
            await self._on_sdp(m)

    async def _drop_leg(self, pid: str) -> None:
        leg = self.legs.pop(pid, None)
        if leg is not None:
            for reader in leg.readers:
                reader.cancel()
            await leg.pc.close()

    def _new_leg(self, pid: str, pc_id: str, peer_gen: int) -> Leg:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        leg = Leg(pc, pc_id, peer_gen)
        pc.addTrack(SmallVideo())

        @pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            leg.readers.append(asyncio.create_task(self._count(pid, leg, track)))

        self.legs[pid] = leg
        return leg

    async def _count(self, pid: str, leg: Leg, track: MediaStreamTrack) -> None:
        with contextlib.suppress(Exception):
            while True:
                await track.recv()
                leg.frames += 1
                self.frames[pid] = self.frames.get(pid, 0) + 1

    async def _offer(self, pid: str, peer_gen: int) -> None:
        await self._drop_leg(pid)
        leg = self._new_leg(pid, uuid.uuid4().hex[:12], peer_gen)
        await leg.pc.setLocalDescription(await leg.pc.createOffer())
        description = {"type": "offer", "sdp": leg.pc.localDescription.sdp}
        await self.socket.send({"t": "sdp", "to": pid, "pc": leg.pc_id, "description": description})

    async def _on_sdp(self, m: dict[str, Any]) -> None:
        pid, description = m["from"], m["description"]
        if description["type"] == "offer":
            leg = self.legs.get(pid)
            if leg is None or leg.pc_id != m["pc"]:
                await self._drop_leg(pid)
                leg = self._new_leg(pid, m["pc"], m["from_gen"])
            await leg.pc.setRemoteDescription(RTCSessionDescription(description["sdp"], "offer"))
            await leg.pc.setLocalDescription(await leg.pc.createAnswer())
            if self.answer_gate is not None:
                await self.answer_gate.wait()
            answer = {"type": "answer", "sdp": leg.pc.localDescription.sdp}
            await self.socket.send({"t": "sdp", "to": pid, "pc": leg.pc_id, "description": answer})
        else:
            leg = self.legs.get(pid)
            if leg is not None and leg.pc_id == m["pc"]:
                await leg.pc.setRemoteDescription(RTCSessionDescription(description["sdp"], "answer"))

    async def frames_from(self, pid: str, more_than: int, within: float = TIMEOUT) -> int:
        deadline = time.monotonic() + within
        while self.frames.get(pid, 0) <= more_than:
            assert not self.errors, self.errors
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.socket.label}: {self.frames.get(pid, 0)} frames from {pid}")
            await asyncio.sleep(0.05)
        return self.frames[pid]

    def move_to(self, socket: Socket) -> None:
        """Carry on on another socket (the same person, reconnected elsewhere)."""
        self.socket = socket
        socket.listeners.append(self._on_message)

    async def close(self) -> None:
        for pid in list(self.legs):
            await self._drop_leg(pid)
