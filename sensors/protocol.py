"""The wire format phones send: ``ReadingBatch`` version 1.

A phone streams readings from one device as numbered batches (``stream_id`` + ``seq``, so a
repeat can be recognised). Each batch carries exactly one kind of payload:

* ``values``: readings the phone already has as numbers (a manual entry, or decoded BLE values);
* ``ble_payloads``: raw GATT notifications, base64, decoded by ``sensors.ble`` (validated here);
* ``ppg``: a run of photoplethysmogram samples (fingertip camera).

Times: ``started_at`` is when the stream began; every ``t_offset_s`` counts seconds from it and
never decreases within a batch. Numbers must be finite; unknown fields are refused.
"""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta
from typing import Annotated, Any, Literal, cast
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    field_validator,
    model_validator,
)

from sensors import ble

PROTOCOL_VERSION = 1
MAX_VALUES = 3000
MAX_BLE_PAYLOADS = 3000
MAX_PPG_SAMPLES = 60000
MAX_RR_PER_VALUE = 30
MAX_BLE_BYTES = 512  # the largest GATT attribute value
CLOCK_SKEW = timedelta(seconds=60)  # how far a reading may seem to lie after ``sent_at``

DeviceKind = Literal["ble-hr", "ble-plx", "camera", "manual"]
Characteristic = Literal["2a37", "2a5e", "2a5f"]
Offset = Annotated[float, Field(strict=True, ge=0.0, le=86400.0, description="seconds after started_at")]

_ALLOWED_PAYLOADS: dict[str, tuple[str, ...]] = {
    "ble-hr": ("values", "ble_payloads"),
    "ble-plx": ("values", "ble_payloads"),
    "camera": ("values", "ppg"),
    "manual": ("values",),
}
_CHARACTERISTICS: dict[str, tuple[str, ...]] = {"ble-hr": ("2a37",), "ble-plx": ("2a5e", "2a5f")}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class DeviceInfo(_Strict):
    kind: DeviceKind
    model: str = Field(min_length=1, max_length=100, description="maker and model, e.g. 'Polar H10'")
    firmware: str | None = Field(default=None, min_length=1, max_length=50)


class ValueReading(_Strict):
    """One reading the phone already holds as numbers; at least one measurement must be present."""

    t_offset_s: Offset
    heart_rate_bpm: float | None = Field(default=None, strict=True, ge=20, le=250)
    spo2_pct: float | None = Field(default=None, strict=True, ge=50, le=100)
    rr_intervals_s: list[Annotated[float, Field(strict=True, ge=0.24, le=3.0)]] | None = Field(
        default=None, min_length=1, max_length=MAX_RR_PER_VALUE
    )

    @model_validator(mode="after")
    def _has_a_measurement(self) -> ValueReading:
        if self.heart_rate_bpm is None and self.spo2_pct is None and self.rr_intervals_s is None:
            raise ValueError("a value needs at least one of heart_rate_bpm, spo2_pct, rr_intervals_s")
        return self


