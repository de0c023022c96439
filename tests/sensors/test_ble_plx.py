"""PLX (pulse oximeter) payload decoding against byte vectors written out by hand.

Multi-byte fields are little-endian; SpO2, pulse rate and the pulse amplitude index are 16-bit
SFLOATs (see test_ble.py).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensors import ble
from sensors.ble import (
    BleTimestamp,
    SpO2PR,
    decode_plx_continuous,
    decode_plx_features,
    decode_plx_spot_check,
)
from sensors.ble_encode import encode_plx_continuous, encode_plx_spot_check

# --- PLX Spot-Check (0x2A5E) ------------------------------------------------------------------------

SPOT = b"\xd9\xf3\x48\x00"  # SpO2 0xF3D9 = 98.5 %, PR 0x0048 = 72 /min
STAMP = b"\xe8\x07\x02\x1d\x0d\x05\x06"  # 2024-02-29 13:05:06 (year 0x07E8)


def test_spot_check_minimal() -> None:
    m = decode_plx_spot_check(b"\x00" + SPOT)
    assert (m.spo2_pct, m.pulse_rate_bpm) == (98.5, 72.0)
    assert m.timestamp is None
    assert m.measurement_status is None
    assert m.device_and_sensor_status is None
    assert m.pulse_amplitude_index is None
    assert m.device_clock_not_set is False


def test_spot_check_every_field() -> None:
    payload = b"\x1f" + SPOT + STAMP + b"\x20\x00" + b"\x01\x00\x01" + b"\x19\xf0"
    m = decode_plx_spot_check(payload)
    assert m.timestamp == BleTimestamp(2024, 2, 29, 13, 5, 6)
    assert m.measurement_status == 0x0020
    assert ble.describe_status(0x0020, ble.MEASUREMENT_STATUS_BITS) == {"measurement ongoing"}
    assert m.device_and_sensor_status == 0x010001
    assert ble.describe_status(0x010001, ble.DEVICE_SENSOR_STATUS_BITS) == {"extended display update ongoing"}
    assert m.pulse_amplitude_index == 2.5
    assert m.device_clock_not_set is True


@pytest.mark.parametrize("flags", range(32))
def test_spot_check_every_flag_combination(flags: int) -> None:
    parts = [(0x01, STAMP), (0x02, b"\x00\x80"), (0x04, b"\x00\x80\x00"), (0x08, b"\x19\xf0")]
    payload = bytes([flags]) + SPOT + b"".join(part for bit, part in parts if flags & bit)
    m = decode_plx_spot_check(payload)
    assert (m.timestamp is not None) == bool(flags & 0x01)
    assert m.measurement_status == (0x8000 if flags & 0x02 else None)
    assert m.device_and_sensor_status == (0x8000 if flags & 0x04 else None)
    assert m.pulse_amplitude_index == (2.5 if flags & 0x08 else None)
    assert m.device_clock_not_set == bool(flags & 0x10)


def test_spot_check_special_values() -> None:
    m = decode_plx_spot_check(b"\x00\xff\x07\xfe\x07")  # SpO2 NaN, PR +INFINITY
    assert math.isnan(m.spo2_pct)
    assert m.pulse_rate_bpm == math.inf


def test_timestamp_as_datetime() -> None:
    assert BleTimestamp(2024, 2, 29, 13, 5, 6).to_datetime(UTC) == datetime(2024, 2, 29, 13, 5, 6, tzinfo=UTC)
    assert BleTimestamp(0, 2, 29, 13, 5, 6).to_datetime(UTC) is None  # year unknown


@pytest.mark.parametrize(
    ("stamp", "problem"),
    [
        (b"\xe8\x07\x0d\x01\x00\x00\x00", "timestamp month 13 out of range"),
        (b"\xe8\x07\x01\x20\x00\x00\x00", "timestamp day 32 out of range"),
        (b"\xe8\x07\x01\x01\x18\x00\x00", "timestamp hours 24 out of range"),
        (b"\xe8\x07\x01\x01\x00\x3c\x00", "timestamp minutes 60 out of range"),
        (b"\xe8\x07\x01\x01\x00\x00\x3c", "timestamp seconds 60 out of range"),
        (b"\xdc\x05\x01\x01\x00\x00\x00", "timestamp year 1500 out of range"),
        (b"\xe7\x07\x02\x1d\x00\x00\x00", "timestamp day 29 does not exist in 2023-02"),
        (b"\xe8\x07\x04\x1f\x00\x00\x00", "timestamp day 31 does not exist in 2024-04"),
        (b"\xe8\x07\x02", "payload ends inside timestamp day"),
    ],
)
def test_spot_check_bad_timestamp(stamp: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=f"^PLX spot-check measurement: {problem}"):
        decode_plx_spot_check(b"\x01" + SPOT + stamp)


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b"", "payload is empty"),
        (b"\x00\xd9", "payload ends inside SpO2PR-Spot-Check SpO2"),
        (b"\x00\xd9\xf3\x48", "payload ends inside SpO2PR-Spot-Check pulse rate"),
        (b"\x02" + SPOT + b"\x20", "payload ends inside measurement status"),
        (b"\x04" + SPOT + b"\x01\x00", "payload ends inside device and sensor status"),
        (b"\x08" + SPOT + b"\x19", "payload ends inside pulse amplitude index"),
        (b"\x00" + SPOT + b"\x00", "1 unexpected trailing byte"),
        (b"\x20" + SPOT, r"reserved flags bits set \(0x20\)"),
    ],
)
def test_spot_check_malformed(payload: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=f"^PLX spot-check measurement: {problem}"):
        decode_plx_spot_check(payload)


# --- PLX Continuous (0x2A5F) -----------------------------------------------------------------------

NORMAL = b"\x61\x00\x48\x00"  # SpO2 97, PR 72
FAST = b"\x60\x00\x4a\x00"  # 96, 74
SLOW = b"\xd9\xf3\xc4\xf2"  # 98.5, PR 0xF2C4: exponent -1, mantissa 0x2C4 = 708 -> 70.8


@pytest.mark.parametrize("flags", range(32))
def test_continuous_every_flag_combination(flags: int) -> None:
    parts = [(0x01, FAST), (0x02, SLOW), (0x04, b"\x00\x40"), (0x08, b"\x08\x00\x00"), (0x10, b"\x19\xf0")]
    payload = bytes([flags]) + NORMAL + b"".join(part for bit, part in parts if flags & bit)
    m = decode_plx_continuous(payload)
    assert (m.spo2_pct, m.pulse_rate_bpm) == (97.0, 72.0)
    assert m.fast == (SpO2PR(96.0, 74.0) if flags & 0x01 else None)
    assert m.slow == (SpO2PR(98.5, 70.8) if flags & 0x02 else None)
    assert m.measurement_status == (0x4000 if flags & 0x04 else None)
    assert m.device_and_sensor_status == (0x0008 if flags & 0x08 else None)
    assert m.pulse_amplitude_index == (2.5 if flags & 0x10 else None)


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b"\x00\x61\x00", "payload ends inside SpO2PR-Normal pulse rate"),
        (b"\x01" + NORMAL + b"\x60\x00", "payload ends inside SpO2PR-Fast pulse rate"),
        (b"\x02" + NORMAL, "payload ends inside SpO2PR-Slow SpO2"),
        (b"\x0c" + NORMAL + b"\x00\x40\x08", "payload ends inside device and sensor status"),
        (b"\x00" + NORMAL + FAST, "4 unexpected trailing byte"),
        (b"\x40" + NORMAL, r"reserved flags bits set \(0x40\)"),
        (b"\xe0" + NORMAL, r"reserved flags bits set \(0xe0\)"),
    ],
)
def test_continuous_malformed(payload: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=f"^PLX continuous measurement: {problem}"):
        decode_plx_continuous(payload)


# --- PLX Features (0x2A60) -----------------------------------------------------------------------


def test_features_none() -> None:
    f = decode_plx_features(b"\x00\x00")
    assert f.measurement_status_supported is None
    assert f.device_and_sensor_status_supported is None
    assert not any((f.measurement_storage, f.timestamp_storage, f.spo2pr_fast, f.spo2pr_slow))
    assert not f.pulse_amplitude_index
    assert not f.multiple_bonds


def test_features_all() -> None:
    f = decode_plx_features(b"\xff\x00" + b"\xe0\xff" + b"\xff\xff\x00")
    assert f.measurement_status_supported == 0xFFE0
    assert f.device_and_sensor_status_supported == 0x00FFFF
    assert all((f.measurement_storage, f.timestamp_storage, f.spo2pr_fast, f.spo2pr_slow))
    assert f.pulse_amplitude_index
    assert f.multiple_bonds


@pytest.mark.parametrize(
    ("bit", "field"),
    [
        (0x04, "measurement_storage"),
        (0x08, "timestamp_storage"),
        (0x10, "spo2pr_fast"),
        (0x20, "spo2pr_slow"),
        (0x40, "pulse_amplitude_index"),
        (0x80, "multiple_bonds"),
    ],
)
def test_features_single_capability(bit: int, field: str) -> None:
    f = decode_plx_features(bytes([bit, 0]))
    flags = {
        name: getattr(f, name)
        for name in (
            "measurement_storage",
            "timestamp_storage",
            "spo2pr_fast",
            "spo2pr_slow",
            "pulse_amplitude_index",
            "multiple_bonds",
        )
    }
    assert flags == {name: name == field for name in flags}


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b"\x00", "payload ends inside supported features"),
        (b"\x01\x00\xe0", "payload ends inside measurement status support"),
        (b"\x02\x00\xff\xff", "payload ends inside device and sensor status support"),
        (b"\x00\x01", r"reserved supported features bits set \(0x0100\)"),
        (b"\x00\x00\x00", "1 unexpected trailing byte"),
    ],
)
def test_features_malformed(payload: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=f"^PLX features: {problem}"):
        decode_plx_features(payload)


# --- Round trips ---------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None, database=None)
@given(
    spo2=st.integers(50, 100),
    pr=st.integers(20, 250),
    pai=st.none() | st.integers(0, 200).map(lambda v: v / 10),
)
def test_plx_round_trips(spo2: int, pr: int, pai: float | None) -> None:
    cont = decode_plx_continuous(
        encode_plx_continuous(spo2, pr, slow=SpO2PR(spo2, pr), pulse_amplitude_index=pai)
    )
    assert (cont.spo2_pct, cont.pulse_rate_bpm, cont.slow, cont.pulse_amplitude_index) == (
        spo2,
        pr,
        SpO2PR(spo2, pr),
        pai,
    )
    spot = decode_plx_spot_check(encode_plx_spot_check(spo2, pr, measurement_status=0x0100))
    assert (spot.spo2_pct, spot.pulse_rate_bpm, spot.measurement_status) == (spo2, pr, 0x0100)
