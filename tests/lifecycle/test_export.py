"""Subject-access export: the person's records and nobody else's (same employer, another client
employer, another provider's employer using the same address), audited, as JSON and as a PDF."""

from __future__ import annotations

import io
import json
from typing import Any

import asyncpg
import httpx
import pytest
from pypdf import PdfReader

from tests.factories import World, login, make_referral, make_world, referral_form
from tests.lifecycle.helpers import one
from tests.surveillance.helpers import enrol, make_programme, record, sign

JSON_URL = "/api/v1/subject-access/export.json"
PDF_URL = "/api/v1/subject-access/export.pdf"


def about(name: str, email: str) -> dict[str, Any]:
    employee = {**referral_form()["employee"], "full_name": name, "email": email}
    return referral_form(employee=employee)


async def _world(client: httpx.AsyncClient, conn: asyncpg.Connection) -> dict[str, Any]:
    world = await make_world(conn)
    users = world.users
    manager = await login(client, users["manager"])
    mine = await make_referral(
        client, manager, submit=False, form=about("Alex Example", users["employee"].email)
    )
    upload = await client.post(
        f"/api/v1/referrals/{mine['id']}/attachments", headers=manager,
        files={"file": ("fit-note.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")}, data={"kind": "fit_note"},
    )  # fmt: skip
    assert upload.status_code == 201, upload.text
    assert (await client.post(f"/api/v1/referrals/{mine['id']}/submit", headers=manager)).status_code == 200
    other = await make_referral(
        client, manager, form=about("Robin Otherperson", users["other_employee"].email)
    )
    other_org = await make_referral(
        client, await login(client, users["other_manager"]),
        form=about("Sasha Elsewhere", users["other_employee_org"].email),
    )  # fmt: skip
    # Another provider's client employer refers someone with the same address: not this provider's record.
    far = await make_referral(
        client,
        await login(client, users["far_client_admin"]),
        form=about("Farley Faraway", users["employee"].email),
    )
    admin, nurse = await login(client, users["client_admin"]), await login(client, users["clinician"])
    programme = await make_programme(client, admin)
    enrolment = await enrol(
        client, admin, programme["id"], email=users["employee"].email, full_name="Alex Example"
    )
    result = await sign(client, nurse, (await record(client, nurse, enrolment["id"]))["id"])
    return {
        "world": world,
        "mine": mine,
        "other": other,
        "other_org": other_org,
        "far": far,
        "result": result,
    }


@pytest.fixture
async def seeded(client: httpx.AsyncClient, conn: asyncpg.Connection) -> dict[str, Any]:
    return await _world(client, conn)


def _ids(export: dict[str, Any], name: str, key: str = "id") -> set[str]:
    section = next(s for s in export["sections"] if s["name"] == name)
    return {str(row[key]) for row in section["rows"]}


async def test_export_holds_the_persons_records_and_no_one_elses(
    client: httpx.AsyncClient, conn: asyncpg.Connection, seeded: dict[str, Any]
) -> None:
    world: World = seeded["world"]
    employee = world.users["employee"]
    admin = await login(client, world.users["provider_admin"])
    response = await client.post(JSON_URL, json={"user_id": str(employee.id)}, headers=admin)
    assert response.status_code == 200, response.text
    export = response.json()
    assert export["subject_user_id"] == str(employee.id)
    assert export["subject_email"] == employee.email
    assert _ids(export, "account") == {str(employee.id)}
    assert _ids(export, "referrals") == {seeded["mine"]["id"]}
    assert _ids(export, "referral_events", "referral_id") == {seeded["mine"]["id"]}
    assert {
        r["filename"] for r in next(s for s in export["sections"] if s["name"] == "attachments")["rows"]
    } == {"fit-note.pdf"}
    assert _ids(export, "surveillance_results") == {seeded["result"]["id"]}
    assert _ids(export, "surveillance_enrolments")
    audit = next(s for s in export["sections"] if s["name"] == "audit_log")["rows"]
    assert {"referral.create", "referral.submit"} <= {row["action"] for row in audit}
    text = json.dumps(export)
    for outsider in ("Robin Otherperson", "Sasha Elsewhere", "Farley Faraway", seeded["far"]["id"]):
        assert outsider not in text
    for secret in ("password_hash", "token_hash", "identity_code_hash", "http://", "https://"):
        assert secret not in text
    # The export itself is in the audit log, naming the person.
    row = await one(conn, "SELECT * FROM audit_event WHERE action = 'subject_access.export' ORDER BY id DESC")
    assert row["subject_user_id"] == employee.id
    assert row["subject_email"] == employee.email
    assert row["actor_id"] == world.users["provider_admin"].id
    assert row["outcome"] == "ok"
    # ... and in the person's own access log.
    log = await client.get("/api/v1/me/access-log", headers=await login(client, employee))
    entries = [e for e in log.json() if e["action"] == "subject_access.export"]
    assert [(e["actor_role"], e["actor_name"]) for e in entries] == [
        ("provider_admin", world.users["provider_admin"].full_name)
    ]


