"""The server's own WebRTC peers (aiortc): the pre-call echo test.

A browser sends its camera and microphone; the server sends the same frames straight back (the
browser then measures the full round trip) and measures what it received. The registry bounds
how many run at once in this process (``OHCONNECT_MAX_SERVER_PEERS``), puts a time limit on every
step, closes a peer whose media stalls (frame-stall watchdog) or which outlives its test, and
closes them all at shutdown. Consultations never pass through here: their media is browser to
browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from av.frame import Frame
from av.packet import Packet

from backend.clinics.errors import PeersBusy
from backend.clinics.signalling import ClientStats, SessionDescription
from backend.clinics.turn import rtc_configuration
from backend.clinics.verdict import precall_verdict
from backend.core.config import Settings

logger = logging.getLogger(__name__)

STEP_TIMEOUT = 10.0  # each negotiation step, and the wait for the connection
FIRST_FRAME_TIMEOUT = 10.0  # from the answer to the first frame
STALL_SECONDS = 4.0  # no frame for this long after the first: the media has stalled
LIFETIME_SECONDS = 60.0  # a test peer never lives longer than this
_CLOCK_RATE = {"audio": 48_000, "video": 90_000}


class EchoTrack(MediaStreamTrack):
    """Sends back what the browser sent, noting each frame for the watchdog and the verdict."""

    def __init__(self, source: MediaStreamTrack, peer: EchoPeer) -> None:
        super().__init__()
        self.kind = source.kind
        self._source = source
        self._peer = peer

    async def recv(self) -> Frame | Packet[Any]:
        frame = await self._source.recv()
        self._peer.saw_frame(self.kind)
        return frame


class EchoPeer:
    def __init__(self, settings: Settings) -> None:
        self.pc = RTCPeerConnection(rtc_configuration(settings))
        self.frames: dict[str, int] = {"audio": 0, "video": 0}
        self.last_frame_at: float | None = None
        self.answered_at: float | None = None
        self.started_at = time.monotonic()
        self.closed_reason: str | None = None
        self._closed = asyncio.Event()

        @self.pc.on("track")
        def _echo(track: MediaStreamTrack) -> None:
            self.pc.addTrack(EchoTrack(track, self))

        @self.pc.on("connectionstatechange")
        async def _state() -> None:
            if self.pc.connectionState in ("failed", "closed"):
                await self.close(f"connection {self.pc.connectionState}")

    def saw_frame(self, kind: str) -> None:
        self.frames[kind] = self.frames.get(kind, 0) + 1
        self.last_frame_at = time.monotonic()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def answer(self, offer: SessionDescription) -> SessionDescription:
        await asyncio.wait_for(
            self.pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer")), STEP_TIMEOUT
        )
        answer = await asyncio.wait_for(self.pc.createAnswer(), STEP_TIMEOUT)
        await asyncio.wait_for(self.pc.setLocalDescription(answer), STEP_TIMEOUT)  # gathers all candidates
        self.answered_at = time.monotonic()
        local = self.pc.localDescription
        return SessionDescription(type="answer", sdp=local.sdp)

    def stalled(self, now: float) -> str | None:
        """Why the watchdog should close this peer now, if it should."""
        if now - self.started_at > LIFETIME_SECONDS:
            return "test took too long"
        if self.last_frame_at is None:
            waited = now - (self.answered_at or self.started_at)
            return "no media arrived" if waited > FIRST_FRAME_TIMEOUT else None
        return "media stalled" if now - self.last_frame_at > STALL_SECONDS else None

    async def measures(self) -> dict[str, float]:
        """Loss and jitter of what arrived here; round trip reported back by the browser (RTCP)."""
        found: dict[str, float] = {}
        with contextlib.suppress(Exception):  # stats of a half-closed peer are best effort
            report = await asyncio.wait_for(self.pc.getStats(), STEP_TIMEOUT)
            received = lost = 0
            for stats in report.values():
                if stats.type == "inbound-rtp":
                    received += stats.packetsReceived
                    lost += max(stats.packetsLost, 0)
                    jitter_ms = 1000 * stats.jitter / _CLOCK_RATE.get(stats.kind, 90_000)
                    found["jitter_ms"] = max(found.get("jitter_ms", 0.0), round(jitter_ms, 1))
                elif stats.type == "remote-inbound-rtp" and stats.roundTripTime is not None:
                    found["rtt_ms"] = max(found.get("rtt_ms", 0.0), round(1000 * stats.roundTripTime, 1))
            if received + lost:
                found["loss_pct"] = round(100 * lost / (received + lost), 2)
        return found

    async def close(self, reason: str) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        self.closed_reason = reason
        with contextlib.suppress(Exception):  # closing must never fail the caller
            await asyncio.wait_for(self.pc.close(), STEP_TIMEOUT)


class PeerRegistry:
    """This process's server-side peers, bounded in number; owned by the app's lifespan."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._limit = settings.max_server_peers
        self._peers: set[EchoPeer] = set()
        self._watchdog: asyncio.Task[None] | None = None

    @property
    def active(self) -> int:
        return len(self._peers)

    async def start(self) -> None:
        self._watchdog = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        if self._watchdog:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        await asyncio.gather(*(peer.close("server stopping") for peer in list(self._peers)))
        self._peers.clear()

    async def open_echo(self, offer: SessionDescription) -> tuple[EchoPeer, SessionDescription]:
        if len(self._peers) >= self._limit:
            raise PeersBusy("The connection test is busy right now. You can continue without it.")
        peer = EchoPeer(self._settings)
        self._peers.add(peer)
        try:
            return peer, await peer.answer(offer)
        except BaseException:  # failed or cancelled: the peer never outlives its negotiation
            await self.release(peer, "negotiation failed")
            raise

    async def release(self, peer: EchoPeer, reason: str) -> None:
        self._peers.discard(peer)
        await peer.close(reason)

    async def verdict(self, peer: EchoPeer, stats: ClientStats) -> dict[str, Any]:
        """The plain-language verdict from both ends' measurements; the peer is closed."""
        server = await peer.measures()
        audio_only = not stats.camera
        kind = "audio" if audio_only else "video"
        arrived = peer.frames.get(kind, 0) > 0 and (audio_only or (stats.frames_decoded or 0) > 0)
        if peer.closed:  # the watchdog stopped it: the media stalled or never came
            arrived = False
        measures: dict[str, Any] = {
            "rtt_ms": stats.rtt_ms if stats.rtt_ms is not None else server.get("rtt_ms"),
            "loss_pct": max(stats.loss_pct or 0.0, server.get("loss_pct", 0.0)),
            "jitter_ms": max(stats.jitter_ms or 0.0, server.get("jitter_ms", 0.0)),
            # A few seconds show the sender still ramping up; the bandwidth estimate helps.
            "bitrate_kbps": max(stats.out_bitrate_kbps or 0.0, stats.available_kbps or 0.0) or None,
            "frames_echoed": stats.frames_decoded,
            "frames_received": peer.frames.get(kind, 0),
            "candidate_type": stats.candidate_type,
            "stopped": peer.closed_reason,
        }
        await self.release(peer, "test finished")
        return precall_verdict(measures, audio_only=audio_only, media_arrived=arrived)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(1)
            now = time.monotonic()
            for peer in list(self._peers):
                reason = "closed" if peer.closed else peer.stalled(now)
                if reason:
                    logger.info("closing pre-call peer: %s", reason)
                    await self.release(peer, reason)
