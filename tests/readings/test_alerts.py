"""Alert bands: NEWS2 by default, configurable; a stream is flagged once enough readings fall in
a band, and a flag never becomes a fitness decision."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx
import pytest

from backend.core.config import AlertBand, Settings, news2_bands
from backend.readings.alerts import level_of
from tests.factories import login, make_world
from tests.readings.helpers import now, post, start_stream, values_batch

# NEWS2 chart: pulse <=40 (3), 41-50 (1), 51-90 (0), 91-110 (1), 111-130 (2), >=131 (3);
# SpO2 scale 1: <=91 (3), 92-93 (2), 94-95 (1), >=96 (0). Score 3 is "high", 2 "medium", 1 "low".
PULSE = [
    (30, "high"), (40, "high"), (40.4, "high"), (40.6, "low"), (41, "low"), (50, "low"), (51, None),
    (90, None), (91, "low"), (110, "low"), (111, "medium"), (130, "medium"), (131, "high"), (220, "high"),
]  # fmt: skip
SPO2 = [
    (85, "high"),
    (91, "high"),
    (92, "medium"),
    (93, "medium"),
    (94, "low"),
    (95, "low"),
    (96, None),
    (100, None),
]


@pytest.mark.parametrize(("value", "level"), PULSE)
def test_news2_pulse_bands(value: float, level: str | None) -> None:
    assert level_of("heart_rate", value, news2_bands()) == level


@pytest.mark.parametrize(("value", "level"), SPO2)
def test_news2_spo2_bands(value: float, level: str | None) -> None:
    assert level_of("spo2", value, news2_bands()) == level


def test_bands_come_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OHCONNECT_READINGS_ALERT_BANDS", '[{"measure": "spo2", "high": 88, "level": "high"}]')
    bands = Settings().readings_alert_bands
    assert bands == [AlertBand(measure="spo2", high=88, level="high")]
    assert level_of("spo2", 90, bands) is None
    assert level_of("spo2", 88, bands) == "high"
    monkeypatch.setenv("OHCONNECT_READINGS_ALERT_BANDS", '[{"measure": "spo2", "level": "high"}]')
    with pytest.raises(ValueError, match="low, high or both"):
        Settings()


async def test_a_stream_is_flagged_once_enough_readings_fall_in_a_band(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    employee = await login(client, world.users["employee"])
    nurse = await login(client, world.users["clinician"])
    stream_id, device = await start_stream(client, employee, "manual")
    start = now() - timedelta(minutes=2)
    readings = [
        {"t_offset_s": 1.0, "heart_rate_bpm": 118.0, "spo2_pct": 97.0},
        {"t_offset_s": 2.0, "heart_rate_bpm": 121.0, "spo2_pct": 90.0},
        {"t_offset_s": 3.0, "heart_rate_bpm": 80.0, "spo2_pct": 89.0},
    ]
    assert (
        await post(client, device, values_batch(stream_id, 0, readings, started_at=start))
    ).status_code == 201
    summary = (await client.get(f"/api/v1/readings/streams/{stream_id}", headers=nurse)).json()
    assert summary["alert_level"] is None  # two readings in a band are not yet a flag
    assert {(a["measure"], a["level"], a["readings"], a["flagged"]) for a in summary["alerts"]} == {
        ("heart_rate", "medium", 2, False),
        ("spo2", "high", 2, False),
    }
    more = [
        {"t_offset_s": 4.0, "spo2_pct": 91.0},
        {"t_offset_s": 5.0, "heart_rate_bpm": 72.0, "spo2_pct": 93.0},
    ]
    assert (await post(client, device, values_batch(stream_id, 1, more, started_at=start))).status_code == 201
    summary = (await client.get(f"/api/v1/readings/streams/{stream_id}", headers=nurse)).json()
    assert summary["alert_level"] == "high"
    top = summary["alerts"][0]
    assert (top["measure"], top["level"], top["readings"], top["flagged"]) == ("spo2", "high", 3, True)
    assert (top["min_value"], top["max_value"]) == (89.0, 91.0)
    stored = await conn.fetchval("SELECT alert_level FROM reading_stream WHERE id = $1", stream_id)
    assert stored == "high"
    listed = (await client.get("/api/v1/readings/streams", headers=nurse)).json()["items"]
    assert listed[0]["alert_level"] == "high"
    assert "fitness" not in summary
    assert "fit" not in {k.split("_")[0] for k in summary}
