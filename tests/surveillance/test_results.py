"""Recording a check, the rules' proposal, confirming or overriding, signing; who sees what."""

from __future__ import annotations

from uuid import UUID

import httpx

from tests.factories import login, make_world
from tests.surveillance.helpers import POOR_AUDIOGRAM, enrol, make_programme, record, sign


async def setup(client: httpx.AsyncClient, conn, **person):
    world = await make_world(conn)
    admin = await login(client, world.users["client_admin"])
    nurse = await login(client, world.users["clinician"])
    programme = await make_programme(client, admin)
    enrolment = await enrol(client, admin, programme["id"], **person)
    return world, admin, nurse, programme, enrolment


async def test_record_proposes_with_reasons_and_sign_is_one_audited_transition(
    client: httpx.AsyncClient, conn
):
    _world, admin, nurse, _programme, enrolment = await setup(client, conn)
    draft = await record(client, nurse, enrolment["id"])
    assert draft["status"] == "draft"
    proposal = draft["clinical"]["proposal"]
    assert proposal["outcome"] == "FIT"
    assert proposal["clinical_category"] == "HSE category 1 (acceptable hearing)"
    assert "below the warning level" in proposal["rules"][0]["explanation"]
    assert (await client.get(f"/api/v1/surveillance/results/{draft['id']}", headers=admin)).status_code == 404

    signed = await sign(client, nurse, draft["id"])
    assert signed["status"] == "signed"
    assert signed["clinical"]["clinical_category"] == "HSE category 1 (acceptable hearing)"
    again = await client.post(
        f"/api/v1/surveillance/results/{draft['id']}/sign",
        headers=nurse,
        json={"outcome": "FIT", "next_due_date": "2027-11-20", "outcome_consent": True},
    )
    assert again.status_code == 409
    changed = await client.put(
        f"/api/v1/surveillance/results/{draft['id']}", headers=nurse, json={"clinical_notes": "x"}
    )
    assert changed.status_code == 409

    stored = await conn.fetchrow(
        "SELECT checks_done, next_due_date, last_check_date FROM hs_enrolment WHERE id = $1",
        UUID(enrolment["id"]),
    )
    assert stored["checks_done"] == 1
    assert stored["next_due_date"].isoformat() == "2027-11-20"
    events = await conn.fetch("SELECT action FROM hs_result_event ORDER BY id")
    assert [e["action"] for e in events] == ["record", "sign"]
    actions = [
        (r["action"], r["outcome"])
        for r in await conn.fetch(
            "SELECT action, outcome FROM audit_event WHERE entity = 'hs_result' ORDER BY id"
        )
    ]
    assert actions[:3] == [
        ("hs_result.create", "ok"),
        ("hs_result.read", "not_found"),
        ("hs_result.sign", "ok"),
    ]


async def test_overriding_the_proposal_needs_a_reason(client: httpx.AsyncClient, conn):
    _world, _admin, nurse, _programme, enrolment = await setup(client, conn)
    draft = await record(client, nurse, enrolment["id"], measurements={"audiogram": POOR_AUDIOGRAM})
    assert draft["clinical"]["proposal"]["outcome"] == "FURTHER_ASSESSMENT"
    body = {"outcome": "FIT", "next_due_date": "2027-11-20", "outcome_consent": True}
    refused = await client.post(f"/api/v1/surveillance/results/{draft['id']}/sign", headers=nurse, json=body)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "override_reason"
    signed = await sign(client, nurse, draft["id"], override_reason="Wax occlusion found; retested clear.")
    assert signed["outcome"] == "FIT"
    assert signed["clinical"]["override_reason"] == "Wax occlusion found; retested clear."


async def test_outcome_fields_are_checked(client: httpx.AsyncClient, conn):
    _world, _admin, nurse, _programme, enrolment = await setup(client, conn)
    draft = await record(client, nurse, enrolment["id"])
    url = f"/api/v1/surveillance/results/{draft['id']}/sign"
    cases: list[dict[str, object]] = [
        {"outcome": "FIT_WITH_RESTRICTIONS", "restrictions": [], "override_reason": "clinical judgement"},
        {"outcome": "FURTHER_ASSESSMENT", "override_reason": "clinical judgement"},
        {"outcome": "FIT", "outcome_consent": False},
    ]
    for case in cases:
        body = {"next_due_date": "2027-11-20", "outcome_consent": True, **case}
        response = await client.post(url, headers=nurse, json=body)
        assert response.status_code == 422, case
    withheld = await client.post(
        url,
        headers=nurse,
        json={
            "outcome": "INCOMPLETE",
            "incomplete_reason": "consent_withheld",
            "outcome_consent": False,
            "next_due_date": "2026-12-20",
            "override_reason": "Employee withheld consent to share the outcome.",
        },
    )
    assert withheld.status_code == 200, withheld.text
    # An incomplete check does not count as done: the enrolment stays as it was.
    assert await conn.fetchval("SELECT checks_done FROM hs_enrolment") == 0


