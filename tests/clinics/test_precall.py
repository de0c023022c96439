"""The pre-call test against the server's own aiortc peer: echo, measurements, verdict, limits."""

from __future__ import annotations

import asyncio
import contextlib
import time

import asyncpg
import httpx
import pytest
from aiortc import AudioStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from backend.clinics import media
from backend.clinics.media import PeerRegistry
from backend.clinics.signalling import SessionDescription
from backend.core.config import Settings
from tests.clinics.agents import SmallVideo, Socket
from tests.clinics.test_call import ready_clinic
from tests.conftest import Server


class Browser:
    """What the join page does for the test, with aiortc in place of the browser."""

    def __init__(self, *, video: bool = True) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.video = SmallVideo() if video else None
        self.pc.addTrack(AudioStreamTrack())
        if self.video:
            self.pc.addTrack(self.video)
        self.echoed = {"audio": 0, "video": 0}
        self._readers: list[asyncio.Task[None]] = []

        @self.pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            self._readers.append(asyncio.create_task(self._count(track)))

    async def _count(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(Exception):
            while True:
                await track.recv()
                self.echoed[track.kind] += 1

    async def offer(self) -> dict[str, str]:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return {"type": "offer", "sdp": self.pc.localDescription.sdp}

    async def accept(self, answer: dict[str, str]) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))

    async def wait_echo(self, kind: str, frames: int, within: float = 15) -> None:
        deadline = time.monotonic() + within
        while self.echoed[kind] < frames:
            assert time.monotonic() < deadline, f"only {self.echoed[kind]} {kind} frames echoed"
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        for reader in self._readers:
            reader.cancel()
        await self.pc.close()


async def test_precall_echo_gives_a_verdict_the_nurse_can_see(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic, nurse_token, employee_token = await ready_clinic(client, conn)
    nurse, employee = Socket(server.url, "nurse"), Socket(server.url, "employee")
    browser = Browser()
    try:
        await nurse.open({"clinic": clinic.session["id"], "token": nurse_token})
        me = await employee.open({"appointment": clinic.appointments[0]["id"], "token": employee_token})
        await employee.send({"t": "testing"})
        await employee.send({"t": "precall", "description": await browser.offer()})
        answer = await employee.expect("precall_answer")
        await browser.accept(answer["description"])
        await browser.wait_echo("video", 15)
        await browser.wait_echo("audio", 15)
        stats = {
            "rtt_ms": 2,
            "jitter_ms": 1,
            "loss_pct": 0,
            "out_bitrate_kbps": 600,
            "frames_decoded": browser.echoed["video"],
            "candidate_type": "host",
            "camera": True,
            "microphone": True,
        }
        await employee.send({"t": "precall_result", "stats": stats})
        verdict = (await employee.expect("precall_verdict"))["verdict"]
        assert verdict["level"] == "good", verdict
        assert verdict["headline"] == "Your connection is good for a video call."
        assert verdict["measures"]["frames_received"] > 10
        seen = await nurse.expect(lambda m: m["t"] == "participant" and m["entry"]["verdict"] is not None)
        assert seen["entry"]["participant"] == me["participant"]
        assert seen["entry"]["verdict"]["level"] == "good"
    finally:
        await browser.close()
        await employee.close()
        await nurse.close()
    stored = await conn.fetchval(
        "SELECT verdict->>'level' FROM clinic_participant WHERE id = $1::uuid", me["participant"]
    )
    assert stored == "good"


@pytest.mark.parametrize("settings_overrides", [{"max_server_peers": 1}])
async def test_server_peers_are_bounded_and_a_stalled_one_is_closed(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(media, "STALL_SECONDS", 1.0)
    clinic, nurse_token, employee_token = await ready_clinic(client, conn)
    first, second = Socket(server.url, "employee"), Socket(server.url, "nurse")
    one, two = Browser(), Browser(video=False)
    try:
        await first.open({"appointment": clinic.appointments[0]["id"], "token": employee_token})
        await second.open({"clinic": clinic.session["id"], "token": nurse_token})
        await first.send({"t": "precall", "description": await one.offer()})
        await one.accept((await first.expect("precall_answer"))["description"])
        await one.wait_echo("video", 5)

        await second.send({"t": "precall", "description": await two.offer()})
        busy = await second.expect("error", refused="precall")
        assert busy["code"] == "precall_busy"

        for sender in one.pc.getSenders():  # camera and microphone stop: the watchdog frees the place
            sender.track.stop()
        await asyncio.sleep(3)
        await first.send({"t": "precall_result", "stats": {"camera": True, "frames_decoded": 30}})
        stopped = (await first.expect("precall_verdict"))["verdict"]
        assert stopped["level"] == "failed"
        assert stopped["measures"]["stopped"] == "media stalled"
        await first.send({"t": "precall_result", "stats": {"camera": True}})
        assert (await first.expect("error", refused="precall_result"))["code"] == "message_invalid"

        await second.send({"t": "precall", "description": await two.offer()})
        await two.accept((await second.expect("precall_answer"))["description"])
        await two.wait_echo("audio", 10)
        await second.send({"t": "precall_result", "stats": {"microphone": True, "rtt_ms": 700}})
        verdict = (await second.expect("precall_verdict"))["verdict"]
        assert verdict["audio_only"] is True
        assert verdict["level"] == "poor"
    finally:
        for browser in (one, two):
            await browser.close()
        await first.close()
        await second.close()


async def test_registry_closes_its_peers_on_shutdown() -> None:
    registry = PeerRegistry(Settings(max_server_peers=2))
    await registry.start()
    browser = Browser()
    try:
        peer, answer = await registry.open_echo(SessionDescription.model_validate(await browser.offer()))
        await browser.accept(answer.model_dump())
        await browser.wait_echo("video", 5)
        assert registry.active == 1
        await registry.stop()
        assert registry.active == 0
        assert peer.closed
        assert peer.pc.connectionState == "closed"
    finally:
        await browser.close()
