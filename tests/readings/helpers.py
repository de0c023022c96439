"""Helpers for readings tests: consent and a stream for an employee, and simulated batches."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from backend.readings.statement import STATEMENT
from sensors.protocol import DeviceKind, ReadingBatch
from sensors.simulator import reading_batches


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def consent(client: httpx.AsyncClient, employee: dict[str, str]) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/readings/consent",
        json={"statement_version": STATEMENT.version, "agree": True},
        headers=employee,
    )
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def start_stream(
    client: httpx.AsyncClient,
    employee: dict[str, str],
    kind: DeviceKind = "ble-hr",
    *,
    give_consent: bool = True,
) -> tuple[uuid.UUID, dict[str, str]]:
    """A new stream (after consent): its id and the device-token headers for its batches."""
    if give_consent:
        await consent(client, employee)
    response = await client.post(
        "/api/v1/readings/streams", json={"device": {"kind": kind, "model": "Test device"}}, headers=employee
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return uuid.UUID(body["stream"]["id"]), {"Authorization": f"Bearer {body['device_token']}"}


def simulated(
    kind: DeviceKind,
    stream_id: uuid.UUID,
    *,
    seconds: int = 10,
    bpm: float = 72.0,
    seed: int = 0,
    started_at: datetime | None = None,
) -> list[ReadingBatch]:
    """The simulator's batches for this stream, started a little before now, sent 'now'."""
    start = started_at or now() - timedelta(seconds=seconds + 5)
    sent = now()
    return [
        b.model_copy(update={"sent_at": sent})
        for b in reading_batches(
            kind, bpm=bpm, seconds=seconds, seed=seed, stream_id=stream_id, started_at=start
        )
    ]


def body(batch: ReadingBatch) -> Any:
    return batch.model_dump(mode="json", exclude_none=True)


async def post(
    client: httpx.AsyncClient, headers: dict[str, str], batch: ReadingBatch | dict[str, Any]
) -> httpx.Response:
    payload = body(batch) if isinstance(batch, ReadingBatch) else batch
    return await client.post("/api/v1/readings/batches", json=payload, headers=headers)


def values_batch(
    stream_id: uuid.UUID,
    seq: int,
    values: list[dict[str, Any]],
    *,
    started_at: datetime,
    kind: str = "manual",
) -> dict[str, Any]:
    return {
        "version": 1,
        "stream_id": str(stream_id),
        "seq": seq,
        "device": {"kind": kind, "model": "Test device"},
        "sent_at": now().isoformat(),
        "started_at": started_at.isoformat(),
        "values": values,
    }


def ppg_runs(
    stream_id: uuid.UUID, signal: list[float], fs: float, *, started_at: datetime, per: int
) -> Iterator[dict[str, Any]]:
    """A signal cut into batches of ``per`` samples from a camera stream."""
    for seq, start in enumerate(range(0, len(signal), per)):
        yield {
            "version": 1,
            "stream_id": str(stream_id),
            "seq": seq,
            "device": {"kind": "camera", "model": "Test camera"},
            "sent_at": now().isoformat(),
            "started_at": started_at.isoformat(),
            "ppg": {
                "t_offset_s": start / fs,
                "fs": fs,
                "samples": [round(x, 6) for x in signal[start : start + per]],
            },
        }
