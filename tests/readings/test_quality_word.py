"""The phone and the clinician see the same signal-quality word for the same stream.

The phone's page shows ``quality_word`` from each batch receipt; the clinician's panel shows it
from the live event (a copy of the receipt's) and, on opening or reconnecting, from the stream
summary. One camera stream is fed a clean pulse and then noise; after every batch that carried an
estimate, the receipt's word (the phone) and the summary's word (the clinician) must be the same.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx
import numpy as np

from sensors.signal_quality import quality_word
from sensors.simulator import simulate_ppg
from tests.factories import login, make_world
from tests.readings.helpers import now, post, ppg_runs, start_stream

FS = 30.0


def _pulse_then_noise() -> list[float]:
    clean = simulate_ppg(72, 24.0, FS, seed=4, noise=0.02).signal
    noise = np.random.default_rng(4).normal(0.0, np.std(clean), int(16 * FS))
    return [float(x) for x in np.concatenate((clean, noise))]


async def test_phone_and_clinician_show_the_same_quality_word(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    employee = await login(client, world.users["employee"])
    clinician = await login(client, world.users["clinician"])
    stream_id, device = await start_stream(client, employee, "camera")
    seen: list[tuple[str, str]] = []
    start = now() - timedelta(seconds=45)
    for batch in ppg_runs(stream_id, _pulse_then_noise(), FS, started_at=start, per=int(FS)):
        response = await post(client, device, batch)
        assert response.status_code == 201, response.text
        receipt = response.json()
        if receipt["quality_word"] is None:
            continue  # no estimate with this batch: the phone keeps its word
        assert receipt["quality_word"] == quality_word(receipt["quality"])
        view = await client.get(f"/api/v1/readings/streams/{stream_id}", headers=clinician)
        assert view.status_code == 200, view.text
        seen.append((receipt["quality_word"], view.json()["quality_word"]))
    assert seen, "no estimate was made"
    assert [phone for phone, _ in seen] == [clinician_word for _, clinician_word in seen]
    # The stream went from a clean pulse to noise: both words were shown, in that order.
    assert seen[0][0] in {"Good", "Fair"}, seen
    assert seen[-1][0] == "Poor", seen