async def test_employer_roles_see_the_health_record_only_within_scope(client: httpx.AsyncClient, conn):
    world, admin, nurse, _programme, enrolment = await setup(
        client, conn, email=world_email(), department="Logistics"
    )
    draft = await record(client, nurse, enrolment["id"])
    signed = await sign(client, nurse, draft["id"], outcome="FIT")
    url = f"/api/v1/surveillance/results/{signed['id']}"
    for key in ("client_admin", "manager", "manager_same_dept", "employee"):
        response = await client.get(url, headers=await login(client, world.users[key]))
        assert response.status_code == 200, key
        body = response.json()
        assert "clinical" not in body, key
        assert body["outcome"] == "FIT"
    for key in (
        "manager_other_dept",
        "other_employee",
        "other_client_admin",
        "other_manager",
        "other_clinician",
        "far_client_admin",
        "provider_admin",
    ):
        response = await client.get(url, headers=await login(client, world.users[key]))
        assert response.status_code == 404, key
    listed = await client.get("/api/v1/surveillance/results", headers=admin)
    assert [r["id"] for r in listed.json()["items"]] == [signed["id"]]
    foreign = await client.get(
        "/api/v1/surveillance/results", headers=await login(client, world.users["other_client_admin"])
    )
    assert foreign.json()["total"] == 0
    denied = await conn.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'hs_result.read' AND outcome = 'not_found'"
    )
    assert denied == 7
    other_nurse = await login(client, world.users["other_clinician"])
    sign_foreign = await client.post(
        f"{url}/sign",
        headers=other_nurse,
        json={"outcome": "FIT", "next_due_date": "2027-01-01", "outcome_consent": True},
    )
    assert sign_foreign.status_code == 404


async def test_signing_tells_the_department_manager_and_the_employee(client: httpx.AsyncClient, conn):
    world, _admin, nurse, _programme, enrolment = await setup(client, conn, email=world_email())
    draft = await record(client, nurse, enrolment["id"])
    await sign(client, nurse, draft["id"])
    rows = await conn.fetch("SELECT recipient, body FROM outbox_message ORDER BY recipient")
    recipients = {r["recipient"] for r in rows}
    assert world.users["manager"].email in recipients
    assert world.users["client_admin"].email in recipients
    assert world.users["employee"].email in recipients
    assert world.users["manager_other_dept"].email not in recipients
    for row in rows:
        assert "category" not in row["body"].lower()
        assert "dB" not in row["body"]


async def test_only_clinicians_record_and_inputs_are_checked_per_programme(client: httpx.AsyncClient, conn):
    world, admin, nurse, _programme, enrolment = await setup(client, conn)
    body = {"enrolment_id": enrolment["id"], "performed_on": "2026-11-20", "measurements": {}}
    assert (await client.post("/api/v1/surveillance/results", headers=admin, json=body)).status_code == 403
    bad = await client.post("/api/v1/surveillance/results", headers=nurse, json=body)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "measurements.audiogram"
    other = await login(client, world.users["other_clinician"])
    body["measurements"] = {"audiogram": POOR_AUDIOGRAM}
    assert (await client.post("/api/v1/surveillance/results", headers=other, json=body)).status_code == 404


async def test_fitness_check_takes_pulse_and_spo2_from_readings(client: httpx.AsyncClient, conn):
    world = await make_world(conn)
    nurse = await login(client, world.users["clinician"])
    programme = await make_programme(
        client, nurse, kind="fitness_for_task", organisation_id=str(world.employer.id)
    )
    enrolment = await enrol(client, nurse, programme["id"])
    draft = await record(
        client,
        nurse,
        enrolment["id"],
        measurements={},
        readings={
            "stream_id": "6f1c1d2e-8a43-4b8e-9f57-0d8c3b2a1e11",
            "pulse_bpm": 126,
            "spo2_pct": 97,
            "quality": 0.9,
        },
    )
    assert draft["clinical"]["measurements"]["pulse_bpm"] == 126
    assert draft["clinical"]["measurements"]["source"] == "readings_stream"
    assert draft["clinical"]["readings_stream_id"] == "6f1c1d2e-8a43-4b8e-9f57-0d8c3b2a1e11"
    assert draft["clinical"]["proposal"]["refer_to"] == "OHP"
    updated = await client.put(
        f"/api/v1/surveillance/results/{draft['id']}",
        headers=nurse,
        json={"measurements": {"pulse_bpm": 74, "spo2_pct": 98}},
    )
    assert updated.json()["clinical"]["proposal"]["outcome"] == "FIT"


def world_email() -> str:
    return "alex.example@employer.example"  # the world's employee account