class BlePayload(_Strict):
    """One GATT notification or indication as received, base64-encoded (standard alphabet, padded)."""

    t_offset_s: Offset
    characteristic: Characteristic = Field(description="16-bit characteristic UUID, lower-case hex")
    data_b64: str = Field(min_length=4, max_length=4 * ((MAX_BLE_BYTES + 2) // 3))

    @field_validator("data_b64")
    @classmethod
    def _is_base64(cls, value: str) -> str:
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("data_b64 is not valid base64") from None
        if not 1 <= len(data) <= MAX_BLE_BYTES:
            raise ValueError(f"data_b64 must decode to 1-{MAX_BLE_BYTES} bytes")
        return value

    @model_validator(mode="after")
    def _decodes(self) -> BlePayload:
        self.decoded()  # raises ValueError naming the field at fault
        return self

    @property
    def data(self) -> bytes:
        return base64.b64decode(self.data_b64)

    def decoded(self) -> ble.Decoded:
        return ble.DECODERS[self.characteristic](self.data)


class PpgRun(_Strict):
    """Contiguous PPG samples at a fixed rate, the first one taken at ``t_offset_s``."""

    t_offset_s: Offset
    fs: float = Field(strict=True, ge=20, le=500, description="samples per second")
    samples: list[Annotated[float, Field(strict=True)]] = Field(min_length=1, max_length=MAX_PPG_SAMPLES)


EXAMPLE_VALUES: dict[str, Any] = {
    "version": 1,
    "stream_id": "7b0a4b8e-3c1d-4f5e-9a2b-1c2d3e4f5a6b",
    "seq": 0,
    "device": {"kind": "ble-hr", "model": "Polar H10", "firmware": "3.1.1"},
    "sent_at": "2025-03-03T09:00:02Z",
    "started_at": "2025-03-03T09:00:00Z",
    "values": [
        {"t_offset_s": 0.0, "heart_rate_bpm": 72, "rr_intervals_s": [0.83]},
        {"t_offset_s": 1.0, "heart_rate_bpm": 73, "rr_intervals_s": [0.82, 0.81]},
    ],
}
EXAMPLE_BLE: dict[str, Any] = {
    "version": 1,
    "stream_id": "7b0a4b8e-3c1d-4f5e-9a2b-1c2d3e4f5a6b",
    "seq": 1,
    "device": {"kind": "ble-hr", "model": "Polar H10"},
    "sent_at": "2025-03-03T09:00:03Z",
    "started_at": "2025-03-03T09:00:00Z",
    "ble_payloads": [{"t_offset_s": 2.0, "characteristic": "2a37", "data_b64": "EEhUAw=="}],
}
EXAMPLE_PPG: dict[str, Any] = {
    "version": 1,
    "stream_id": "0d8f6c1e-2b3a-4c5d-8e9f-a0b1c2d3e4f5",
    "seq": 0,
    "device": {"kind": "camera", "model": "Pixel 8 rear camera"},
    "sent_at": "2025-03-03T09:00:01Z",
    "started_at": "2025-03-03T09:00:00Z",
    "sample_rate_hz": 30,
    "ppg": {"t_offset_s": 0.0, "fs": 30, "samples": [0.0, 0.004, 0.011, 0.009, 0.002, -0.003]},
}


# Complete, valid batches: one per payload kind (published in the JSON schema).
EXAMPLES: list[dict[str, Any]] = [EXAMPLE_VALUES, EXAMPLE_BLE, EXAMPLE_PPG]


class ReadingBatch(_Strict):
    """One batch of readings from one device stream (wire format version 1)."""

    model_config = ConfigDict(json_schema_extra={"examples": cast("list[JsonValue]", EXAMPLES)})

    version: Literal[1]
    stream_id: UUID
    seq: int = Field(strict=True, ge=0, le=2**31 - 1, description="batch number within the stream")
    device: DeviceInfo
    sent_at: AwareDatetime
    started_at: AwareDatetime
    sample_rate_hz: float | None = Field(default=None, strict=True, ge=20, le=500)
    values: list[ValueReading] | None = Field(default=None, min_length=1, max_length=MAX_VALUES)
    ble_payloads: list[BlePayload] | None = Field(default=None, min_length=1, max_length=MAX_BLE_PAYLOADS)
    ppg: PpgRun | None = None

    @property
    def payload_kind(self) -> Literal["values", "ble_payloads", "ppg"]:
        if self.values is not None:
            return "values"
        return "ble_payloads" if self.ble_payloads is not None else "ppg"

    def _offsets(self) -> list[float]:
        if self.values is not None:
            return [v.t_offset_s for v in self.values]
        if self.ble_payloads is not None:
            return [p.t_offset_s for p in self.ble_payloads]
        if self.ppg is not None:
            return [self.ppg.t_offset_s, self.ppg.t_offset_s + (len(self.ppg.samples) - 1) / self.ppg.fs]
        return []

    @model_validator(mode="after")
    def _consistent(self) -> ReadingBatch:
        present = [k for k in ("values", "ble_payloads", "ppg") if getattr(self, k) is not None]
        if len(present) != 1:
            raise ValueError(
                f"exactly one of values, ble_payloads, ppg is required (got {present or 'none'})"
            )
        kind = present[0]
        if kind not in _ALLOWED_PAYLOADS[self.device.kind]:
            raise ValueError(f"a {self.device.kind} device cannot send {kind}")
        if self.ble_payloads is not None:
            allowed = _CHARACTERISTICS[self.device.kind]
            for i, p in enumerate(self.ble_payloads):
                if p.characteristic not in allowed:
                    raise ValueError(
                        f"ble_payloads[{i}]: a {self.device.kind} device does not send {p.characteristic}"
                    )
        if self.ppg is not None and self.sample_rate_hz is not None and self.sample_rate_hz != self.ppg.fs:
            raise ValueError("sample_rate_hz and ppg.fs disagree")
        self._check_times()
        return self

    def _check_times(self) -> None:
        if self.started_at > self.sent_at:
            raise ValueError("started_at is after sent_at")
        offsets = self._offsets()
        if not offsets:
            return
        for i in range(1, len(offsets)):
            if offsets[i] < offsets[i - 1]:
                raise ValueError(
                    f"{self.payload_kind}[{i}]: t_offset_s goes backwards ({offsets[i]} < {offsets[i - 1]})"
                )
        latest = self.started_at + timedelta(seconds=offsets[-1])
        if latest > self.sent_at + CLOCK_SKEW:
            raise ValueError("readings lie after sent_at: check started_at and t_offset_s")
