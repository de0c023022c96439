"""The phone wire format: every example validates, and each rule refuses with a clear message."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pydantic import ValidationError

from sensors.ble import HeartRateMeasurement
from sensors.protocol import EXAMPLES, MAX_BLE_PAYLOADS, MAX_PPG_SAMPLES, MAX_VALUES, ReadingBatch


def _values(**changes: Any) -> dict[str, Any]:
    batch = copy.deepcopy(EXAMPLES[0])
    batch.update(changes)
    return batch


def _refused(batch: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ReadingBatch.model_validate(batch)
    assert message in str(caught.value), str(caught.value)
    with pytest.raises(ValidationError):  # the same over JSON, as a phone sends it
        ReadingBatch.model_validate_json(json.dumps(batch, default=str))


@pytest.mark.parametrize("example", EXAMPLES, ids=["values", "ble_payloads", "ppg"])
def test_examples_are_valid(example: dict[str, Any]) -> None:
    batch = ReadingBatch.model_validate_json(json.dumps(example))
    assert batch == ReadingBatch.model_validate(example)
    again = ReadingBatch.model_validate_json(batch.model_dump_json(exclude_none=True))
    assert again == batch


def test_schema_publishes_examples_and_forbids_extras() -> None:
    schema = ReadingBatch.model_json_schema()
    assert schema["examples"] == EXAMPLES
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"version", "stream_id", "seq", "device", "sent_at", "started_at"}


def test_ble_payload_is_decoded() -> None:
    batch = ReadingBatch.model_validate(EXAMPLES[1])
    assert batch.payload_kind == "ble_payloads"
    assert batch.ble_payloads is not None
    payload = batch.ble_payloads[0]
    assert payload.data == b"\x10\x48\x54\x03"
    assert payload.decoded() == HeartRateMeasurement(72, None, None, (0x0354 / 1024,))


def test_batches_are_immutable() -> None:
    batch = ReadingBatch.model_validate(EXAMPLES[0])
    with pytest.raises(ValidationError):
        batch.seq = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"version": 2}, "Input should be 1"),
        ({"seq": -1}, "greater than or equal to 0"),
        ({"seq": "3"}, "valid integer"),
        ({"seq": 1.0}, "valid integer"),
        ({"stream_id": "not-a-uuid"}, "valid UUID"),
        ({"sent_at": "2025-03-03T09:00:02"}, "timezone"),
        ({"sample_rate_hz": 10}, "greater than or equal to 20"),
        ({"sample_rate_hz": 501}, "less than or equal to 500"),
        ({"colour": "red"}, "Extra inputs are not permitted"),
        ({"device": {"kind": "watch", "model": "X"}}, "'ble-hr', 'ble-plx', 'camera' or 'manual'"),
        ({"device": {"kind": "ble-hr", "model": ""}}, "at least 1 character"),
        ({"device": {"kind": "ble-hr", "model": "X", "serial": "1"}}, "Extra inputs are not permitted"),
        ({"started_at": "2025-03-03T09:00:03Z"}, "started_at is after sent_at"),
    ],
)
def test_header_rules(changes: dict[str, Any], message: str) -> None:
    _refused(_values(**changes), message)


def test_readings_after_sending_are_refused() -> None:
    late = [{"t_offset_s": 600.0, "heart_rate_bpm": 70}]
    _refused(_values(values=late), "readings lie after sent_at")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"t_offset_s": 0.0, "heart_rate_bpm": 19}, "greater than or equal to 20"),
        ({"t_offset_s": 0.0, "heart_rate_bpm": 251}, "less than or equal to 250"),
        ({"t_offset_s": 0.0, "spo2_pct": 49}, "greater than or equal to 50"),
        ({"t_offset_s": 0.0, "spo2_pct": 100.5}, "less than or equal to 100"),
        ({"t_offset_s": 0.0, "rr_intervals_s": [0.1]}, "greater than or equal to 0.24"),
        ({"t_offset_s": 0.0, "rr_intervals_s": []}, "at least 1 item"),
        ({"t_offset_s": 0.0, "rr_intervals_s": [0.8] * 31}, "at most 30 items"),
        ({"t_offset_s": 0.0}, "at least one of heart_rate_bpm, spo2_pct, rr_intervals_s"),
        ({"t_offset_s": -0.5, "heart_rate_bpm": 70}, "greater than or equal to 0"),
        ({"t_offset_s": 0.0, "heart_rate_bpm": "70"}, "valid number"),
        ({"t_offset_s": 0.0, "heart_rate_bpm": 70, "note": "x"}, "Extra inputs are not permitted"),
    ],
)
def test_value_rules(value: dict[str, Any], message: str) -> None:
    _refused(_values(values=[value]), message)


def test_values_must_not_go_back_in_time() -> None:
    values = [{"t_offset_s": 1.0, "heart_rate_bpm": 70}, {"t_offset_s": 0.5, "heart_rate_bpm": 71}]
    _refused(_values(values=values), "values[1]: t_offset_s goes backwards (0.5 < 1.0)")


def test_equal_offsets_are_fine() -> None:
    values = [{"t_offset_s": 1.0, "heart_rate_bpm": 70}, {"t_offset_s": 1.0, "spo2_pct": 97}]
    assert ReadingBatch.model_validate(_values(values=values)).values is not None


def test_not_a_number_is_refused_over_json() -> None:
    text = json.dumps(_values()).replace('"heart_rate_bpm": 72', '"heart_rate_bpm": NaN')
    with pytest.raises(ValidationError):
        ReadingBatch.model_validate_json(text)
    _refused(_values(values=[{"t_offset_s": 0.0, "heart_rate_bpm": float("nan")}]), "finite number")


@pytest.mark.parametrize(
    ("field", "item", "limit"),
    [
        ("values", {"t_offset_s": 0.0, "heart_rate_bpm": 70}, MAX_VALUES),
        ("ble_payloads", {"t_offset_s": 0.0, "characteristic": "2a37", "data_b64": "AEg="}, MAX_BLE_PAYLOADS),
    ],
)
def test_list_bounds(field: str, item: dict[str, Any], limit: int) -> None:
    batch = _values(values=None)
    batch[field] = [item] * limit
    assert ReadingBatch.model_validate(batch)
    batch[field] = [item] * (limit + 1)
    _refused(batch, f"at most {limit} items")
    batch[field] = []
    _refused(batch, "at least 1 item")


def test_payload_kinds() -> None:
    _refused(_values(values=None), "exactly one of values, ble_payloads, ppg is required (got none)")
    both = _values(ble_payloads=EXAMPLES[1]["ble_payloads"])
    _refused(both, "exactly one of values, ble_payloads, ppg is required (got ['values', 'ble_payloads'])")
    _refused(_values(values=None, ppg=EXAMPLES[2]["ppg"]), "a ble-hr device cannot send ppg")
    manual = _values(
        values=None, ble_payloads=EXAMPLES[1]["ble_payloads"], device={"kind": "manual", "model": "M"}
    )
    _refused(manual, "a manual device cannot send ble_payloads")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"characteristic": "2a37", "data_b64": "not base64!"}, "data_b64 is not valid base64"),
        ({"characteristic": "2a37", "data_b64": "AEg"}, "at least 4 characters"),
        (
            {"characteristic": "2a37", "data_b64": "EEhUAwA="},
            "heart rate measurement: payload ends inside RR interval 2",
        ),
        ({"characteristic": "2a37", "data_b64": "IEg="}, "heart rate measurement: reserved flags bits set"),
        ({"characteristic": "2A37", "data_b64": "AEg="}, "'2a37', '2a5e' or '2a5f'"),
        ({"characteristic": "2a60", "data_b64": "AAA="}, "'2a37', '2a5e' or '2a5f'"),
        (
            {"characteristic": "2a5f", "data_b64": "AGEASAA="},
            "ble_payloads[0]: a ble-hr device does not send 2a5f",
        ),
        ({"characteristic": "2a37", "data_b64": "A" * 700}, "at most 684 characters"),
    ],
)
def test_ble_payload_rules(payload: dict[str, Any], message: str) -> None:
    batch = copy.deepcopy(EXAMPLES[1])
    batch["ble_payloads"] = [{"t_offset_s": 2.0, **payload}]
    _refused(batch, message)


def test_plx_payloads_on_a_plx_device() -> None:
    batch = copy.deepcopy(EXAMPLES[1])
    batch["device"] = {"kind": "ble-plx", "model": "Oximeter"}
    batch["ble_payloads"] = [{"t_offset_s": 2.0, "characteristic": "2a5f", "data_b64": "AGEASAA="}]
    decoded = ReadingBatch.model_validate(batch).ble_payloads[0].decoded()  # type: ignore[index]
    assert (decoded.spo2_pct, decoded.pulse_rate_bpm) == (97.0, 72.0)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("ppg", "extra", "message"),
    [
        ({"t_offset_s": 0.0, "fs": 30, "samples": []}, {}, "at least 1 item"),
        ({"t_offset_s": 0.0, "fs": 10, "samples": [0.0]}, {}, "greater than or equal to 20"),
        (
            {"t_offset_s": 0.0, "fs": 30, "samples": [0.0]},
            {"sample_rate_hz": 25},
            "sample_rate_hz and ppg.fs disagree",
        ),
        ({"t_offset_s": 0.0, "fs": 30, "samples": ["x"]}, {}, "valid number"),
        ({"fs": 30, "samples": [0.0]}, {}, "Field required"),
        ({"t_offset_s": 0.0, "fs": 20, "samples": [0.0] * 100}, {}, "readings lie after sent_at"),
    ],
)
def test_ppg_rules(ppg: dict[str, Any], extra: dict[str, Any], message: str) -> None:
    batch = copy.deepcopy(EXAMPLES[2])
    batch.pop("sample_rate_hz")
    batch.update(ppg=ppg, **extra)
    if "readings lie" in message:
        ppg["t_offset_s"] = 100.0  # 100 s after a start 1 s before sending
    _refused(batch, message)


def test_ppg_sample_bound() -> None:
    batch = copy.deepcopy(EXAMPLES[2])
    batch["sent_at"] = "2025-03-03T09:10:00Z"
    batch.pop("sample_rate_hz")
    batch["ppg"] = {"t_offset_s": 0.0, "fs": 500, "samples": [0.0] * MAX_PPG_SAMPLES}
    assert ReadingBatch.model_validate(batch).ppg is not None
    batch["ppg"]["samples"].append(0.0)
    _refused(batch, f"at most {MAX_PPG_SAMPLES} items")
