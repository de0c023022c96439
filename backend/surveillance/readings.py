"""The step that brings pulse and SpO2 from a readings stream into a check's measurements.

Readings (pulse streams) arrive in a later feature: until then the caller passes the measured
values (``ReadingValues``, e.g. a stream summary's mean heart rate and lowest SpO2) and this
module merges them. When ``backend.readings`` lands, the service will look the stream summary
up by ``stream_id`` and call the same function, so the rules never change.
"""

from __future__ import annotations

from typing import Any

from backend.surveillance.result_schemas import ReadingValues

MIN_QUALITY = 0.5


def merge_readings(measurements: dict[str, Any], readings: ReadingValues | None) -> dict[str, Any]:
    """Measurements with pulse/SpO2 from readings added, unless the clinician typed their own."""
    if readings is None:
        return dict(measurements)
    if readings.quality is not None and readings.quality < MIN_QUALITY:
        return dict(measurements)  # a poor signal is not evidence; the clinician measures again
    merged = dict(measurements)
    taken = False
    for key, value in (("pulse_bpm", readings.pulse_bpm), ("spo2_pct", readings.spo2_pct)):
        if value is not None and merged.get(key) is None:
            merged[key] = round(value, 1)
            taken = True
    if taken and "source" not in measurements:
        merged["source"] = "readings_stream"
    return merged
