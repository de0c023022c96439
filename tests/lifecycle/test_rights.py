"""Rectification (old and new kept, clinical history untouched) and erasure (only where nothing
must be kept; otherwise 409 naming the reason and the date)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg
import httpx

from backend.auth.schemas import Role
from backend.lifecycle import policy
from tests.factories import PASSWORD, World, login, make_referral, make_user, make_world, referral_form
from tests.lifecycle.helpers import one
from tests.surveillance.helpers import enrol, make_programme


def details(user_id: uuid.UUID) -> str:
    return f"/api/v1/people/{user_id}/personal-details"


def erasure(user_id: uuid.UUID) -> str:
    return f"/api/v1/people/{user_id}/erasure"


def about(name: str, email: str) -> dict[str, Any]:
    return referral_form(employee={**referral_form()["employee"], "full_name": name, "email": email})


async def test_rectification_keeps_old_and_new_and_leaves_history_alone(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    employee = world.users["employee"]
    manager = await login(client, world.users["manager"])
    referral = await make_referral(client, manager, form=about("Alex Example", employee.email))
    admin_user = await login(client, world.users["client_admin"])
    programme = await make_programme(client, admin_user)
    await enrol(client, admin_user, programme["id"], email=employee.email, full_name="Alex Example")
    admin = await login(client, world.users["provider_admin"])
    change = {
        "full_name": "Alex Exampleton",
        "email": "alex.exampleton@employer.example",
        "date_of_birth": "1985-04-21",
        "reason": "Written request from the employee.",
    }
    response = await client.patch(details(employee.id), json=change, headers=admin)
    assert response.status_code == 200, response.text
    changes = {c["field"]: (c["old_value"], c["new_value"]) for c in response.json()["changes"]}
    assert changes == {
        "full_name": ("Test employee", "Alex Exampleton"),
        "email": (employee.email, "alex.exampleton@employer.example"),
        "date_of_birth": ("1986-01-15", "1985-04-21"),
    }
    user = await one(conn, "SELECT full_name, email FROM app_user WHERE id = $1", employee.id)
    assert tuple(user) == ("Alex Exampleton", "alex.exampleton@employer.example")
    person = await one(conn, "SELECT full_name, email, date_of_birth FROM hs_person")
    assert tuple(person) == ("Alex Exampleton", "alex.exampleton@employer.example", date(1985, 4, 21))
    kept = await conn.fetch("SELECT field, old_value, new_value, changed_by FROM personal_detail_change")
    assert {r["field"]: (r["old_value"], r["new_value"]) for r in kept} == changes
    # The referral is what was referred: unchanged, still linked to the person.
    row = await one(
        conn, "SELECT form, employee_user_id FROM referral WHERE id = $1", uuid.UUID(referral["id"])
    )
    assert row["form"]["employee"]["full_name"] == "Alex Example"
    assert row["employee_user_id"] == employee.id
    audit = await one(conn, "SELECT * FROM audit_event WHERE action = 'person.rectify'")
    assert audit["subject_user_id"] == employee.id
    assert audit["outcome"] == "ok"
    # The person signs in with the corrected address; the export shows the corrections.
    signed_in = await client.post(
        "/api/v1/auth/login", json={"email": "alex.exampleton@employer.example", "password": PASSWORD}
    )
    assert signed_in.status_code == 200
    export = await client.post(
        "/api/v1/subject-access/export.json", json={"user_id": str(employee.id)}, headers=admin
    )
    section = next(s for s in export.json()["sections"] if s["name"] == "personal_detail_changes")
    assert {r["field"] for r in section["rows"]} == set(changes)


async def test_rectification_refusals(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    world = await make_world(conn)
    employee = world.users["employee"]
    admin = await login(client, world.users["provider_admin"])
    body = {"full_name": "Someone Else", "reason": "Request."}
    taken = {"email": world.users["other_employee"].email, "reason": "Request."}
    response = await client.patch(details(employee.id), json=taken, headers=admin)
    assert response.status_code == 409
    assert response.json()["code"] == "email_taken"
    assert (
        await client.patch(details(employee.id), json={"reason": "Nothing"}, headers=admin)
    ).status_code == 422
    for bad in ({"full_name": "Nul\u0000Name", "reason": "x"}, {"phone": "not a phone", "reason": "x"}):
        assert (await client.patch(details(employee.id), json=bad, headers=admin)).status_code == 422
    outsider = world.users["far_client_admin"].id  # at another provider's employer
    assert (await client.patch(details(outsider), json=body, headers=admin)).status_code == 404
    assert (await client.patch(details(uuid.uuid4()), json=body, headers=admin)).status_code == 404
    nurse = await login(client, world.users["clinician"])
    assert (await client.patch(details(employee.id), json=body, headers=nurse)).status_code == 403
    assert await conn.fetchval("SELECT full_name FROM app_user WHERE id = $1", employee.id) == "Test employee"
    assert await conn.fetchval("SELECT count(*) FROM personal_detail_change") == 0


async def test_erasure_is_refused_while_clinical_records_must_be_kept(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    employee = world.users["employee"]
    await make_referral(
        client, await login(client, world.users["manager"]), form=about("Alex", employee.email)
    )
    admin = await login(client, world.users["provider_admin"])
    response = await client.post(erasure(employee.id), headers=admin)
    assert response.status_code == 409, response.text
    problem = response.json()
    last = await conn.fetchval("SELECT max(at) FROM referral_event")
    until = policy.keep_until("oh_clinical_record", last).isoformat()
    assert problem["code"] == "retention_applies"
    assert f"must be kept until {until}" in problem["detail"]
    assert problem["errors"] == [
        {"field": "oh_clinical_record", "message": f"kept until {until}", "type": "retention"}
    ]
    assert await conn.fetchval("SELECT email FROM app_user WHERE id = $1", employee.id) == employee.email
    refused = await one(conn, "SELECT * FROM audit_event WHERE action = 'person.erase'")
    assert refused["outcome"] == "denied"
    assert refused["subject_user_id"] == employee.id


async def test_erasure_is_refused_for_the_statutory_health_record(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    employee = world.users["employee"]
    client_admin = await login(client, world.users["client_admin"])
    programme = await make_programme(client, client_admin)
    await enrol(client, client_admin, programme["id"], email=employee.email, full_name="Alex Example")
    admin = await login(client, world.users["provider_admin"])
    response = await client.post(erasure(employee.id), headers=admin)
    assert response.status_code == 409
    enrolled = await conn.fetchval("SELECT created_at FROM hs_enrolment")
    until = policy.keep_until("statutory_health_record", enrolled)
    assert until.year - enrolled.year == policy.STATUTORY_YEARS
    assert f"must be kept until {until.isoformat()}" in response.json()["detail"]


async def _erasable(client: httpx.AsyncClient, conn: asyncpg.Connection, world: World) -> tuple[Any, str]:
    """An employee about whom only a draft referral (never submitted) is held."""
    pat = await make_user(
        conn, world.employer, Role.employee, email="pat.example@employer.example", name="Pat Example"
    )
    manager = await login(client, world.users["manager"])
    draft = await make_referral(client, manager, submit=False, form=about("Pat Example", pat.email))
    await login(client, pat)  # a session and a sign-in attempt to erase
    return pat, draft["id"]


async def test_erasure_of_a_person_with_nothing_to_keep(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    pat, draft = await _erasable(client, conn, world)
    await conn.execute("UPDATE app_user SET disabled_at = now() WHERE id = $1", pat.id)  # a leaver
    other_provider = await conn.fetchval(
        "SELECT organisation_id FROM app_user WHERE id = $1", world.users["other_provider_admin"].id
    )
    for provider in (world.provider.id, other_provider):
        await conn.execute(
            "INSERT INTO outbox_message (recipient, subject, body, provider_id, next_attempt_at)"
            " VALUES ($1, 'Hello', 'Body', $2, '2099-01-01Z')", pat.email, provider,
        )  # fmt: skip
    admin = await login(client, world.users["provider_admin"])
    response = await client.post(erasure(pat.id), headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["draft_referrals_erased"] == 1
    account = await one(conn, "SELECT * FROM app_user WHERE id = $1", pat.id)
    assert account["email"] == f"erased-{pat.id}@erased.invalid"
    assert account["full_name"] == ""
    assert account["password_hash"] is None
    assert account["disabled_at"] is not None
    referral = await one(conn, "SELECT * FROM referral WHERE id = $1", uuid.UUID(draft))
    assert referral["deleted_at"] is not None
    assert referral["form"] == {}
    assert referral["employee_email"] == ""
    assert await conn.fetchval("SELECT count(*) FROM auth_session WHERE user_id = $1", pat.id) == 0
    assert await conn.fetchval("SELECT count(*) FROM login_attempt WHERE email = $1", pat.email) == 0
    # Messages this provider sent are erased; another provider's are its own records.
    left = await conn.fetch("SELECT provider_id FROM outbox_message WHERE recipient = $1", pat.email)
    assert [r["provider_id"] for r in left] == [other_provider]
    assert await conn.fetchval("SELECT count(*) FROM referral WHERE form::text LIKE '%Pat Example%'") == 0
    signed_in = await client.post("/api/v1/auth/login", json={"email": pat.email, "password": PASSWORD})
    assert signed_in.status_code == 401
    audit = await one(conn, "SELECT * FROM audit_event WHERE action = 'person.erase'")
    assert audit["outcome"] == "ok"
    assert audit["subject_user_id"] == pat.id
    # Once erased, the person is gone for the admin too.
    assert (await client.post(erasure(pat.id), headers=admin)).status_code == 404


async def test_erasure_refusals_by_role_and_reach(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    pat, _ = await _erasable(client, conn, world)
    admin = await login(client, world.users["provider_admin"])
    staff = await client.post(erasure(world.users["manager"].id), headers=admin)
    assert staff.status_code == 409
    assert staff.json()["code"] == "not_an_employee"
    assert (await client.post(erasure(world.users["far_client_admin"].id), headers=admin)).status_code == 404
    other_admin = await login(client, world.users["other_provider_admin"])
    assert (await client.post(erasure(pat.id), headers=other_admin)).status_code == 404
    for role in ("clinician", "client_admin", "manager"):
        refused = await client.post(erasure(pat.id), headers=await login(client, world.users[role]))
        assert refused.status_code == 403, role
    assert await conn.fetchval("SELECT email FROM app_user WHERE id = $1", pat.id) == pat.email
