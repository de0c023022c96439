"""Factories for surveillance tests, through the real HTTP API."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import httpx

_SEQ = itertools.count(1)

# A 40-year-old man's audiogram whose sums (105 and 110 dB) are under the warning level (121 dB).
NORMAL_AUDIOGRAM = {
    "left": {"1000": 10, "2000": 15, "3000": 20, "4000": 30, "6000": 30},
    "right": {"1000": 10, "2000": 15, "3000": 25, "4000": 30, "6000": 30},
}
# Sums 195 (left) and 200 (right) dB: above the referral level for a man of 40 (183 dB).
POOR_AUDIOGRAM = {
    "left": {"1000": 25, "2000": 30, "3000": 40, "4000": 50, "6000": 50},
    "right": {"1000": 25, "2000": 30, "3000": 45, "4000": 50, "6000": 50},
}


def person(**overrides: Any) -> dict[str, Any]:
    n = next(_SEQ)
    body = {
        "email": f"worker{n}@employer.example",
        "full_name": f"Worker {n}",
        "employee_number": f"E{n:05d}",
        "date_of_birth": "1986-01-15",
        "sex": "male",
        "department": "Logistics",
        "job_title": "Operative",
    }
    body.update(overrides)
    return body


async def make_programme(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    kind: str = "noise",
    organisation_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": f"{kind} programme {next(_SEQ)}", "kind": kind, **extra}
    if organisation_id:
        body["organisation_id"] = organisation_id
    if kind == "fitness_for_task" and "task_type" not in body:
        body["task_type"] = "confined_space"
    response = await client.post("/api/v1/surveillance/programmes", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def enrol(
    client: httpx.AsyncClient, headers: dict[str, str], programme_id: str, **person_overrides: Any
) -> dict[str, Any]:
    body = {"person": person(**person_overrides), "start_date": "2026-01-05", "exposure": "Workshop"}
    response = await client.post(
        f"/api/v1/surveillance/programmes/{programme_id}/enrolments", json=body, headers=headers
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def record(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    enrolment_id: str,
    *,
    measurements: dict[str, Any] | None = None,
    questionnaire: dict[str, Any] | None = None,
    performed_on: str = "2026-11-20",
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "enrolment_id": enrolment_id,
        "performed_on": performed_on,
        "questionnaire": questionnaire or {},
        "measurements": measurements if measurements is not None else {"audiogram": NORMAL_AUDIOGRAM},
        **extra,
    }
    response = await client.post("/api/v1/surveillance/results", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def fit_outcome(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "outcome": "FIT",
        "employer_actions": ["Keep wearing hearing protection in marked zones"],
        "next_due_date": "2027-11-20",
        "outcome_consent": True,
        "assessor_registration": "NMC 12A3456E",
    }
    body.update(overrides)
    return body


async def sign(
    client: httpx.AsyncClient, headers: dict[str, str], result_id: str, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/surveillance/results/{result_id}/sign", json=fit_outcome(**overrides), headers=headers
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def signed_result(
    client: httpx.AsyncClient,
    world_users: dict[str, Any],
    *,
    employer_id: str,
    clinician: dict[str, str],
    admin: dict[str, str],
    person_overrides: dict[str, Any] | None = None,
    **outcome: Any,
) -> dict[str, Any]:
    """A programme, an enrolment, a recorded check and a signed outcome; returns the signed result."""
    programme = await make_programme(client, admin)
    enrolment = await enrol(client, admin, programme["id"], **(person_overrides or {}))
    draft = await record(client, clinician, enrolment["id"])
    return await sign(client, clinician, draft["id"], **outcome)


def today() -> date:
    return date.today()  # noqa: DTZ011  # test data only
