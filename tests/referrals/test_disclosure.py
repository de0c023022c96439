"""Employer roles see a referral's progress, not OH's clinical reasoning, before release."""

from __future__ import annotations

import asyncpg
import httpx

from tests.booking.helpers import book_into_new_clinic
from tests.factories import login, make_referral, make_world


async def test_employer_sees_progress_but_not_clinical_detail(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    nurse = await login(client, world.users["clinician"])
    referral = await make_referral(client, manager)
    rid = referral["id"]
    # Walk to REPORT_DRAFTING through the API (booking and consultation are OH steps).
    triage = {"action": "triage", "modality": "video", "clinician_grade": "ohn", "priority": "routine"}
    response = await client.post(f"/api/v1/referrals/{rid}/transitions", json=triage, headers=nurse)
    assert response.status_code == 200, response.text
    appointment = await book_into_new_clinic(client, nurse, rid)
    for body in (
        {"action": "start", "consent_to_assessment": True},
        {"action": "finish_consultation", "release_choice": "see_first"},
        {"action": "request_fme", "reason": "Needs the cardiologist's letter about arrhythmia"},
    ):
        response = await client.post(f"/api/v1/referrals/{rid}/transitions", json=body, headers=nurse)
        assert response.status_code == 200, (body, response.text)

    as_nurse = (await client.get(f"/api/v1/referrals/{rid}", headers=nurse)).json()
    assert as_nurse["decision"]["release_choice"] == "see_first"
    assert "arrhythmia" in as_nurse["decision"]["reason"]

    as_manager = (await client.get(f"/api/v1/referrals/{rid}", headers=manager)).json()
    assert as_manager["status"] == "AWAITING_FME"
    assert as_manager["decision"] == {"starts_at": appointment["starts_at"], "kind": "video"}
    events = (await client.get(f"/api/v1/referrals/{rid}/events", headers=manager)).json()
    assert [e["action"] for e in events][-2:] == ["finish_consultation", "request_fme"]
    text = str(events)
    assert "arrhythmia" not in text
    assert "see_first" not in text
    assert next(e for e in events if e["action"] == "triage")["detail"] == {"modality": "video"}
    nurse_events = (await client.get(f"/api/v1/referrals/{rid}/events", headers=nurse)).json()
    assert "arrhythmia" in str(nurse_events)
