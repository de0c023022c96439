"""From a validated ``ReadingBatch`` to the readings worth storing (pure; no I/O).

* ``values``: stored as sent (the wire model has already checked the ranges).
* ``ble_payloads``: decoded with ``sensors.ble``. Special SFLOAT values (NaN, NRes, +/-infinity),
  a strap reporting no skin contact, an oximeter flagging its measurement invalid or its sensor
  off the finger, and numbers outside the plausible ranges become *absent* values with a FHIR
  data-absent-reason code, never numbers.
* ``ppg``: a run of samples is turned into a heart rate over a window of the stream's recent
  contiguous samples with ``sensors.ppg``; a window without a reliable pulse gives no reading.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from backend.readings.schemas import AbsentReason, PpgRunRow, Source
from sensors import ble
from sensors.protocol import BlePayload, ReadingBatch, ValueReading

HR_RANGE = (20.0, 250.0)
SPO2_RANGE = (50.0, 100.0)
WINDOW_S = 10.0  # seconds of PPG behind each heart-rate estimate
MIN_WINDOW_S = 6.0  # shorter windows give no estimate yet
EVERY_S = 2.0  # a new estimate each time the signal passes a multiple of this many seconds
WAVE_FS = 25.0  # the live waveform is block-averaged down to about this rate
QUESTIONABLE_QUALITY = 0.5

# PLX status bits (sensors.ble names) that make a measurement unusable or doubtful.
_INVALID_MEASUREMENT = frozenset({"measurement unavailable", "invalid measurement detected"})
_INVALID_SENSOR = frozenset(
    {
        "equipment malfunction detected",
        "sensor unconnected to user",
        "sensor displaced",
        "sensor malfunctioning",
        "sensor disconnected",
    }
)
_DOUBTFUL = frozenset(
    {
        "questionable measurement detected",
        "early estimated data",
        "signal processing irregularity detected",
        "inadequate signal detected",
        "poor signal detected",
        "low perfusion detected",
        "erratic signal detected",
        "questionable pulse detected",
        "sensor interference detected",
    }
)


@dataclass(frozen=True, slots=True)
class Point:
    """One reading to store, at ``offset_s`` seconds after the stream's start."""

    offset_s: float
    source: Source
    heart_rate_bpm: float | None = None
    spo2_pct: float | None = None
    rr_intervals_s: tuple[float, ...] | None = None
    quality: float | None = None
    heart_rate_absent: AbsentReason | None = None
    spo2_absent: AbsentReason | None = None

    @property
    def absent_count(self) -> int:
        return (self.heart_rate_absent is not None) + (self.spo2_absent is not None)


@dataclass(frozen=True, slots=True)
class PpgResult:
    point: Point | None  # None: no reliable pulse in the window
    quality: float | None  # None while the window is still filling
    reason: str | None


def _number(value: float, limits: tuple[float, float]) -> tuple[float | None, AbsentReason | None]:
    """A device number, or why it is absent."""
    if math.isnan(value):
        return None, "not-a-number"
    if math.isinf(value):
        return None, "positive-infinity" if value > 0 else "negative-infinity"
    if not limits[0] <= value <= limits[1]:
        return None, "error"
    return float(value), None


def _from_value(value: ValueReading) -> Point:
    rr = tuple(value.rr_intervals_s) if value.rr_intervals_s else None
    return Point(value.t_offset_s, "value", value.heart_rate_bpm, value.spo2_pct, rr)


def _from_heart_rate(t: float, m: ble.HeartRateMeasurement) -> Point:
    if m.sensor_contact is False:
        return Point(t, "2a37", heart_rate_absent="error", quality=0.0)
    hr, absent = _number(float(m.heart_rate_bpm), HR_RANGE)
    rr = tuple(r for r in m.rr_intervals_s if 0.24 <= r <= 3.0) or None
    return Point(t, "2a37", hr, rr_intervals_s=rr, heart_rate_absent=absent, quality=0.0 if absent else 1.0)


def _plx_quality(m: ble.PlxSpotCheck | ble.PlxContinuous) -> float:
    flags = ble.describe_status(m.measurement_status or 0, ble.MEASUREMENT_STATUS_BITS) | ble.describe_status(
        m.device_and_sensor_status or 0, ble.DEVICE_SENSOR_STATUS_BITS
    )
    if flags & (_INVALID_MEASUREMENT | _INVALID_SENSOR):
        return 0.0
    return QUESTIONABLE_QUALITY if flags & _DOUBTFUL else 1.0


def _from_plx(t: float, source: Source, m: ble.PlxSpotCheck | ble.PlxContinuous) -> Point:
    quality = _plx_quality(m)
    if quality == 0.0:
        return Point(t, source, heart_rate_absent="error", spo2_absent="error", quality=0.0)
    spo2, spo2_absent = _number(m.spo2_pct, SPO2_RANGE)
    hr, hr_absent = _number(m.pulse_rate_bpm, HR_RANGE)
    if spo2 is None and hr is None:
        quality = 0.0
    return Point(t, source, hr, spo2, None, quality, hr_absent, spo2_absent)


