"""BLE payload decoding against byte vectors written out by hand.

Multi-byte fields are little-endian, so 0x0400 travels as b"\\x00\\x04". SFLOAT is 16 bits:
the high nibble a signed exponent, the low 12 bits a signed mantissa.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensors import ble
from sensors.ble import (
    decode_heart_rate_measurement,
    decode_plx_continuous,
    decode_plx_features,
    decode_plx_spot_check,
    float32_11073,
    sfloat,
)
from sensors.ble_encode import (
    encode_heart_rate_measurement,
    encode_sfloat,
)

FUZZ = settings(max_examples=400, deadline=None, database=None)

# --- SFLOAT / FLOAT ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [0x07FF, 0x0800, 0x0801])
def test_sfloat_not_a_number(raw: int) -> None:
    # NaN, NRes (not at this resolution) and the reserved value all read as "no number".
    assert math.isnan(sfloat(raw))


def test_sfloat_infinities() -> None:
    assert sfloat(0x07FE) == math.inf
    assert sfloat(0x0802) == -math.inf


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (0x0048, 72.0),  # exponent 0, mantissa 0x048 = 72
        (0xF3E8, 100.0),  # exponent 0xF = -1, mantissa 0x3E8 = 1000: 1000 x 10^-1
        (0xF3D9, 98.5),  # exponent -1, mantissa 0x3D9 = 985
        (0xF019, 2.5),  # exponent -1, mantissa 0x019 = 25
        (0xEFFF, -0.01),  # exponent 0xE = -2, mantissa 0xFFF = -1
        (0xFF9B, -10.1),  # exponent -1, mantissa 0xF9B = 3995 - 4096 = -101
        (0x1001, 10.0),  # exponent 1, mantissa 1
        (0x77FF, 2.047e10),  # exponent 7, mantissa 0x7FF = 2047 (the largest value)
        (0x7FFF, -1e7),  # exponent 7, mantissa 0xFFF = -1
        (0x8001, 1e-8),  # exponent 0x8 = -8, mantissa 1
        (0x0FFF, -1.0),  # exponent 0, mantissa -1
        (0x0000, 0.0),
        (0x1800, -20480.0),  # mantissa 0x800 = -2048 is only special with exponent 0
        (0x17FF, 20470.0),  # likewise 0x7FF with exponent 1 is 2047 x 10
    ],
)
def test_sfloat_values(raw: int, value: float) -> None:
    assert sfloat(raw) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("raw", [-1, 0x10000, 1 << 40])
def test_sfloat_out_of_range(raw: int) -> None:
    with pytest.raises(ValueError, match="16-bit"):
        sfloat(raw)


@pytest.mark.parametrize("raw", [True, 1.5, "72", None])
def test_sfloat_rejects_non_integers(raw: object) -> None:
    with pytest.raises(ValueError, match="16-bit"):
        sfloat(raw)  # type: ignore[arg-type]


def test_every_sfloat_decodes_to_mantissa_times_power_of_ten() -> None:
    raw = np.arange(0x10000)
    exponent = (raw >> 12) - np.where(raw >> 12 >= 8, 16, 0)
    mantissa = (raw & 0x0FFF) - np.where(raw & 0x0FFF >= 2048, 4096, 0)
    ordinary = ~np.isin(raw, [0x07FF, 0x0800, 0x0801, 0x07FE, 0x0802])
    decoded = np.array([sfloat(int(r)) for r in raw])
    np.testing.assert_allclose(decoded[ordinary], (mantissa * 10.0**exponent)[ordinary], rtol=1e-12)
    assert np.isnan(decoded[~ordinary]).sum() == 3


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (0x007FFFFF, math.nan),
        (0x00800000, math.nan),
        (0x00800001, math.nan),
        (0x007FFFFE, math.inf),
        (0x00800002, -math.inf),
        (0xFE0003E8, 10.0),  # exponent 0xFE = -2, mantissa 1000
        (0xFF000001, 0.1),
        (0x00FFFFFF, -1.0),
        (0x02000005, 500.0),
    ],
)
def test_float32(raw: int, value: float) -> None:
    got = float32_11073(raw)
    assert (math.isnan(got) and math.isnan(value)) or got == pytest.approx(value, rel=1e-12)


def test_float32_out_of_range() -> None:
    with pytest.raises(ValueError, match="32-bit"):
        float32_11073(1 << 32)


@pytest.mark.parametrize("value", [72.0, 98.5, 0.0, -1.0, 2.5, 250.0, 12345.0, 0.001])
def test_sfloat_encoding_round_trip(value: float) -> None:
    assert sfloat(encode_sfloat(value)) == pytest.approx(value, rel=1e-3)


# --- Heart Rate Measurement (0x2A37) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "hr", "contact", "energy", "rr"),
    [
        (b"\x00\x48", 72, None, None, ()),
        (b"\x01\x48\x00", 72, None, None, ()),  # 16-bit heart rate
        (b"\x01\x2c\x01", 300, None, None, ()),  # 0x012C
        (b"\x02\x48", 72, None, None, ()),  # "detected" without "supported" means unknown
        (b"\x04\x48", 72, False, None, ()),  # supported, no contact
        (b"\x06\x48", 72, True, None, ()),
        (b"\x08\x48\x10\x27", 72, None, 10000, ()),  # 0x2710 kJ
        (b"\x10\x48\x00\x04", 72, None, None, (1.0,)),  # 0x0400 / 1024 s
        (b"\x10\x48\x00\x04\x00\x02\x33\x03", 72, None, None, (1.0, 0.5, 819 / 1024)),
        (b"\x1f\x48\x00\x10\x27\x00\x04", 72, True, 10000, (1.0,)),  # every flag
        (b"\x16\x3c\x00\x04", 60, True, None, (1.0,)),
    ],
)
def test_heart_rate_measurement(
    payload: bytes, hr: int, contact: bool | None, energy: int | None, rr: tuple[float, ...]
) -> None:
    m = decode_heart_rate_measurement(payload)
    assert (m.heart_rate_bpm, m.sensor_contact, m.energy_expended_kj) == (hr, contact, energy)
    assert m.rr_intervals_s == pytest.approx(rr)


def _hrm_by_hand(flags: int) -> tuple[bytes, int, bool | None, int | None, tuple[float, ...]]:
    body = b"\x00\x01" if flags & 0x01 else b"\x5a"  # 256 or 90
    hr = 256 if flags & 0x01 else 90
    contact = bool(flags & 0x02) if flags & 0x04 else None
    energy = None
    if flags & 0x08:
        body += b"\xe8\x03"
        energy = 1000
    rr: tuple[float, ...] = ()
    if flags & 0x10:
        body += b"\x00\x03\x80\x02"  # 768 and 640 units
        rr = (0.75, 0.625)
    return bytes([flags]) + body, hr, contact, energy, rr


@pytest.mark.parametrize("flags", range(32))
def test_heart_rate_measurement_every_flag_combination(flags: int) -> None:
    payload, hr, contact, energy, rr = _hrm_by_hand(flags)
    m = decode_heart_rate_measurement(payload)
    assert (m.heart_rate_bpm, m.sensor_contact, m.energy_expended_kj, m.rr_intervals_s) == (
        hr,
        contact,
        energy,
        rr,
    )


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b"", "payload is empty"),
        (b"\x01\x48", "payload ends inside heart rate value"),
        (b"\x00", "payload ends inside heart rate value"),
        (b"\x08\x48\x10", "payload ends inside energy expended"),
        (b"\x10\x48", "RR-interval flag set but no RR interval"),
        (b"\x10\x48\x00", "payload ends inside RR interval 1"),
        (b"\x10\x48\x00\x04\x00\x02\x01", "payload ends inside RR interval 3"),
        (b"\x00\x48\x00", "1 unexpected trailing byte"),
        (b"\x08\x48\x10\x27\x00\x04", "2 unexpected trailing byte"),
        (b"\x20\x48", r"reserved flags bits set \(0x20\)"),
        (b"\x80\x48", r"reserved flags bits set \(0x80\)"),
    ],
)
def test_heart_rate_measurement_malformed(payload: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=f"^heart rate measurement: {problem}"):
        decode_heart_rate_measurement(payload)


def test_decoders_refuse_non_bytes() -> None:
    with pytest.raises(ValueError, match="must be bytes"):
        decode_heart_rate_measurement("\x00\x48")  # type: ignore[arg-type]


def test_decoders_accept_bytearray_and_memoryview() -> None:
    assert decode_heart_rate_measurement(bytearray(b"\x00\x48")).heart_rate_bpm == 72
    assert decode_heart_rate_measurement(memoryview(b"\x00\x48")).heart_rate_bpm == 72


# --- Round trips and fuzzing -------------------------------------------------------------------------


@FUZZ
@given(
    hr=st.integers(0, 0xFFFF),
    rr=st.lists(st.integers(0, 0xFFFF), max_size=9),
    contact=st.none() | st.booleans(),
    energy=st.none() | st.integers(0, 0xFFFF),
)
def test_heart_rate_round_trip(hr: int, rr: list[int], contact: bool | None, energy: int | None) -> None:
    intervals = tuple(v / 1024 for v in rr)
    payload = encode_heart_rate_measurement(
        hr, rr_intervals_s=intervals, sensor_contact=contact, energy_expended_kj=energy
    )
    assert decode_heart_rate_measurement(payload) == ble.HeartRateMeasurement(hr, contact, energy, intervals)


DECODERS = [decode_heart_rate_measurement, decode_plx_spot_check, decode_plx_continuous, decode_plx_features]


PREFIXES = {
    "heart rate measurement",
    "PLX spot-check measurement",
    "PLX continuous measurement",
    "PLX features",
}


def _failure(decode, data: bytes) -> str | None:
    """The ValueError message, or None when the bytes decoded; any other exception propagates."""
    try:
        decode(data)
    except ValueError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("decode", DECODERS)
@FUZZ
@given(data=st.binary(max_size=40))
def test_random_bytes_give_a_result_or_value_error(decode, data: bytes) -> None:
    message = _failure(decode, data)
    assert message is None or message.split(":")[0] in PREFIXES


@pytest.mark.parametrize("decode", DECODERS)
@FUZZ
@given(flags=st.integers(0, 0x1F), rest=st.binary(max_size=30))
def test_random_bodies_behind_valid_flags(decode, flags: int, rest: bytes) -> None:
    with contextlib.suppress(ValueError):
        decode(bytes([flags]) + rest)
