"""Batch ingestion through HTTP into PostgreSQL: every device kind, summaries, idempotency,
time order, clock skew, consent and size limits."""

from __future__ import annotations

import asyncio
import base64
import struct
import uuid
from datetime import timedelta

import asyncpg
import httpx
import pytest

from backend.readings import ingest
from sensors.ble_encode import encode_heart_rate_measurement
from tests.factories import login, make_world
from tests.readings.helpers import body, now, post, ppg_runs, simulated, start_stream, values_batch


async def _employee(client: httpx.AsyncClient, conn: asyncpg.Connection) -> dict[str, str]:
    world = await make_world(conn)
    return await login(client, world.users["employee"])


async def test_ble_heart_rate_stream_is_stored_and_summarised(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    employee = await _employee(client, conn)
    stream_id, device = await start_stream(client, employee, "ble-hr")
    batches = simulated("ble-hr", stream_id, seconds=20, bpm=75)
    for batch in batches:
        response = await post(client, device, batch)
        assert response.status_code == 201, response.text
        receipt = response.json()
        assert receipt["seq"] == batch.seq
        assert receipt["readings_stored"] == 1
    stored = await conn.fetchval("SELECT count(*) FROM reading_batch WHERE stream_id = $1", stream_id)
    assert stored == 20
    rows = await conn.fetch(
        "SELECT heart_rate_bpm, rr_intervals_s FROM reading WHERE stream_id = $1", stream_id
    )
    assert len(rows) == 20
    assert all(r["heart_rate_bpm"] is not None for r in rows)
    assert any(r["rr_intervals_s"] for r in rows)
    summary = (await client.get(f"/api/v1/readings/streams/{stream_id}", headers=employee)).json()
    assert summary["batches"] == 20
    assert summary["readings"] == 20
    assert summary["samples"] == 20
    assert 68 <= summary["heart_rate_mean_bpm"] <= 82
    assert summary["heart_rate_min_bpm"] <= summary["heart_rate_mean_bpm"] <= summary["heart_rate_max_bpm"]
    assert summary["spo2_min_pct"] is None
    assert summary["quality"] == 1.0
    assert summary["duration_s"] == pytest.approx(19.0)
    assert summary["alert_level"] is None


async def test_oximeter_stream_gives_spo2_and_pulse(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    employee = await _employee(client, conn)
    stream_id, device = await start_stream(client, employee, "ble-plx")
    for batch in simulated("ble-plx", stream_id, seconds=15, bpm=64):
        assert (await post(client, device, batch)).status_code == 201
    summary = (await client.get(f"/api/v1/readings/streams/{stream_id}", headers=employee)).json()
    assert 94 <= summary["spo2_min_pct"] <= summary["spo2_mean_pct"] <= 100
    assert 58 <= summary["heart_rate_mean_bpm"] <= 70
    sources = {
        r["source"] for r in await conn.fetch("SELECT source FROM reading WHERE stream_id = $1", stream_id)
    }
    assert sources == {"2a5f"}


async def test_camera_ppg_becomes_heart_rate_once_enough_signal_arrived(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    employee = await _employee(client, conn)
    stream_id, device = await start_stream(client, employee, "camera")
    receipts = []
    for batch in simulated("camera", stream_id, seconds=20, bpm=84, seed=3):
        response = await post(client, device, batch)
        assert response.status_code == 201, response.text
        receipts.append(response.json())
    assert receipts[0]["heart_rate_bpm"] is None
    assert receipts[0]["no_pulse_reason"].startswith("collecting")
    # One estimate every 2 s of signal: the other receipts say nothing about the heart rate.
    assert all(r["heart_rate_bpm"] is None and r["no_pulse_reason"] is None for r in receipts[1::2])
    late = [r["heart_rate_bpm"] for r in receipts[8::2]]
    assert len(late) == 6
    assert all(r is not None and abs(r - 84) <= 5 for r in late), late
    samples = await conn.fetchval(
        "SELECT sum(cardinality(ppg_samples)) FROM reading_batch WHERE stream_id = $1", stream_id
    )
    summary = (await client.get(f"/api/v1/readings/streams/{stream_id}", headers=employee)).json()
    assert summary["samples"] == samples
    assert summary["readings"] == len([r for r in receipts if r["heart_rate_bpm"]])
    assert abs(summary["heart_rate_mean_bpm"] - 84) <= 4
    assert summary["quality"] > 0.5


async def test_a_signal_with_no_pulse_is_never_a_reading(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    employee = await _employee(client, conn)
    stream_id, device = await start_stream(client, employee, "camera")
    start = now() - timedelta(seconds=30)
    for batch in ppg_runs(stream_id, [0.5] * 450, 30.0, started_at=start, per=30):
        response = await post(client, device, batch)
        assert response.status_code == 201, response.text
        assert response.json()["heart_rate_bpm"] is None
    assert response.json()["no_pulse_reason"].startswith("flat signal")
    assert await conn.fetchval("SELECT count(*) FROM reading WHERE stream_id = $1", stream_id) == 0
    summary = (await client.get(f"/api/v1/readings/streams/{stream_id}", headers=employee)).json()
    assert summary["readings"] == 0
    assert summary["heart_rate_mean_bpm"] is None
    assert summary["samples"] == 450


async def test_special_and_no_contact_values_are_absent_not_numbers(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    employee = await _employee(client, conn)
    stream_id, device = await start_stream(client, employee, "ble-plx")
    start = now() - timedelta(seconds=10)
    nan_spo2 = struct.pack("<BHH", 0, 0x07FF, 0xF2D0)  # SpO2 NaN, pulse 72.0
    payloads = [
        {"t_offset_s": 1.0, "characteristic": "2a5f", "data_b64": base64.b64encode(nan_spo2).decode()}
    ]
    batch = {**values_batch(stream_id, 0, [], started_at=start, kind="ble-plx"), "ble_payloads": payloads}
    del batch["values"]
    response = await post(client, device, batch)
    assert response.status_code == 201, response.text
    assert response.json()["values_absent"] == 1
    assert response.json()["heart_rate_bpm"] == 72.0
    row = await conn.fetchrow("SELECT * FROM reading WHERE stream_id = $1", stream_id)
    assert row is not None
    assert row["spo2_pct"] is None
    assert row["spo2_absent"] == "not-a-number"
    assert row["heart_rate_bpm"] == 72.0

    hr_stream, hr_device = await start_stream(client, employee, "ble-hr", give_consent=False)
    off_skin = encode_heart_rate_measurement(0, sensor_contact=False)
    payloads = [
        {"t_offset_s": 1.0, "characteristic": "2a37", "data_b64": base64.b64encode(off_skin).decode()}
    ]
    batch = {**values_batch(hr_stream, 0, [], started_at=start, kind="ble-hr"), "ble_payloads": payloads}
    del batch["values"]
    response = await post(client, hr_device, batch)
    assert response.status_code == 201, response.text
    row = await conn.fetchrow("SELECT * FROM reading WHERE stream_id = $1", hr_stream)
    assert row is not None
    assert row["heart_rate_bpm"] is None
    assert row["heart_rate_absent"] == "error"
    summary = (await client.get(f"/api/v1/readings/streams/{hr_stream}", headers=employee)).json()
    assert summary["values_absent"] == 1
    assert summary["heart_rate_mean_bpm"] is None
    raw = await conn.fetchval("SELECT payload FROM reading_batch WHERE stream_id = $1", hr_stream)
    assert raw[0]["data_b64"] == payloads[0]["data_b64"]  # the raw payload is kept


async def test_a_repeat_returns_the_original_receipt_and_stores_nothing(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    employee = await _employee(client, conn)
    stream_id, device = await start_stream(client, employee, "ble-hr")
    batch = simulated("ble-hr", stream_id, seconds=3)[0]
    first = await post(client, device, batch)
    assert first.status_code == 201
    restamped = body(batch) | {"sent_at": (now() + timedelta(seconds=2)).isoformat()}
    again = await post(client, device, restamped)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert await conn.fetchval("SELECT count(*) FROM reading_batch WHERE stream_id = $1", stream_id) == 1
    assert await conn.fetchval("SELECT count(*) FROM reading WHERE stream_id = $1", stream_id) == 1
    summary = (await client.get(f"/api/v1/readings/streams/{stream_id}", headers=employee)).json()
    assert summary["batches"] == 1
    assert summary["readings"] == 1

    different = body(batch)
    different["ble_payloads"] = body(simulated("ble-hr", stream_id, seconds=3, bpm=120)[0])["ble_payloads"]
    conflict = await post(client, device, different)
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "batch_conflict"


async def test_concurrent_repeats_are_stored_exactly_once(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    employee = await _employee(client, conn)
    stream_id, device = await start_stream(client, employee, "camera")
    batch = simulated("camera", stream_id, seconds=2)[0]
    responses = await asyncio.gather(*(post(client, device, batch) for _ in range(6)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 200, 200, 200, 200, 201]
    assert len({r.text for r in responses}) == 1
    assert await conn.fetchval("SELECT count(*) FROM reading_batch WHERE stream_id = $1", stream_id) == 1
    assert await conn.fetchval("SELECT batches FROM reading_stream WHERE id = $1", stream_id) == 1


@pytest.mark.parametrize("optimistic_tries", [ingest.OPTIMISTIC_TRIES, 0], ids=["optimistic", "locked"])
async def test_concurrent_batches_of_one_stream_are_all_stored_and_summed(
    client: httpx.AsyncClient,
    conn: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
    optimistic_tries: int,
) -> None:
    """Batches racing each other into one stream (each read of the stream is outdated by the
    time it stores, or, with no optimistic tries, each waits for the stream's lock): every batch
    is stored once and the summary equals what the stored readings add up to."""
    monkeypatch.setattr(ingest, "OPTIMISTIC_TRIES", optimistic_tries)
    employee = await _employee(client, conn)
    stream_id, device = await start_stream(client, employee, "manual")
    start = now() - timedelta(minutes=2)

    def values(seq: int) -> list[dict[str, float]]:
        return [
            {"t_offset_s": 2.0 * seq, "heart_rate_bpm": 60.0 + seq},
            {"t_offset_s": 2.0 * seq + 1, "heart_rate_bpm": 90.0 - seq},
        ]

    batches = [values_batch(stream_id, seq, values(seq), started_at=start) for seq in range(16)]
    responses = await asyncio.gather(*(post(client, device, b) for b in batches))
    assert [r.status_code for r in responses] == [201] * 16, [
        r.text for r in responses if r.status_code != 201
    ]
    assert await conn.fetchval("SELECT count(*) FROM reading_batch WHERE stream_id = $1", stream_id) == 16
    stored = await conn.fetchrow(
        """SELECT count(*) AS readings, count(heart_rate_bpm) AS hr_count, sum(heart_rate_bpm) AS hr_sum,
                  min(heart_rate_bpm) AS hr_min, max(heart_rate_bpm) AS hr_max,
                  min(offset_s) AS first_offset_s, max(offset_s) AS last_offset_s, max(seq) AS max_seq
           FROM reading WHERE stream_id = $1""",
        stream_id,
    )
    summary = await conn.fetchrow(
        """SELECT batches, readings, hr_count, hr_sum, hr_min, hr_max, first_offset_s, last_offset_s, max_seq,
                  last_heart_rate_bpm
           FROM reading_stream WHERE id = $1""",
        stream_id,
    )
    assert stored is not None
    assert summary is not None
    assert summary["batches"] == 16
    for name in ("readings", "hr_count", "hr_min", "hr_max", "first_offset_s", "last_offset_s", "max_seq"):
        assert summary[name] == stored[name], name
    assert summary["hr_sum"] == pytest.approx(stored["hr_sum"])
    assert summary["last_heart_rate_bpm"] == 90.0 - 15  # the latest reading in time, whatever came last
    ingested = await conn.fetchval(
        "SELECT count(*) FROM audit_event WHERE entity_id = $1 AND action = 'readings.batch.ingest'",
        str(stream_id),
    )
    assert ingested == 16


async def test_resent_after_a_timeout_is_stored_once(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """The phone gives up waiting while the server still stores the batch; it sends it again."""
    employee = await _employee(client, conn)
    stream_id, device = await start_stream(client, employee, "ble-hr")
    batch = simulated("ble-hr", stream_id, seconds=3)[0]
    blocker = conn.transaction()
    await blocker.start()
    await conn.execute("SELECT 1 FROM reading_stream WHERE id = $1 FOR UPDATE", stream_id)  # the server waits
    with pytest.raises(httpx.ReadTimeout):
        await client.post(
            "/api/v1/readings/batches", json=body(batch), headers=device, timeout=httpx.Timeout(30, read=0.5)
        )
    await blocker.rollback()  # the server's first attempt now goes through
    for _ in range(100):
        if await conn.fetchval("SELECT count(*) FROM reading_batch WHERE stream_id = $1", stream_id):
            break
        await asyncio.sleep(0.05)
    again = await post(client, device, batch)
    assert again.status_code == 200, again.text
    assert again.json()["seq"] == batch.seq
    assert again.json()["readings_stored"] == 1
    assert await conn.fetchval("SELECT count(*) FROM reading_batch WHERE stream_id = $1", stream_id) == 1
    assert await conn.fetchval("SELECT count(*) FROM reading WHERE stream_id = $1", stream_id) == 1


async def test_time_order_holds_across_batches(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    employee = await _employee(client, conn)
    stream_id, device = await start_stream(client, employee, "manual")
    start = now() - timedelta(minutes=1)

    def at(seq: int, *offsets: float) -> dict[str, object]:
        return values_batch(
            stream_id, seq, [{"t_offset_s": o, "heart_rate_bpm": 70.0} for o in offsets], started_at=start
        )

    assert (await post(client, device, at(0, 1.0, 2.0))).status_code == 201
    assert (await post(client, device, at(2, 5.0, 6.0))).status_code == 201
    assert (await post(client, device, at(1, 3.0, 4.0))).status_code == 201  # late, but in its place
    backwards = await post(client, device, at(3, 5.5))
    assert backwards.status_code == 422
    assert "before an earlier batch ends" in backwards.json()["detail"]
    overlapping = await post(client, device, at(4, 1.5, 7.0))
    assert overlapping.status_code == 422
    gap_filler = await post(client, device, at(5, 6.5))
    assert gap_filler.status_code == 201
    wrong_late = await post(client, device, at(3, 6.2, 6.8))  # must end before batch 5 starts
    assert wrong_late.status_code == 422
    assert "after a later batch starts" in wrong_late.json()["detail"]
    other_start = values_batch(
        stream_id, 6, [{"t_offset_s": 20.0, "heart_rate_bpm": 70.0}], started_at=start - timedelta(seconds=1)
    )
    assert (await post(client, device, other_start)).status_code == 422
    in_batch = values_batch(
        stream_id,
        7,
        [{"t_offset_s": 9.0, "heart_rate_bpm": 70.0}, {"t_offset_s": 8.0, "heart_rate_bpm": 70.0}],
        started_at=start,
    )
    assert (await post(client, device, in_batch)).status_code == 422
    assert await conn.fetchval("SELECT count(*) FROM reading_batch WHERE stream_id = $1", stream_id) == 4


async def test_clock_skew_is_recorded_and_implausible_times_refused(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    employee = await _employee(client, conn)
    stream_id, device = await start_stream(client, employee, "manual")
    start = now() - timedelta(minutes=5)
    batch = values_batch(stream_id, 0, [{"t_offset_s": 1.0, "heart_rate_bpm": 70.0}], started_at=start)
    batch["sent_at"] = (now() - timedelta(seconds=90)).isoformat()  # the phone's clock is 90 s slow
    receipt = (await post(client, device, batch)).json()
    assert 89 <= receipt["clock_skew_s"] <= 95
    summary = (await client.get(f"/api/v1/readings/streams/{stream_id}", headers=employee)).json()
    assert summary["clock_skew_s"] == receipt["clock_skew_s"]
    assert summary["max_abs_clock_skew_s"] >= 89
    skew = await conn.fetchval("SELECT clock_skew_s FROM reading_batch WHERE stream_id = $1", stream_id)
    assert skew == receipt["clock_skew_s"]

    old_stream, old_device = await start_stream(client, employee, "manual", give_consent=False)
    ancient = values_batch(
        old_stream, 0, [{"t_offset_s": 1.0, "heart_rate_bpm": 70.0}], started_at=now() - timedelta(days=9)
    )
    refused = await post(client, old_device, ancient)
    assert refused.status_code == 422
    assert "7 days" in refused.json()["detail"]
    future_stream, future_device = await start_stream(client, employee, "manual", give_consent=False)
    ahead = values_batch(
        future_stream, 0, [{"t_offset_s": 1.0, "heart_rate_bpm": 70.0}], started_at=now() + timedelta(hours=1)
    )
    ahead["sent_at"] = (now() + timedelta(hours=1, seconds=5)).isoformat()
    assert (await post(client, future_device, ahead)).status_code == 422


async def test_implausible_values_are_refused_by_the_wire_format(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    employee = await _employee(client, conn)
    stream_id, device = await start_stream(client, employee, "manual")
    start = now() - timedelta(minutes=1)
    for value in (
        {"t_offset_s": 1.0, "heart_rate_bpm": 400.0},
        {"t_offset_s": 1.0, "spo2_pct": 30.0},
        {"t_offset_s": 1.0},
    ):
        response = await post(client, device, values_batch(stream_id, 0, [value], started_at=start))
        assert response.status_code == 422, response.text
        assert response.json()["errors"]
    assert await conn.fetchval("SELECT count(*) FROM reading_batch") == 0


async def test_batches_need_consent_and_stop_when_it_is_withdrawn(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    employee = await _employee(client, conn)
    refused = await client.post(
        "/api/v1/readings/streams", json={"device": {"kind": "ble-hr", "model": "Strap"}}, headers=employee
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "consent_required"
    stream_id, device = await start_stream(client, employee, "ble-hr")
    batches = simulated("ble-hr", stream_id, seconds=4)
    assert (await post(client, device, batches[0])).status_code == 201
    withdrawn = await client.post("/api/v1/readings/consent/withdraw", headers=employee)
    assert withdrawn.status_code == 200
    assert withdrawn.json()["withdrawn_at"]
    by_device = await post(client, device, batches[1])
    assert by_device.status_code == 401  # the device token stopped working with the consent
    by_employee = await post(client, employee, batches[1])
    assert by_employee.status_code == 403
    assert by_employee.json()["code"] == "consent_required"
    assert (await post(client, employee, batches[0])).status_code == 200  # a repeat still gets its receipt
    assert await conn.fetchval("SELECT count(*) FROM reading_batch WHERE stream_id = $1", stream_id) == 1
    status = (await client.get("/api/v1/readings/consent", headers=employee)).json()
    assert status["consent"] is None
    assert status["statement"]["version"]


async def test_stream_ids_chosen_by_the_phone_and_closing(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    employee = await _employee(client, conn)
    from tests.readings.helpers import consent

    await consent(client, employee)
    chosen = str(uuid.uuid4())
    body_ = {"id": chosen, "device": {"kind": "manual", "model": "Typed in"}}
    first = await client.post("/api/v1/readings/streams", json=body_, headers=employee)
    again = await client.post("/api/v1/readings/streams", json=body_, headers=employee)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["device_token"] != again.json()["device_token"]
    old = {"Authorization": f"Bearer {first.json()['device_token']}"}
    new = {"Authorization": f"Bearer {again.json()['device_token']}"}
    start = now() - timedelta(minutes=1)
    batch = values_batch(
        uuid.UUID(chosen), 0, [{"t_offset_s": 1.0, "heart_rate_bpm": 61.0}], started_at=start
    )
    assert (await post(client, old, batch)).status_code == 401
    assert (await post(client, new, batch)).status_code == 201
    closed = await client.post(f"/api/v1/readings/streams/{chosen}/close", headers=new)
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    late = values_batch(uuid.UUID(chosen), 1, [{"t_offset_s": 2.0, "heart_rate_bpm": 61.0}], started_at=start)
    assert (await post(client, employee, late)).status_code == 409
    assert (await post(client, new, late)).status_code == 401
