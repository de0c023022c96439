"""Encoding of the GATT payloads that ``sensors.ble`` decodes (for the simulator and tests).

Each encoder produces exactly the layout its decoder reads, so ``decode(encode(x)) == x`` up to
the resolution of the wire format.
"""

from __future__ import annotations

import math

from sensors.ble import BleTimestamp, SpO2PR


def encode_sfloat(value: float) -> int:
    """The 16-bit SFLOAT closest to ``value``, keeping as many decimals as the 12-bit mantissa allows.

    ``nan`` becomes 0x07FF, ``±inf`` 0x07FE/0x0802; a finite value too large for the format raises
    ``ValueError``.
    """
    if math.isnan(value):
        return 0x07FF
    if math.isinf(value):
        return 0x07FE if value > 0 else 0x0802
    for exponent in range(-8, 8):
        scaled = value * 10.0**-exponent if exponent <= 0 else value / 10.0**exponent
        mantissa = round(scaled)
        if -2045 <= mantissa <= 2045:
            return ((exponent & 0xF) << 12) | (mantissa & 0x0FFF)
    raise ValueError(f"SFLOAT: {value} is out of range")


def _u(value: int, size: int) -> bytes:
    return value.to_bytes(size, "little")


def _sf(value: float) -> bytes:
    return _u(encode_sfloat(value), 2)


def encode_heart_rate_measurement(
    heart_rate_bpm: int,
    *,
    rr_intervals_s: tuple[float, ...] = (),
    sensor_contact: bool | None = None,
    energy_expended_kj: int | None = None,
    uint16: bool = False,
) -> bytes:
    """Heart Rate Measurement (0x2A37); RR intervals are rounded to 1/1024 s."""
    wide = uint16 or heart_rate_bpm > 0xFF
    flags = 0x01 if wide else 0
    if sensor_contact is not None:
        flags |= 0x04 | (0x02 if sensor_contact else 0)
    body = _u(heart_rate_bpm, 2 if wide else 1)
    if energy_expended_kj is not None:
        flags |= 0x08
        body += _u(energy_expended_kj, 2)
    if rr_intervals_s:
        flags |= 0x10
        body += b"".join(_u(min(0xFFFF, max(0, round(rr * 1024))), 2) for rr in rr_intervals_s)
    return bytes([flags]) + body


def _pair(pair: SpO2PR) -> bytes:
    return _sf(pair.spo2_pct) + _sf(pair.pulse_rate_bpm)


def encode_plx_continuous(
    spo2_pct: float,
    pulse_rate_bpm: float,
    *,
    fast: SpO2PR | None = None,
    slow: SpO2PR | None = None,
    measurement_status: int | None = None,
    device_and_sensor_status: int | None = None,
    pulse_amplitude_index: float | None = None,
) -> bytes:
    """PLX Continuous Measurement (0x2A5F)."""
    flags = 0
    body = _pair(SpO2PR(spo2_pct, pulse_rate_bpm))
    parts: tuple[tuple[int, bytes | None], ...] = (
        (0x01, _pair(fast) if fast else None),
        (0x02, _pair(slow) if slow else None),
        (0x04, None if measurement_status is None else _u(measurement_status, 2)),
        (0x08, None if device_and_sensor_status is None else _u(device_and_sensor_status, 3)),
        (0x10, None if pulse_amplitude_index is None else _sf(pulse_amplitude_index)),
    )
    for bit, part in parts:
        if part is not None:
            flags |= bit
            body += part
    return bytes([flags]) + body


def encode_plx_spot_check(
    spo2_pct: float,
    pulse_rate_bpm: float,
    *,
    timestamp: BleTimestamp | None = None,
    measurement_status: int | None = None,
    device_and_sensor_status: int | None = None,
    pulse_amplitude_index: float | None = None,
    device_clock_not_set: bool = False,
) -> bytes:
    """PLX Spot-Check Measurement (0x2A5E)."""
    stamp = None
    if timestamp is not None:
        t = timestamp
        stamp = _u(t.year, 2) + bytes([t.month, t.day, t.hours, t.minutes, t.seconds])
    parts: tuple[tuple[int, bytes | None], ...] = (
        (0x01, stamp),
        (0x02, None if measurement_status is None else _u(measurement_status, 2)),
        (0x04, None if device_and_sensor_status is None else _u(device_and_sensor_status, 3)),
        (0x08, None if pulse_amplitude_index is None else _sf(pulse_amplitude_index)),
    )
    flags = 0x10 if device_clock_not_set else 0
    body = _pair(SpO2PR(spo2_pct, pulse_rate_bpm))
    for bit, part in parts:
        if part is not None:
            flags |= bit
            body += part
    return bytes([flags]) + body
