"""DELETE /api/v1/referrals/{id}: the referrer deletes a draft (content and files erased, audited);
anyone else, or any referral past the draft, is refused and nothing changes."""

from __future__ import annotations

import asyncpg
import httpx

from tests.factories import login, make_referral, make_world

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def test_the_referrer_deletes_a_draft(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    draft = await make_referral(client, manager, submit=False)
    assert "delete" in draft["allowed_actions"]
    added = await client.post(
        f"/api/v1/referrals/{draft['id']}/attachments",
        files={"file": ("notes.pdf", PDF, "application/pdf")},
        data={"kind": "meeting_notes"},
        headers=manager,
    )
    assert added.status_code == 201, added.text

    deleted = await client.delete(f"/api/v1/referrals/{draft['id']}", headers=manager)
    assert deleted.status_code == 204, deleted.text
    assert (await client.get(f"/api/v1/referrals/{draft['id']}", headers=manager)).status_code == 404
    listed = (await client.get("/api/v1/referrals", headers=manager)).json()
    assert (listed["items"], listed["total"]) == ([], 0)
    again = await client.delete(f"/api/v1/referrals/{draft['id']}", headers=manager)
    assert again.status_code == 404

    row = await conn.fetchrow("SELECT * FROM referral WHERE id = $1::uuid", draft["id"])
    assert row is not None
    assert row["deleted_at"] is not None
    assert (row["form"], row["employee_name"], row["employee_email"]) == ({}, "", "")
    assert await conn.fetchval("SELECT count(*) FROM referral_attachment") == 0
    actions = await conn.fetch(
        "SELECT action FROM referral_event WHERE referral_id = $1::uuid ORDER BY id", draft["id"]
    )
    assert [a["action"] for a in actions] == ["create", "delete"]
    audit = await conn.fetch(
        "SELECT outcome, subject_email FROM audit_event WHERE action = 'referral.delete' ORDER BY id"
    )
    assert [(a["outcome"], a["subject_email"]) for a in audit] == [
        ("ok", "alex.example@employer.example"),
        ("not_found", None),
    ]


async def test_others_and_submitted_referrals_are_refused(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    draft = await make_referral(client, manager, submit=False)
    submitted = await make_referral(client, manager)
    assert "delete" not in submitted["allowed_actions"]
    for caller in (
        "manager_same_dept",
        "client_admin",
        "clinician",
        "provider_admin",
        "employee",
        "other_manager",
    ):
        headers = await login(client, world.users[caller])
        response = await client.delete(f"/api/v1/referrals/{draft['id']}", headers=headers)
        assert response.status_code == 404, (caller, response.text)
    refused = await client.delete(f"/api/v1/referrals/{submitted['id']}", headers=manager)
    assert refused.status_code == 409, refused.text
    assert "Withdraw it instead" in refused.json()["detail"]
    admin = await login(client, world.users["client_admin"])
    on_submitted = await client.delete(f"/api/v1/referrals/{submitted['id']}", headers=admin)
    assert on_submitted.status_code == 403, on_submitted.text  # sees it, but did not start it
    assert (await client.get(f"/api/v1/referrals/{draft['id']}", headers=manager)).status_code == 200
    assert await conn.fetchval("SELECT count(*) FROM referral WHERE deleted_at IS NOT NULL") == 0
    outcomes = await conn.fetch("SELECT outcome FROM audit_event WHERE action = 'referral.delete'")
    assert sorted(o["outcome"] for o in outcomes) == ["denied", "denied"] + ["not_found"] * 6
