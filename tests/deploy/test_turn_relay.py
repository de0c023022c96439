"""A real call through a real TURN server: Debian's coturn on loopback, started with the
deployment's own turnserver.conf, two shared secrets (as during a rotation), and two aiortc peers
forced to relay (iceTransportPolicy "relay") with credentials minted by the app's endpoint."""

from __future__ import annotations

import asyncio
import random
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aioice.ice
import httpx
import pytest
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCRtpTransceiver,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from backend.auth.schemas import Role
from tests.clinics.agents import SmallVideo
from tests.conftest import Server, free_port
from tests.factories import login, make_org, make_user

CONF = Path(__file__).resolve().parents[2] / "deploy" / "turn" / "turnserver.conf"
SECRET = "deploy-test-turn-secret-0123456789abcdef"  # made up; 40 characters
RETIRED_SECRET = "retired-test-turn-secret-9876543210fedcba"
FRAMES = 30  # one second of video each way


@dataclass
class Turn:
    port: int
    relay_ports: range


@pytest.fixture(autouse=True)
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every candidate on loopback (aioice otherwise skips 127.0.0.1 and uses other interfaces)."""
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[Turn]:
    turnserver = shutil.which("turnserver") or "/usr/bin/turnserver"
    port = free_port()
    relay_base = random.randrange(50_000, 60_000, 100)
    log = tmp_path / "turn.log"
    command = [
        turnserver, "-c", str(CONF),
        "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", f"--listening-port={port}",
        f"--min-port={relay_base}", f"--max-port={relay_base + 99}",
        f"--static-auth-secret={RETIRED_SECRET}", f"--static-auth-secret={SECRET}", "--realm=test.local",
        "--allow-loopback-peers", "--no-tls", "--no-dtls", "--log-file=stdout",
        f"--pidfile={tmp_path / 'turn.pid'}", f"--db={tmp_path / 'turndb'}",
    ]  # fmt: skip
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out)  # noqa: S603  (fixed command)
    try:
        deadline = time.monotonic() + 15
        while not _listening(port):
            assert process.poll() is None, f"coturn exited: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "coturn did not start listening"
            time.sleep(0.05)
        yield Turn(port, range(relay_base, relay_base + 100))
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def settings_overrides(coturn: Turn) -> dict[str, object]:
    return {
        "stun_urls": [f"stun:127.0.0.1:{coturn.port}"],
        "turn_urls": [f"turn:127.0.0.1:{coturn.port}?transport=udp"],
        "turn_secret": SECRET,
    }


async def relay_only_configuration(client: httpx.AsyncClient, headers: dict[str, str]) -> RTCConfiguration:
    """What a browser does: ask the app for ICE servers, then insist on the relay."""
    response = await client.get("/api/v1/clinics/ice-servers", headers=headers)
    assert response.status_code == 200, response.text
    servers = [
        RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
        for s in response.json()["ice_servers"]
    ]
    assert any(s.username for s in servers), "the app minted TURN credentials"
    return RTCConfiguration(iceServers=servers, iceTransportPolicy=RTCIceTransportPolicy.RELAY)


class Peer:
    def __init__(self, config: RTCConfiguration) -> None:
        self.pc = RTCPeerConnection(config)
        self.pc.addTrack(SmallVideo())
        self.frames = 0
        self.enough = asyncio.Event()  # FRAMES frames received
        self.first_frame = asyncio.get_running_loop().create_future()
        self.readers: list[asyncio.Task[None]] = []
        self.pc.on("track", lambda track: self.readers.append(asyncio.create_task(self._read(track))))

    async def _read(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                await track.recv()
                self.frames += 1
                if self.frames >= FRAMES:
                    self.enough.set()
                if not self.first_frame.done():
                    self.first_frame.set_result(time.perf_counter())
        except MediaStreamError:
            return

    def nominated_pair(self) -> list[tuple[str, int]]:
        """(type, port) of the local and remote candidate ICE settled on (aioice's own record)."""
        transceiver: RTCRtpTransceiver = self.pc.getTransceivers()[0]
        connection = transceiver.receiver.transport.transport._connection
        pair = connection._nominated[1]
        return [(c.type, c.port) for c in (pair.local_candidate, pair.remote_candidate)]

    async def close(self) -> None:
        await self.pc.close()
        for reader in self.readers:
            reader.cancel()


async def connected(pc: RTCPeerConnection) -> None:
    while pc.connectionState != "connected":
        assert pc.connectionState not in ("failed", "closed"), pc.connectionState
        await asyncio.sleep(0.01)


@pytest.fixture
async def peers(server: Server, conn) -> AsyncIterator[tuple[Peer, Peer]]:
    provider = await make_org(conn, "provider")
    employer = await make_org(conn, "employer", provider)
    nurse = await make_user(conn, provider, Role.clinician)
    employee = await make_user(conn, employer, Role.employee)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        nurse_config = await relay_only_configuration(client, await login(client, nurse))
        employee_config = await relay_only_configuration(client, await login(client, employee))
    caller, callee = Peer(nurse_config), Peer(employee_config)
    yield caller, callee
    await caller.close()
    await callee.close()


async def test_a_call_forced_through_coturn_carries_media_both_ways(
    peers: tuple[Peer, Peer], coturn: Turn
) -> None:
    caller, callee = peers
    started = time.perf_counter()
    await caller.pc.setLocalDescription(await caller.pc.createOffer())
    offer = caller.pc.localDescription
    await callee.pc.setRemoteDescription(offer)
    await callee.pc.setLocalDescription(await callee.pc.createAnswer())
    answer = callee.pc.localDescription
    await caller.pc.setRemoteDescription(answer)
    for sdp in (offer.sdp, answer.sdp):
        types = {line.split(" typ ")[1].split()[0] for line in sdp.splitlines() if " typ " in line}
        assert types == {"relay"}, f"only relay candidates are offered, got {types}"

    await asyncio.wait_for(asyncio.gather(connected(caller.pc), connected(callee.pc)), 20)
    to_connected = time.perf_counter() - started
    first = await asyncio.wait_for(asyncio.gather(caller.first_frame, callee.first_frame), 20)
    await asyncio.wait_for(asyncio.gather(caller.enough.wait(), callee.enough.wait()), 20)

    print(
        f"\nTURN relay (coturn on loopback, relay only): connected in {to_connected * 1000:.0f} ms, "
        f"first frame after {(max(first) - started) * 1000:.0f} ms; frames received: "
        f"nurse {caller.frames}, employee {callee.frames}"
    )
    for peer in (caller, callee):
        for kind, port in peer.nominated_pair():
            assert kind == "relay"
            assert port in coturn.relay_ports, "the relayed address is one of coturn's relay ports"
    assert caller.frames >= FRAMES, "the nurse receives the employee's video"
    assert callee.frames >= FRAMES, "the employee receives the nurse's video"
