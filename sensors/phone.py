"""``ohconnect simulate-phone``: stream simulated readings to a server as a phone would.

The sender signs in with the employee's bearer token, agrees to the collection statement (C6)
the server shows, starts a stream (getting its write-only device token) and sends one
``ReadingBatch`` a second from ``sensors.simulator``. Every batch is written to an on-disk
buffer before it is sent and removed only once the server has acknowledged it, so nothing is
lost when the network or the server fails, or when the sender itself is stopped: the next run
sends what was left first. Failed sends are retried in order with exponential backoff and
jitter; a repeat is harmless because the server is idempotent on (stream_id, seq).

Status handling: 200/201 acknowledged; 408, 425, 429, 5xx and network errors retried; any other
answer is permanent (the batch is moved to ``rejected/`` in the buffer and reported). Starting the
stream (consent, then the stream) and closing it are retried the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import httpx
import platformdirs

from sensors.protocol import DeviceKind, ReadingBatch
from sensors.simulator import reading_batches

RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})
DEVICES: tuple[DeviceKind, ...] = ("ble-hr", "ble-plx", "camera")
_MODELS = {
    "ble-hr": "Simulated chest strap",
    "ble-plx": "Simulated pulse oximeter",
    "camera": "Simulated phone camera",
}


@dataclass
class Report:
    stream_id: UUID | None = None
    acknowledged: int = 0  # batches the server confirmed it holds (201 new, or 200 a repeat)
    repeats: int = 0  # of which answered 200: the server had it already (an earlier reply was lost)
    retries: int = 0
    rejected: list[str] = field(default_factory=list)
    pending: int = 0  # still in the buffer at the end

    def line(self) -> str:
        return (
            f"stream {self.stream_id}: {self.acknowledged} batches stored "
            f"({self.repeats} resent after a lost reply), {self.retries} retries, "
            f"{len(self.rejected)} rejected, {self.pending} still buffered"
        )


class Buffer:
    """Batches not yet acknowledged, one JSON file each: ``<dir>/<stream>/<seq:010d>.json``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, stream_id: UUID, seq: int) -> Path:
        return self.root / str(stream_id) / f"{seq:010d}.json"

    def put(self, batch: ReadingBatch, device_token: str) -> None:
        path = self._path(batch.stream_id, batch.seq)
        path.parent.mkdir(parents=True, exist_ok=True)
        token_file = path.parent / "token"
        if not token_file.exists():
            token_file.write_text(device_token, "utf-8")
            token_file.chmod(0o600)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(batch.model_dump_json(exclude_none=True), "utf-8")
        tmp.replace(path)  # atomic: a crash leaves the old file or the new one, never half

    def done(self, batch: ReadingBatch) -> None:
        self._path(batch.stream_id, batch.seq).unlink(missing_ok=True)

    def reject(self, batch: ReadingBatch) -> None:
        path = self._path(batch.stream_id, batch.seq)
        target = self.root / "rejected" / str(batch.stream_id) / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        path.replace(target)

    def leftovers(self) -> list[tuple[str, list[ReadingBatch]]]:
        """Batches of earlier runs, per stream, with the device token they were sent with."""
        found = []
        for folder in sorted(p for p in self.root.glob("*-*-*-*-*") if p.is_dir()):
            files = sorted(folder.glob("*.json"))
            token_file = folder / "token"
            if files and token_file.exists():
                batches = [ReadingBatch.model_validate_json(f.read_text("utf-8")) for f in files]
                found.append((token_file.read_text("utf-8").strip(), batches))
        return found

    def count(self) -> int:
        return sum(1 for _ in self.root.glob("*-*-*-*-*/*.json"))


def default_buffer_dir() -> Path:
    return Path(platformdirs.user_cache_dir("ohconnect", appauthor=False)) / "phone-buffer"


@dataclass
class Backoff:
    """Exponential backoff with full jitter: 0.5 s, 1 s, 2 s ... up to ``cap`` seconds."""

    base: float = 0.5
    cap: float = 15.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0, min(self.cap, self.base * 2**attempt))