def _from_ble(payload: BlePayload) -> Point | None:
    decoded = payload.decoded()
    t = payload.t_offset_s
    if isinstance(decoded, ble.HeartRateMeasurement):
        return _from_heart_rate(t, decoded)
    if isinstance(decoded, ble.PlxContinuous):
        return _from_plx(t, "2a5f", decoded)
    if isinstance(decoded, ble.PlxSpotCheck):
        return _from_plx(t, "2a5e", decoded)
    return None  # PLX Features carries no reading


def device_points(batch: ReadingBatch) -> list[Point]:
    """Readings of a ``values`` or ``ble_payloads`` batch (a ``ppg`` batch gives none here)."""
    if batch.values is not None:
        return [_from_value(v) for v in batch.values]
    if batch.ble_payloads is not None:
        return [p for p in map(_from_ble, batch.ble_payloads) if p is not None]
    return []


def sample_count(batch: ReadingBatch) -> int:
    if batch.values is not None:
        return len(batch.values)
    if batch.ble_payloads is not None:
        return len(batch.ble_payloads)
    return len(batch.ppg.samples) if batch.ppg is not None else 0


def offsets(batch: ReadingBatch) -> tuple[float, float]:
    """The first and last sample offsets of the batch (seconds after the stream's start)."""
    if batch.values is not None:
        return batch.values[0].t_offset_s, batch.values[-1].t_offset_s
    if batch.ble_payloads is not None:
        return batch.ble_payloads[0].t_offset_s, batch.ble_payloads[-1].t_offset_s
    run = batch.ppg
    if run is None:  # the wire model requires exactly one payload
        raise ValueError("a batch without a payload")
    return run.t_offset_s, run.t_offset_s + (len(run.samples) - 1) / run.fs


def ppg_window(current: PpgRunRow, earlier: Sequence[PpgRunRow]) -> list[float]:
    """The current run preceded by the earlier runs that join it without a gap (newest first in
    ``earlier``), up to ``WINDOW_S`` seconds in all."""
    fs = current.fs
    parts = [current.samples]
    start = current.first_offset_s
    total = len(current.samples)
    for run in earlier:
        if total >= WINDOW_S * fs or not math.isclose(run.fs, fs, rel_tol=1e-6):
            break
        expected = run.first_offset_s + len(run.samples) / fs
        if abs(expected - start) > 1.5 / fs:
            break
        parts.append(run.samples)
        start = run.first_offset_s
        total += len(run.samples)
    window = [x for part in reversed(parts) for x in part]
    keep = int(WINDOW_S * fs)
    return window[-keep:] if len(window) > keep else window


def estimate_due(current: PpgRunRow) -> bool:
    """Whether this run passes a multiple of ``EVERY_S`` seconds since the previous sample: one
    estimate every ``EVERY_S`` seconds of signal, whatever the batch length (a 10 s window hardly
    moves in a second, and each estimate costs a few milliseconds)."""
    previous = current.first_offset_s - 1.0 / current.fs
    last = current.first_offset_s + (len(current.samples) - 1) / current.fs
    return math.floor(last / EVERY_S) > math.floor(previous / EVERY_S)


class Estimated(Protocol):
    """What a heart-rate estimate gives a batch (``sensors.ppg`` or its worker process)."""

    @property
    def bpm(self) -> float | None: ...
    @property
    def quality(self) -> float: ...
    @property
    def reason(self) -> str | None: ...


def collecting(current: PpgRunRow, window: Sequence[float]) -> PpgResult | None:
    """The result while the window is too short to estimate from; None once it is long enough."""
    if len(window) < MIN_WINDOW_S * current.fs:
        return PpgResult(None, None, f"collecting: {len(window) / current.fs:.0f} s of {MIN_WINDOW_S:.0f} s")
    return None


def ppg_result(current: PpgRunRow, estimate: Estimated) -> PpgResult:
    """The heart rate at the end of the current run, from the estimate over the window behind it."""
    if estimate.bpm is None or not HR_RANGE[0] <= estimate.bpm <= HR_RANGE[1]:
        return PpgResult(None, estimate.quality, estimate.reason or "no reliable pulse")
    end = current.first_offset_s + (len(current.samples) - 1) / current.fs
    point = Point(end, "ppg", round(estimate.bpm, 1), quality=estimate.quality)
    return PpgResult(point, estimate.quality, None)


def decimate(samples: Sequence[float], fs: float, max_points: int = 400) -> tuple[list[float], float]:
    """Block-average a run down to about ``WAVE_FS`` (and at most ``max_points`` samples) for the
    live view: (samples, new rate)."""
    factor = max(1, round(fs / WAVE_FS), math.ceil(len(samples) / max_points))
    if factor == 1:
        return [round(x, 5) for x in samples], fs
    blocks = (samples[i : i + factor] for i in range(0, len(samples), factor))
    out = [round(sum(block) / len(block), 5) for block in blocks]
    return out, fs / factor