async def test_messages_are_exported_without_their_links(
    client: httpx.AsyncClient, conn: asyncpg.Connection, seeded: dict[str, Any]
) -> None:
    world: World = seeded["world"]
    await conn.execute(
        "INSERT INTO outbox_message (recipient, subject, body, provider_id)"
        " VALUES ($1, 'Your link',"
        " 'Open https://ohc.example/e/abcdefghijklmnopqrstuvwxyz0123 to see it.', $2)",
        world.users["employee"].email, world.provider.id,
    )  # fmt: skip
    admin = await login(client, world.users["provider_admin"])
    export = (
        await client.post(JSON_URL, json={"email": world.users["employee"].email}, headers=admin)
    ).json()
    bodies = [r["body"] for r in next(s for s in export["sections"] if s["name"] == "messages")["rows"]]
    assert "Open [link removed] to see it." in bodies
    assert "abcdefghijklmnopqrstuvwxyz0123" not in json.dumps(export)


async def test_the_pdf_reads_as_the_persons_records(
    client: httpx.AsyncClient, seeded: dict[str, Any]
) -> None:
    world: World = seeded["world"]
    admin = await login(client, world.users["provider_admin"])
    response = await client.post(PDF_URL, json={"email": world.users["employee"].email}, headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    for expected in (
        "subject access export", world.users["employee"].email, "Management referrals", "Alex Example",
        "fit-note.pdf", "Health-surveillance results", "Who read or changed your records",
        seeded["mine"]["id"],
    ):  # fmt: skip
        assert expected in text, expected
    for outsider in ("Robin Otherperson", "Sasha Elsewhere", "Farley Faraway"):
        assert outsider not in text


async def test_only_the_provider_admin_serving_the_employer_may_export(
    client: httpx.AsyncClient, conn: asyncpg.Connection, seeded: dict[str, Any]
) -> None:
    world: World = seeded["world"]
    body = {"user_id": str(world.users["employee"].id)}
    async with httpx.AsyncClient(base_url=client.base_url) as anonymous:  # no session cookie
        assert (await anonymous.post(JSON_URL, json=body)).status_code == 401
    for role in ("clinician", "client_admin", "manager", "employee"):
        response = await client.post(JSON_URL, json=body, headers=await login(client, world.users[role]))
        assert response.status_code == 403, (role, response.text)
    other = await login(client, world.users["other_provider_admin"])
    assert (await client.post(JSON_URL, json=body, headers=other)).status_code == 404
    # The other provider sees only its own employer's referral about that address.
    mine = await client.post(JSON_URL, json={"email": world.users["employee"].email}, headers=other)
    assert mine.status_code == 200
    assert _ids(mine.json(), "referrals") == {seeded["far"]["id"]}
    assert _ids(mine.json(), "account") == set()
    admin = await login(client, world.users["provider_admin"])
    staff = {
        "user_id": str(world.users["clinician"].id)
    }  # the provider's own staff are not a client's people
    assert (await client.post(JSON_URL, json=staff, headers=admin)).status_code == 404
    unknown = await client.post(JSON_URL, json={"email": "nobody@nowhere.example"}, headers=admin)
    assert unknown.status_code == 404
    both = {"user_id": str(world.users["employee"].id), "email": world.users["employee"].email}
    assert (await client.post(JSON_URL, json=both, headers=admin)).status_code == 422
    refused = await conn.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'subject_access.export' AND outcome = 'not_found'"
    )
    assert refused == 3