Sleep = Callable[[float], Awaitable[None]]


class Sender:
    """Sends batches in order, retrying each until the server acknowledges it."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        buffer: Buffer,
        report: Report,
        *,
        backoff: Backoff | None = None,
        sleep: Sleep = asyncio.sleep,
        max_attempts: int = 12,
        lose_replies: float = 0.0,
        rng: random.Random | None = None,
    ) -> None:
        self.http, self.buffer, self.report = http, buffer, report
        self.backoff = backoff or Backoff()
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.lose_replies = lose_replies  # simulated network drops: the reply never arrives
        self.rng = rng or random.Random(0)  # noqa: S311 - simulated drops, not security

    async def _attempt(self, batch: ReadingBatch, token: str) -> int | None:
        """The status code, or None when the reply was lost on the way."""
        stamped = batch.model_copy(update={"sent_at": datetime.now(UTC)})
        body = stamped.model_dump(mode="json", exclude_none=True)
        try:
            response = await self.http.post(
                "/api/v1/readings/batches", json=body, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.TransportError:
            return None
        if self.lose_replies and self.rng.random() < self.lose_replies:
            return None
        return response.status_code

    async def send(self, batch: ReadingBatch, token: str) -> bool:
        """True once acknowledged; False when the server refuses it for good (or it ran out of tries)."""
        for attempt in range(self.max_attempts):
            status = await self._attempt(batch, token)
            if status in (200, 201):
                self.buffer.done(batch)
                self.report.acknowledged += 1
                self.report.repeats += status == 200
                return True
            if status is not None and status not in RETRYABLE:
                self.buffer.reject(batch)
                self.report.rejected.append(f"seq {batch.seq}: HTTP {status}")
                return False
            self.report.retries += 1
            await self.sleep(self.backoff.delay(attempt))
        return False


async def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise RuntimeError(f"{what} failed: HTTP {response.status_code}: {detail}")
    return cast(dict[str, Any], response.json())


async def _call(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    body: dict[str, Any] | None = None,
    headers: dict[str, str],
    backoff: Backoff,
    sleep: Sleep,
    attempts: int = 8,
) -> httpx.Response:
    """One request, retried like a batch on network errors and retryable answers (5xx, 429...)."""
    for attempt in range(attempts):
        try:
            response = await http.request(method, url, json=body, headers=headers)
        except httpx.TransportError:
            if attempt == attempts - 1:
                raise
        else:
            if response.status_code not in RETRYABLE or attempt == attempts - 1:
                return response
        await sleep(backoff.delay(attempt))
    raise AssertionError("unreachable")  # the loop returns or raises on its last attempt


async def start_stream(
    http: httpx.AsyncClient,
    token: str,
    device: DeviceKind,
    *,
    backoff: Backoff | None = None,
    sleep: Sleep = asyncio.sleep,
) -> tuple[UUID, str]:
    """Agree to the statement the server shows, then start a stream: (stream id, device token).

    Each step is retried through a server or network outage. A start whose reply was lost is
    sent again, which leaves the first stream open and empty (the server has no way to match
    them); every batch goes to the stream whose token the phone holds."""
    auth = {"Authorization": f"Bearer {token}"}
    retry: dict[str, Any] = {"headers": auth, "backoff": backoff or Backoff(), "sleep": sleep}
    status = await _json(await _call(http, "GET", "/api/v1/readings/consent", **retry), "reading the consent")
    if status.get("consent") is None:
        agree = {"statement_version": status["statement"]["version"], "agree": True}
        await _json(await _call(http, "POST", "/api/v1/readings/consent", body=agree, **retry), "consent")
    created = await _json(
        await _call(
            http,
            "POST",
            "/api/v1/readings/streams",
            body={"device": {"kind": device, "model": _MODELS[device]}},
            **retry,
        ),
        "starting the stream",
    )
    return UUID(created["stream"]["id"]), str(created["device_token"])


@dataclass
class Options:
    server: str
    token: str
    bpm: float = 72.0
    seconds: int = 60
    device: DeviceKind = "ble-hr"
    seed: int = 0
    realtime: bool = True
    buffer_dir: Path = field(default_factory=default_buffer_dir)
    lose_replies: float = 0.0
    close: bool = True


async def _resend_leftovers(sender: Sender, buffer: Buffer) -> None:
    for token, batches in buffer.leftovers():
        for batch in batches:
            await sender.send(batch, token)


async def run(
    options: Options, *, transport: httpx.AsyncBaseTransport | None = None, sleep: Sleep = asyncio.sleep
) -> Report:
    """Stream ``options.seconds`` one-second batches; returns what happened."""
    report = Report()
    buffer = Buffer(options.buffer_dir)
    timeout = httpx.Timeout(10.0, connect=5.0)
    async with httpx.AsyncClient(base_url=options.server, transport=transport, timeout=timeout) as http:
        rng = random.Random(options.seed)  # noqa: S311 - backoff jitter and simulated drops
        sender = Sender(
            http,
            buffer,
            report,
            sleep=sleep,
            lose_replies=options.lose_replies,
            rng=rng,
            backoff=Backoff(rng=rng),
        )
        await _resend_leftovers(sender, buffer)
        stream_id, device_token = await start_stream(
            http, options.token, options.device, backoff=sender.backoff, sleep=sleep
        )
        report.stream_id = stream_id
        now = datetime.now(UTC)
        started = now if options.realtime else now - timedelta(seconds=options.seconds + 1)
        clock = time.monotonic()
        for batch in reading_batches(
            options.device,
            bpm=options.bpm,
            seconds=options.seconds,
            seed=options.seed,
            stream_id=stream_id,
            started_at=started,
        ):
            if options.realtime:  # a batch leaves once its last reading has been taken
                await sleep(max(0.0, clock + batch.seq + 1 - time.monotonic()))
            buffer.put(batch, device_token)
            await sender.send(batch, device_token)
        if options.close:
            await _call(
                http,
                "POST",
                f"/api/v1/readings/streams/{stream_id}/close",
                headers={"Authorization": f"Bearer {device_token}"},
                backoff=sender.backoff,
                sleep=sleep,
            )
    report.pending = buffer.count()
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", required=True, help="base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", required=True, help="the employee's bearer token (from sign-in)")
    parser.add_argument("--bpm", type=float, default=72.0, help="simulated heart rate (default 72)")
    parser.add_argument("--seconds", type=int, default=60, help="length of the measurement (default 60)")
    parser.add_argument(
        "--device", choices=DEVICES, default="ble-hr", help="simulated device (default ble-hr)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of the simulation")
    parser.add_argument(
        "--fast", action="store_true", help="send as fast as possible, not one batch a second"
    )
    parser.add_argument("--buffer-dir", type=Path, help="on-disk buffer of unsent batches")
    parser.add_argument(
        "--lose-replies", type=float, default=0.0, help="share of replies to drop (0-1), to test retries"
    )


def options_from(args: argparse.Namespace) -> Options:
    if not 20 <= args.bpm <= 250:
        raise ValueError("--bpm must be between 20 and 250")
    if not 1 <= args.seconds <= 24 * 3600:
        raise ValueError("--seconds must be between 1 and 86400")
    if not 0 <= args.lose_replies < 1:
        raise ValueError("--lose-replies must be at least 0 and below 1")
    return Options(
        server=args.server.rstrip("/"),
        token=args.token,
        bpm=args.bpm,
        seconds=args.seconds,
        device=args.device,
        seed=args.seed,
        realtime=not args.fast,
        buffer_dir=args.buffer_dir or default_buffer_dir(),
        lose_replies=args.lose_replies,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="simulate-phone", description="Stream simulated pulse readings.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        report = asyncio.run(run(options_from(args)))
    except (ValueError, RuntimeError, httpx.HTTPError, OSError) as exc:
        sys.stderr.write(f"simulate-phone: error: {exc}\n")
        return 1
    sys.stdout.write(json.dumps({"report": report.line(), "rejected": report.rejected}) + "\n")
    return 0 if not report.rejected and report.pending == 0 else 1
