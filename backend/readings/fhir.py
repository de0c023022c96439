"""A stream as a FHIR R4 Bundle (pure; no I/O).

One ``collection`` Bundle holding the Patient and Device, one vital-signs Observation per heart
rate (LOINC 8867-4, ``/min``) and per SpO2 (LOINC 2708-6 and 59408-5, ``%``), with
``dataAbsentReason`` instead of a value where the device sent a special value, and one
Observation per contiguous PPG run carrying the waveform as SampledData (IEEE 11073
MDC_PULS_OXIM_PLETH). Ids are name-based UUIDs, so exporting a stream twice gives the same ids.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from backend.readings.schemas import PpgRunRow, ReadingRow, StreamRow

UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
MDC = "urn:iso:std:iso:11073:10101"
ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
CATEGORY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "vital-signs",
            "display": "Vital Signs",
        }
    ],
    "text": "Vital Signs",
}
HEART_RATE = {
    "profile": "http://hl7.org/fhir/StructureDefinition/heartrate",
    "code": {"coding": [{"system": LOINC, "code": "8867-4", "display": "Heart rate"}], "text": "Heart rate"},
    "unit": {"unit": "beats/minute", "system": UCUM, "code": "/min"},
}
SPO2 = {
    "profile": "http://hl7.org/fhir/StructureDefinition/oxygensat",
    "code": {
        "coding": [
            {"system": LOINC, "code": "2708-6", "display": "Oxygen saturation in Arterial blood"},
            {
                "system": LOINC,
                "code": "59408-5",
                "display": "Oxygen saturation in Arterial blood by Pulse oximetry",
            },
        ],
        "text": "Oxygen saturation (SpO2)",
    },
    "unit": {"unit": "%", "system": UCUM, "code": "%"},
}
PLETH = {
    "coding": [{"system": MDC, "code": "150452", "display": "MDC_PULS_OXIM_PLETH"}],
    "text": "Photoplethysmogram (fingertip)",
}
ABSENT_DISPLAY = {
    "not-a-number": "Not a Number (NaN)",
    "positive-infinity": "Positive Infinity (PINF)",
    "negative-infinity": "Negative Infinity (NINF)",
    "error": "Error",
}
DEVICE_TYPE = {
    "ble-hr": "Bluetooth heart-rate sensor",
    "ble-plx": "Bluetooth pulse oximeter",
    "camera": "Phone camera (fingertip photoplethysmography)",
    "manual": "Manual entry",
}
METHOD = {
    "value": "Reported by the phone",
    "2a37": "Bluetooth Heart Rate Measurement",
    "2a5e": "Bluetooth PLX spot-check measurement",
    "2a5f": "Bluetooth PLX continuous measurement",
    "ppg": "Fingertip photoplethysmography, 10 s window",
}


def _when(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}


def _vital(
    kind: dict[str, Any],
    oid: UUID,
    row: ReadingRow,
    value: float | None,
    absent: str | None,
    refs: dict[str, Any],
) -> dict[str, Any]:
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(oid),
        "meta": {"profile": [kind["profile"]]},
        "status": "final",
        "category": [CATEGORY],
        "code": kind["code"],
        **refs,
        "effectiveDateTime": _when(row.taken_at),
    }
    if value is not None:
        obs["valueQuantity"] = {"value": round(value, 2), **kind["unit"]}
    else:
        code = absent or "error"
        obs["dataAbsentReason"] = {
            "coding": [{"system": ABSENT, "code": code, "display": ABSENT_DISPLAY[code]}]
        }
    method = METHOD[row.source]
    if row.quality is not None:
        method += f"; signal quality {row.quality:.2f} (0 to 1)"
    obs["method"] = {"text": method}
    return obs


def _observations(row: ReadingRow, stream_id: UUID, refs: dict[str, Any]) -> list[dict[str, Any]]:
    key = f"{row.seq}/{row.offset_s!r}/{row.source}"
    out = []
    if row.heart_rate_bpm is not None or row.heart_rate_absent is not None:
        oid = uuid5(stream_id, f"hr/{key}")
        out.append(_vital(HEART_RATE, oid, row, row.heart_rate_bpm, row.heart_rate_absent, refs))
    if row.spo2_pct is not None or row.spo2_absent is not None:
        oid = uuid5(stream_id, f"spo2/{key}")
        out.append(_vital(SPO2, oid, row, row.spo2_pct, row.spo2_absent, refs))
    return out


def contiguous(runs: Sequence[PpgRunRow]) -> list[list[PpgRunRow]]:
    """PPG runs grouped where each follows the last without a gap at the same rate."""
    groups: list[list[PpgRunRow]] = []
    for run in runs:
        if groups:
            last = groups[-1][-1]
            expected = last.first_offset_s + len(last.samples) / last.fs
            if (
                math.isclose(last.fs, run.fs, rel_tol=1e-6)
                and abs(expected - run.first_offset_s) <= 1.5 / run.fs
            ):
                groups[-1].append(run)
                continue
        groups.append([run])
    return groups


def _number(x: float) -> str:
    return format(x, ".6g")


def _waveform(
    group: list[PpgRunRow], started_at: datetime, stream_id: UUID, refs: dict[str, Any]
) -> dict[str, Any]:
    fs = group[0].fs
    samples = [x for run in group for x in run.samples]
    start = started_at + timedelta(seconds=group[0].first_offset_s)
    end = start + timedelta(seconds=(len(samples) - 1) / fs)
    return {
        "resourceType": "Observation",
        "id": str(uuid5(stream_id, f"pleth/{group[0].seq}")),
        "status": "final",
        "code": PLETH,
        **refs,
        "effectivePeriod": {"start": _when(start), "end": _when(end)},
        "valueSampledData": {
            "origin": {"value": 0},
            "period": round(1000.0 / fs, 6),
            "dimensions": 1,
            "data": " ".join(_number(x) for x in samples),
        },
    }


def bundle(
    stream: StreamRow,
    readings: Sequence[ReadingRow],
    runs: Sequence[PpgRunRow],
    *,
    base_url: str,
    now: datetime,
) -> dict[str, Any]:
    patient_id = uuid5(stream.id, "patient")
    device_id = uuid5(stream.id, "device")
    patient = {
        "resourceType": "Patient",
        "id": str(patient_id),
        "identifier": [{"system": f"{base_url}/fhir/sid/app-user", "value": str(stream.employee_id)}],
        "name": [{"text": stream.employee_name or "Employee"}],
    }
    device = {
        "resourceType": "Device",
        "id": str(device_id),
        "deviceName": [{"name": stream.device_model, "type": "model-name"}],
        "type": {"text": DEVICE_TYPE[stream.device_kind]},
        "patient": {"reference": f"urn:uuid:{patient_id}"},
    }
    refs = {
        "subject": {"reference": f"urn:uuid:{patient_id}"},
        "device": {"reference": f"urn:uuid:{device_id}"},
    }
    resources: list[dict[str, Any]] = [patient, device]
    for row in readings:
        resources.extend(_observations(row, stream.id, refs))
    if stream.started_at is not None:
        resources.extend(_waveform(g, stream.started_at, stream.id, refs) for g in contiguous(runs))
    return {
        "resourceType": "Bundle",
        "id": str(uuid5(stream.id, f"bundle/{stream.batches}")),
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{stream.id}"},
        "type": "collection",
        "timestamp": _when(now),
        "entry": [_entry(r) for r in resources],
    }
