"""The phone and the clinician see the same signal-quality word for the same stream.

The phone's page shows ``quality_word`` from each batch receipt; the clinician's live panel shows
it from the live event and, on opening or reconnecting, from the stream summary in the snapshot.
One camera stream is fed a clean pulse and then noise; after every batch that carried an estimate,
the receipt's word (the phone), the live event's and the summary's (the clinician) must agree.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import numpy as np
from websockets.asyncio.client import ClientConnection, connect

from sensors.signal_quality import quality_word
from sensors.simulator import simulate_ppg
from tests.conftest import Server
from tests.factories import login, make_world
from tests.readings.helpers import now, post, ppg_runs, start_stream

FS = 30.0


def _pulse_then_noise() -> list[float]:
    clean = simulate_ppg(72, 24.0, FS, seed=4, noise=0.02).signal
    noise = np.random.default_rng(4).normal(0.0, np.std(clean), int(16 * FS))
    return [float(x) for x in np.concatenate((clean, noise))]


async def _receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5.0))
    return message


async def test_phone_and_clinician_show_the_same_quality_word(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    employee = await login(client, world.users["employee"])
    clinician = await login(client, world.users["clinician"])
    stream_id, device = await start_stream(client, employee, "camera")
    live_url = server.url.replace("http://", "ws://") + f"/ws/readings/{stream_id}"
    seen: list[tuple[str, str, str]] = []
    start = now() - timedelta(seconds=45)
    async with connect(live_url, additional_headers=clinician) as ws:
        assert (await _receive(ws))["summary"]["quality_word"] == "Not known yet"
        for batch in ppg_runs(stream_id, _pulse_then_noise(), FS, started_at=start, per=int(FS)):
            response = await post(client, device, batch)
            assert response.status_code == 201, response.text
            receipt, event = response.json(), await _receive(ws)
            assert event["seq"] == receipt["seq"]
            if receipt["quality_word"] is None:
                assert "quality_word" not in event  # no estimate: both keep the word they show
                continue
            assert receipt["quality_word"] == quality_word(receipt["quality"])
            view = await client.get(f"/api/v1/readings/streams/{stream_id}", headers=clinician)
            assert view.status_code == 200, view.text
            seen.append((receipt["quality_word"], event["quality_word"], view.json()["quality_word"]))
    assert seen, "no estimate was made"
    assert all(phone == live == summary for phone, live, summary in seen), seen
    # The stream went from a clean pulse to noise: both ends were shown, in that order.
    assert seen[0][0] in {"Good", "Fair"}, seen
    assert seen[-1][0] == "Poor", seen
    async with connect(live_url, additional_headers=clinician) as ws:  # the clinician reopens it
        assert (await _receive(ws))["summary"]["quality_word"] == seen[-1][0]
