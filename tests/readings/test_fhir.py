"""The FHIR export validates as an R4 Bundle (fhir.resources R4B models) and keeps our own
invariants: vital-signs profiles and codes, UCUM units, value xor dataAbsentReason, references
that resolve inside the bundle, and waveforms whose SampledData matches what was received."""

from __future__ import annotations

import base64
import struct
from typing import Any

import asyncpg
import httpx
from fhir.resources.R4B.bundle import Bundle

from tests.factories import login, make_world
from tests.readings.helpers import post, simulated, start_stream, values_batch

HR_CODE = {("http://loinc.org", "8867-4")}
SPO2_CODES = {("http://loinc.org", "2708-6"), ("http://loinc.org", "59408-5")}


def codes(obs: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in obs["code"]["coding"]}


def check_invariants(bundle: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Our own rules on top of the R4 model; returns the resources by kind."""
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    full_urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(full_urls) == len(set(full_urls)), "duplicate entries"
    resources = [e["resource"] for e in bundle["entry"]]
    for entry in bundle["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
    kinds: dict[str, list[dict[str, Any]]] = {"hr": [], "spo2": [], "pleth": [], "other": []}
    for res in resources:
        if res["resourceType"] != "Observation":
            kinds["other"].append(res)
            continue
        assert res["subject"]["reference"] in full_urls
        assert res["device"]["reference"] in full_urls
        assert res["status"] == "final"
        assert ("valueQuantity" in res or "valueSampledData" in res) != ("dataAbsentReason" in res)
        if codes(res) == HR_CODE:
            kinds["hr"].append(res)
            assert res["meta"]["profile"] == ["http://hl7.org/fhir/StructureDefinition/heartrate"]
            if "valueQuantity" in res:
                q = res["valueQuantity"]
                assert (q["system"], q["code"]) == ("http://unitsofmeasure.org", "/min")
                assert 20 <= q["value"] <= 250
        elif codes(res) == SPO2_CODES:
            kinds["spo2"].append(res)
            assert res["meta"]["profile"] == ["http://hl7.org/fhir/StructureDefinition/oxygensat"]
            if "valueQuantity" in res:
                q = res["valueQuantity"]
                assert (q["system"], q["code"]) == ("http://unitsofmeasure.org", "%")
                assert 50 <= q["value"] <= 100
        else:
            assert codes(res) == {("urn:iso:std:iso:11073:10101", "150452")}
            kinds["pleth"].append(res)
            data = res["valueSampledData"]
            assert data["dimensions"] == 1
            assert data["period"] > 0
            assert all(float(token) == float(token) for token in data["data"].split())  # numbers, no NaN
        if res in kinds["hr"] or res in kinds["spo2"]:
            assert res["category"][0]["coding"][0]["code"] == "vital-signs"
            assert "effectiveDateTime" in res
    assert {r["resourceType"] for r in kinds["other"]} == {"Patient", "Device"}
    return kinds


async def test_oximeter_stream_exports_valid_vital_signs_with_absent_values(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    employee = await login(client, world.users["employee"])
    nurse = await login(client, world.users["clinician"])
    stream_id, device = await start_stream(client, employee, "ble-plx")
    batches = simulated("ble-plx", stream_id, seconds=5)
    for batch in batches:
        assert (await post(client, device, batch)).status_code == 201
    start = batches[0].started_at
    special = struct.pack("<BHH", 0, 0x07FE, 0x0800)  # SpO2 +infinity, pulse rate NRes
    payload = {"t_offset_s": 5.5, "characteristic": "2a5f", "data_b64": base64.b64encode(special).decode()}
    special_batch = values_batch(stream_id, 5, [], started_at=start, kind="ble-plx") | {
        "ble_payloads": [payload]
    }
    del special_batch["values"]
    assert (await post(client, device, special_batch)).status_code == 201

    response = await client.get(f"/api/v1/readings/streams/{stream_id}/fhir", headers=nurse)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = response.json()
    kinds = check_invariants(bundle)
    assert len(kinds["hr"]) == 6
    assert len(kinds["spo2"]) == 6
    assert kinds["pleth"] == []
    absent = {
        (tuple(sorted(codes(o))), o["dataAbsentReason"]["coding"][0]["code"])
        for o in kinds["hr"] + kinds["spo2"]
        if "dataAbsentReason" in o
    }
    assert absent == {
        ((("http://loinc.org", "8867-4"),), "not-a-number"),
        (tuple(sorted(SPO2_CODES)), "positive-infinity"),
    }
    again = (await client.get(f"/api/v1/readings/streams/{stream_id}/fhir", headers=employee)).json()
    assert [e["fullUrl"] for e in again["entry"]] == [e["fullUrl"] for e in bundle["entry"]]


async def test_camera_stream_exports_heart_rates_and_the_waveform(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    employee = await login(client, world.users["employee"])
    stream_id, device = await start_stream(client, employee, "camera")
    batches = simulated("camera", stream_id, seconds=16, bpm=66)
    for batch in batches[:5] + batches[6:]:  # batch 5 lost: the waveform has a gap
        assert (await post(client, device, batch)).status_code == 201
    bundle = (await client.get(f"/api/v1/readings/streams/{stream_id}/fhir", headers=employee)).json()
    kinds = check_invariants(bundle)
    assert kinds["hr"]
    assert all(abs(o["valueQuantity"]["value"] - 66) <= 5 for o in kinds["hr"])
    assert all("signal quality" in o["method"]["text"] for o in kinds["hr"])
    assert len(kinds["pleth"]) == 2
    sent = [x for b in batches[:5] for x in b.ppg.samples]  # type: ignore[union-attr]
    first = [float(v) for v in kinds["pleth"][0]["valueSampledData"]["data"].split()]
    assert len(first) == len(sent)
    assert all(abs(a - b) <= 1e-5 * max(1.0, abs(b)) for a, b in zip(first, sent, strict=True))
    fs = batches[0].ppg.fs  # type: ignore[union-attr]
    assert abs(kinds["pleth"][0]["valueSampledData"]["period"] - 1000 / fs) < 1e-6
    device_resource = next(r for r in kinds["other"] if r["resourceType"] == "Device")
    assert device_resource["deviceName"][0]["name"] == "Test device"
