"""Decoding of Bluetooth GATT payloads from heart-rate monitors and pulse oximeters.

Characteristics: Heart Rate Measurement (0x2A37), PLX Spot-Check Measurement (0x2A5E),
PLX Continuous Measurement (0x2A5F) and PLX Features (0x2A60). Numbers use the IEEE 11073-20601
SFLOAT/FLOAT formats; multi-byte integers are little-endian.

Every decoder accepts any ``bytes`` and either returns a frozen dataclass or raises ``ValueError``
whose message starts with the characteristic name and names the field or problem. No other
exception type escapes for any input.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

_SFLOAT_SPECIAL = {
    0x07FF: math.nan,  # NaN
    0x0800: math.nan,  # NRes (not at this resolution)
    0x07FE: math.inf,
    0x0802: -math.inf,
    0x0801: math.nan,  # reserved for future use
}
_FLOAT32_SPECIAL = {
    0x007FFFFF: math.nan,
    0x00800000: math.nan,
    0x007FFFFE: math.inf,
    0x00800002: -math.inf,
    0x00800001: math.nan,
}


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value & (1 << (bits - 1)) else value


def _scaled(mantissa: int, exponent: int) -> float:
    # Exact decimal scaling: 1000 * 10**-1 is 100.0, not 100.00000000000001.
    return mantissa * 10.0**exponent if exponent >= 0 else mantissa / 10.0**-exponent


def sfloat(raw: int) -> float:
    """IEEE 11073-20601 16-bit SFLOAT: 4-bit signed exponent (high nibble), 12-bit signed mantissa.

    Special values (exponent 0): 0x07FF NaN, 0x0800 NRes and 0x0801 reserved give ``nan``;
    0x07FE and 0x0802 give ``+inf`` and ``-inf``.
    """
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 0xFFFF:
        raise ValueError(f"SFLOAT: raw value {raw!r} is not a 16-bit unsigned integer")
    if raw in _SFLOAT_SPECIAL:
        return _SFLOAT_SPECIAL[raw]
    return _scaled(_signed(raw & 0x0FFF, 12), _signed(raw >> 12, 4))


def float32_11073(raw: int) -> float:
    """IEEE 11073-20601 32-bit FLOAT: 8-bit signed exponent (high byte), 24-bit signed mantissa."""
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 0xFFFFFFFF:
        raise ValueError(f"FLOAT: raw value {raw!r} is not a 32-bit unsigned integer")
    if raw in _FLOAT32_SPECIAL:
        return _FLOAT32_SPECIAL[raw]
    return _scaled(_signed(raw & 0xFFFFFF, 24), _signed(raw >> 24, 8))


Payload = bytes | bytearray | memoryview


class _Reader:
    """Cursor over a payload; every read names its field so errors say what is missing."""

    def __init__(self, payload: Payload, what: str) -> None:
        if not isinstance(payload, bytes | bytearray | memoryview):
            raise ValueError(f"{what}: payload must be bytes, not {type(payload).__name__}")
        self.data = bytes(payload)
        self.what = what
        self.pos = 0

    def fail(self, problem: str) -> ValueError:
        return ValueError(f"{self.what}: {problem}")

    def uint(self, size: int, field: str) -> int:
        end = self.pos + size
        if end > len(self.data):
            if not self.data:
                raise self.fail("payload is empty")
            raise self.fail(f"payload ends inside {field} (needs {end} bytes, has {len(self.data)})")
        value = int.from_bytes(self.data[self.pos : end], "little")
        self.pos = end
        return value

    def sfloat(self, field: str) -> float:
        return sfloat(self.uint(2, field))

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def flags(self, size: int, allowed_mask: int, field: str = "flags") -> int:
        value = self.uint(size, field)
        if value & ~allowed_mask:
            raise self.fail(f"reserved {field} bits set (0x{value & ~allowed_mask:0{size * 2}x})")
        return value

    def finish(self) -> None:
        if self.pos != len(self.data):
            raise self.fail(f"{len(self.data) - self.pos} unexpected trailing byte(s)")


# --- Heart Rate Measurement (0x2A37) ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeartRateMeasurement:
    heart_rate_bpm: int
    sensor_contact: bool | None  # None when the sensor does not support contact detection
    energy_expended_kj: int | None
    rr_intervals_s: tuple[float, ...]


_HRM_UINT16 = 0x01
_HRM_CONTACT_DETECTED = 0x02
_HRM_CONTACT_SUPPORTED = 0x04
_HRM_ENERGY = 0x08
_HRM_RR = 0x10


def decode_heart_rate_measurement(payload: Payload) -> HeartRateMeasurement:
    """Decode a Heart Rate Measurement notification; RR intervals (1/1024 s units) become seconds."""
    reader = _Reader(payload, "heart rate measurement")
    flags = reader.flags(1, 0x1F)
    heart_rate = reader.uint(2 if flags & _HRM_UINT16 else 1, "heart rate value")
    contact: bool | None = None
    if flags & _HRM_CONTACT_SUPPORTED:
        contact = bool(flags & _HRM_CONTACT_DETECTED)
    energy = reader.uint(2, "energy expended") if flags & _HRM_ENERGY else None
    rr: list[float] = []
    if flags & _HRM_RR:
        if reader.remaining() == 0:
            raise reader.fail("RR-interval flag set but no RR interval present")
        while reader.remaining():
            rr.append(reader.uint(2, f"RR interval {len(rr) + 1}") / 1024.0)
    reader.finish()
    return HeartRateMeasurement(heart_rate, contact, energy, tuple(rr))


# --- PLX shared fields -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BleTimestamp:
    """A Date Time field as the device sent it (device local time; 0 means "unknown")."""

    year: int
    month: int
    day: int
    hours: int
    minutes: int
    seconds: int

    def to_datetime(self, tz: tzinfo) -> datetime | None:
        """The moment in the given zone, or ``None`` when year, month or day is unknown (0)."""
        if 0 in (self.year, self.month, self.day):
            return None
        return datetime(self.year, self.month, self.day, self.hours, self.minutes, self.seconds, tzinfo=tz)


def _read_timestamp(reader: _Reader) -> BleTimestamp:
    stamp = BleTimestamp(
        year=reader.uint(2, "timestamp year"),
        month=reader.uint(1, "timestamp month"),
        day=reader.uint(1, "timestamp day"),
        hours=reader.uint(1, "timestamp hours"),
        minutes=reader.uint(1, "timestamp minutes"),
        seconds=reader.uint(1, "timestamp seconds"),
    )
    checks = (
        ("year", stamp.year, stamp.year == 0 or 1582 <= stamp.year <= 9999),
        ("month", stamp.month, stamp.month <= 12),
        ("day", stamp.day, stamp.day <= 31),
        ("hours", stamp.hours, stamp.hours <= 23),
        ("minutes", stamp.minutes, stamp.minutes <= 59),
        ("seconds", stamp.seconds, stamp.seconds <= 59),
    )
    for name, value, ok in checks:
        if not ok:
            raise reader.fail(f"timestamp {name} {value} out of range")
    if stamp.year and stamp.month and stamp.day > calendar.monthrange(stamp.year, stamp.month)[1]:
        raise reader.fail(f"timestamp day {stamp.day} does not exist in {stamp.year}-{stamp.month:02d}")
    return stamp


@dataclass(frozen=True, slots=True)
class SpO2PR:
    spo2_pct: float
    pulse_rate_bpm: float


def _read_pair(reader: _Reader, name: str) -> SpO2PR:
    return SpO2PR(reader.sfloat(f"{name} SpO2"), reader.sfloat(f"{name} pulse rate"))


# Measurement Status (uint16) and Device and Sensor Status (uint24) bit names.
MEASUREMENT_STATUS_BITS = {
    5: "measurement ongoing",
    6: "early estimated data",
    7: "validated data",
    8: "fully qualified data",
    9: "data from measurement storage",
    10: "data for demonstration",
    11: "data for testing",
    12: "calibration ongoing",
    13: "measurement unavailable",
    14: "questionable measurement detected",
    15: "invalid measurement detected",
}
DEVICE_SENSOR_STATUS_BITS = {
    0: "extended display update ongoing",
    1: "equipment malfunction detected",
    2: "signal processing irregularity detected",
    3: "inadequate signal detected",
    4: "poor signal detected",
    5: "low perfusion detected",
    6: "erratic signal detected",
    7: "nonpulsatile signal detected",
    8: "questionable pulse detected",
    9: "signal analysis ongoing",
    10: "sensor interference detected",
    11: "sensor unconnected to user",
    12: "unknown sensor connected",
    13: "sensor displaced",
    14: "sensor malfunctioning",
    15: "sensor disconnected",
}


def describe_status(value: int, names: dict[int, str]) -> frozenset[str]:
    """Names of the set bits of a status field (bits without a name are ignored)."""
    return frozenset(name for bit, name in names.items() if value >> bit & 1)


# --- PLX Spot-Check Measurement (0x2A5E) ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlxSpotCheck:
    spo2_pct: float
    pulse_rate_bpm: float
    timestamp: BleTimestamp | None
    measurement_status: int | None
    device_and_sensor_status: int | None
    pulse_amplitude_index: float | None
    device_clock_not_set: bool


def decode_plx_spot_check(payload: Payload) -> PlxSpotCheck:
    """Decode a PLX Spot-Check Measurement indication."""
    reader = _Reader(payload, "PLX spot-check measurement")
    flags = reader.flags(1, 0x1F)
    pair = _read_pair(reader, "SpO2PR-Spot-Check")
    timestamp = _read_timestamp(reader) if flags & 0x01 else None
    status = reader.uint(2, "measurement status") if flags & 0x02 else None
    device = reader.uint(3, "device and sensor status") if flags & 0x04 else None
    pai = reader.sfloat("pulse amplitude index") if flags & 0x08 else None
    reader.finish()
    return PlxSpotCheck(
        spo2_pct=pair.spo2_pct,
        pulse_rate_bpm=pair.pulse_rate_bpm,
        timestamp=timestamp,
        measurement_status=status,
        device_and_sensor_status=device,
        pulse_amplitude_index=pai,
        device_clock_not_set=bool(flags & 0x10),
    )


# --- PLX Continuous Measurement (0x2A5F) ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlxContinuous:
    spo2_pct: float  # SpO2PR-Normal
    pulse_rate_bpm: float
    fast: SpO2PR | None
    slow: SpO2PR | None
    measurement_status: int | None
    device_and_sensor_status: int | None
    pulse_amplitude_index: float | None


def decode_plx_continuous(payload: Payload) -> PlxContinuous:
    """Decode a PLX Continuous Measurement notification."""
    reader = _Reader(payload, "PLX continuous measurement")
    flags = reader.flags(1, 0x1F)
    normal = _read_pair(reader, "SpO2PR-Normal")
    fast = _read_pair(reader, "SpO2PR-Fast") if flags & 0x01 else None
    slow = _read_pair(reader, "SpO2PR-Slow") if flags & 0x02 else None
    status = reader.uint(2, "measurement status") if flags & 0x04 else None
    device = reader.uint(3, "device and sensor status") if flags & 0x08 else None
    pai = reader.sfloat("pulse amplitude index") if flags & 0x10 else None
    reader.finish()
    return PlxContinuous(
        spo2_pct=normal.spo2_pct,
        pulse_rate_bpm=normal.pulse_rate_bpm,
        fast=fast,
        slow=slow,
        measurement_status=status,
        device_and_sensor_status=device,
        pulse_amplitude_index=pai,
    )


# --- PLX Features (0x2A60) ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlxFeatures:
    measurement_status_supported: int | None  # the supported-bits mask, when present
    device_and_sensor_status_supported: int | None
    measurement_storage: bool
    timestamp_storage: bool
    spo2pr_fast: bool
    spo2pr_slow: bool
    pulse_amplitude_index: bool
    multiple_bonds: bool


def decode_plx_features(payload: Payload) -> PlxFeatures:
    """Decode the PLX Features characteristic (read once after connecting)."""
    reader = _Reader(payload, "PLX features")
    features = reader.flags(2, 0x00FF, "supported features")
    status = reader.uint(2, "measurement status support") if features & 0x01 else None
    device = reader.uint(3, "device and sensor status support") if features & 0x02 else None
    reader.finish()
    return PlxFeatures(
        measurement_status_supported=status,
        device_and_sensor_status_supported=device,
        measurement_storage=bool(features & 0x04),
        timestamp_storage=bool(features & 0x08),
        spo2pr_fast=bool(features & 0x10),
        spo2pr_slow=bool(features & 0x20),
        pulse_amplitude_index=bool(features & 0x40),
        multiple_bonds=bool(features & 0x80),
    )


Decoded = HeartRateMeasurement | PlxSpotCheck | PlxContinuous | PlxFeatures

# Decoder by characteristic UUID (16-bit, lower-case hex), as named in the wire format.
DECODERS: dict[str, Callable[[Payload], Decoded]] = {
    "2a37": decode_heart_rate_measurement,
    "2a5e": decode_plx_spot_check,
    "2a5f": decode_plx_continuous,
    "2a60": decode_plx_features,
}
