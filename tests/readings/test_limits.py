"""Batch uploads have their own size limit (413 beyond it); other endpoints keep the general one."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx
import pytest

from tests.factories import login, make_world
from tests.readings.helpers import now, post, start_stream


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"readings_batch_max_bytes": 64 * 1024}


async def test_batches_beyond_the_size_limit_get_413(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    employee = await login(client, (await make_world(conn)).users["employee"])
    stream_id, device = await start_stream(client, employee, "camera")
    start = now() - timedelta(minutes=2)
    samples = [0.123456789] * 6000  # about 80 kB of JSON
    batch = {
        "version": 1, "stream_id": str(stream_id), "seq": 0, "device": {"kind": "camera", "model": "Cam"},
        "sent_at": now().isoformat(), "started_at": start.isoformat(),
        "ppg": {"t_offset_s": 0.0, "fs": 100.0, "samples": samples},
    }  # fmt: skip
    response = await post(client, device, batch)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    batch["ppg"]["samples"] = samples[:3000]  # type: ignore[index]
    assert (await post(client, device, batch)).status_code == 201
    other = await client.post(
        "/api/v1/readings/consent", content=b"{" + b" " * (70 * 1024) + b"}", headers=employee
    )
    assert other.status_code == 422  # other endpoints keep the general (larger) limit
