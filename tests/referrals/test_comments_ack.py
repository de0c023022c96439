"""The referrer <-> OH comments thread, and the employee's single-use link and acknowledgement."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from backend.auth.schemas import Role
from tests.factories import login, make_referral, make_user, make_world, referral_form

CONFIDENTIAL = "Manager suspects a relationship breakdown with the team leader."
TOKEN = re.compile(r"#token=([A-Za-z0-9_\-]+)")


async def comment(
    client: httpx.AsyncClient, headers: dict[str, str], referral_id: str, body: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/referrals/{referral_id}/comments", json={"body": body}, headers=headers
    )


async def test_comments_thread_between_referrer_and_oh(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    clinician = await login(client, world.users["clinician"])
    employee = await login(client, world.users["employee"])
    referral_id = (await make_referral(client, manager))["id"]

    first = await comment(client, manager, referral_id, "She would prefer a morning appointment.")
    assert first.status_code == 201, first.text
    second = await comment(client, clinician, referral_id, "Noted - could you send the latest fit note?")
    assert second.status_code == 201, second.text
    expected = [
        ("manager", world.users["manager"].id, "She would prefer a morning appointment."),
        ("clinician", world.users["clinician"].id, "Noted - could you send the latest fit note?"),
    ]
    assert [(c["author_role"], UUID(c["author_id"]), c["body"]) for c in second.json()] == expected
    for headers in (manager, clinician):
        thread = await client.get(f"/api/v1/referrals/{referral_id}/comments", headers=headers)
        assert thread.status_code == 200
        assert [(c["author_role"], UUID(c["author_id"]), c["body"]) for c in thread.json()] == expected
        assert [c["author_name"] for c in thread.json()] == ["Test manager", "Test clinician"]

    # The employee can read their referral but is not part of this thread.
    assert (await client.get(f"/api/v1/referrals/{referral_id}", headers=employee)).status_code == 200
    assert (
        await client.get(f"/api/v1/referrals/{referral_id}/comments", headers=employee)
    ).status_code == 403
    assert (await comment(client, employee, referral_id, "What are you saying about me?")).status_code == 403
    for bad in ("", "x" * 5001, "nul\x00byte"):
        refused = await comment(client, manager, referral_id, bad)
        assert refused.status_code == 422, (bad[:10], refused.text)
        assert [e["field"] for e in refused.json()["errors"]] == ["body"]
    assert await conn.fetchval("SELECT count(*) FROM referral_comment") == 2
    reads = await conn.fetchval(
        "SELECT count(*) FROM audit_event WHERE entity_id = $1 AND action = 'referral.comments.read'"
        " AND outcome = 'ok'",
        referral_id,
    )
    assert reads == 2
    denied = await conn.fetchval(
        "SELECT count(*) FROM audit_event WHERE entity_id = $1 AND action LIKE 'referral.comment%'"
        " AND outcome = 'denied'",
        referral_id,
    )
    assert denied == 2


async def test_no_conversation_on_a_draft(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    draft_id = (await make_referral(client, manager, submit=False))["id"]
    refused = await comment(client, manager, draft_id, "Reminder to self: attach the fit note.")
    assert refused.status_code == 409, refused.text
    assert (await client.get(f"/api/v1/referrals/{draft_id}/comments", headers=manager)).json() == []
    assert await conn.fetchval("SELECT count(*) FROM referral_comment") == 0


async def link_token(conn: asyncpg.Connection, email: str) -> str:
    """The token from the newest message queued for ``email``."""
    body = await conn.fetchval(
        "SELECT body FROM outbox_message WHERE recipient = $1 ORDER BY created_at DESC LIMIT 1", email
    )
    assert body is not None, f"no message queued for {email}"
    found = TOKEN.search(body)
    assert found, body
    return found.group(1)


async def redeem(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/link", json={"token": token})


def with_note(email: str = "alex.example@employer.example") -> dict[str, Any]:
    form = referral_form()
    form["employee"]["email"] = email
    form["reason"]["confidential_note_to_oh"] = CONFIDENTIAL
    return form


async def test_employee_link_acknowledgement_and_access_log(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    clinician = await login(client, world.users["clinician"])
    created = await make_referral(client, manager, submit=False, form=with_note())
    submitted = await client.post(f"/api/v1/referrals/{created['id']}/submit", headers=manager)
    assert submitted.status_code == 200, submitted.text
    referral_id = created["id"]
    token = await link_token(conn, "alex.example@employer.example")
    assert token not in submitted.text, "the employee's link must not be shown to the employer"

    client.cookies.clear()
    session = await redeem(client, token)
    assert session.status_code == 200, session.text
    assert session.json()["referral_id"] == referral_id
    assert session.json()["token_type"] == "bearer"
    employee = {"Authorization": f"Bearer {session.json()['access_token']}"}
    me = await client.get("/api/v1/me", headers=employee)
    assert (me.json()["id"], me.json()["role"]) == (str(world.users["employee"].id), "employee")
    again = await redeem(client, token)
    assert again.status_code == 404, again.text

    # Everyone reads it; only OH and its author see the note meant for OH alone.
    notes = {}
    for name, headers in [
        ("employee", employee),
        ("manager", manager),
        ("clinician", clinician),
        ("client_admin", await login(client, world.users["client_admin"])),
        ("manager_same_dept", await login(client, world.users["manager_same_dept"])),
    ]:
        read = await client.get(f"/api/v1/referrals/{referral_id}", headers=headers)
        assert read.status_code == 200, (name, read.text)
        notes[name] = read.json()["form"].get("reason", {}).get("confidential_note_to_oh")
        assert CONFIDENTIAL not in read.text or notes[name], name
    assert notes == {
        "employee": None,
        "manager": CONFIDENTIAL,
        "clinician": CONFIDENTIAL,
        "client_admin": None,
        "manager_same_dept": None,
    }

    ack = await client.post(
        f"/api/v1/referrals/{referral_id}/acknowledgement",
        headers=employee,
        json={"discussed": True, "comment": "Yes, we talked on Monday."},
    )
    assert ack.status_code == 200, ack.text
    assert ack.json()["acknowledged_at"] is not None
    assert "confidential_note_to_oh" not in ack.json()["form"]["reason"]
    twice = await client.post(
        f"/api/v1/referrals/{referral_id}/acknowledgement", headers=employee, json={"discussed": False}
    )
    assert twice.status_code == 409, twice.text
    for other in (manager, clinician):
        refused = await client.post(
            f"/api/v1/referrals/{referral_id}/acknowledgement", headers=other, json={"discussed": True}
        )
        assert refused.status_code == 403, refused.text
    history = (await client.get(f"/api/v1/referrals/{referral_id}/events", headers=employee)).json()
    acks = [e for e in history if e["action"] == "acknowledge"]
    assert len(acks) == 1
    assert acks[0]["actor_id"] == str(world.users["employee"].id)
    assert acks[0]["detail"] == {"discussed": True, "comment": "Yes, we talked on Monday."}

    log = await client.get("/api/v1/me/access-log", headers=employee)
    assert log.status_code == 200, log.text
    reads = {(e["actor_role"], e["action"]) for e in log.json() if e["entity_id"] == referral_id}
    assert {
        ("manager", "referral.read"),
        ("clinician", "referral.read"),
        ("manager", "referral.submit"),
    } <= reads
    names = {e["actor_name"] for e in log.json() if e["action"] == "referral.read"}
    assert {"Test manager", "Test clinician"} <= names


async def test_an_acknowledgement_comment_is_checked(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    referral_id = (await make_referral(client, await login(client, world.users["manager"])))["id"]
    employee = await login(client, world.users["employee"])
    for body in (
        {"discussed": True, "comment": "nul\x00"},
        {"discussed": "maybe"},
        {"comment": "hi"},
        {"discussed": True, "signed": True},
    ):
        refused = await client.post(
            f"/api/v1/referrals/{referral_id}/acknowledgement", headers=employee, json=body
        )
        assert refused.status_code == 422, (body, refused.text)
    assert await conn.fetchval("SELECT acknowledged_at FROM referral") is None


async def test_expired_and_unknown_links_are_404(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    await make_referral(client, manager)
    token = await link_token(conn, "alex.example@employer.example")
    await conn.execute("UPDATE entry_link SET expires_at = now() - interval '1 minute'")
    expired = await redeem(client, token)
    assert expired.status_code == 404, expired.text
    unknown = await redeem(client, "x" * 43)
    assert unknown.status_code == 404
    assert expired.json() == unknown.json()
    assert await conn.fetchval("SELECT count(*) FROM auth_session WHERE via = 'link'") == 0


async def test_an_employee_without_an_account_yet_gets_their_referral(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    by_link = await make_referral(client, manager, form=with_note("jo.newstarter@employer.example"))
    by_account = await make_referral(client, manager, form=with_note("sam.later@employer.example"))
    assert by_link["employee_user_id"] is None
    assert by_account["employee_user_id"] is None

    # Through the link: the account is made on the way in.
    session = await redeem(client, await link_token(conn, "jo.newstarter@employer.example"))
    assert session.status_code == 200, session.text
    employee = {"Authorization": f"Bearer {session.json()['access_token']}"}
    read = await client.get(f"/api/v1/referrals/{by_link['id']}", headers=employee)
    assert read.status_code == 200, read.text
    assert CONFIDENTIAL not in read.text
    assert (await client.get(f"/api/v1/referrals/{by_account['id']}", headers=employee)).status_code == 404

    # Through an account made later by an administrator.
    later = await make_user(conn, world.employer, Role.employee, email="sam.later@employer.example")
    mine = await login(client, later)
    listed = await client.get("/api/v1/referrals", headers=mine)
    assert [item["id"] for item in listed.json()["items"]] == [by_account["id"]]
    assert (await client.get(f"/api/v1/referrals/{by_account['id']}", headers=mine)).status_code == 200

    # An account with that address at another employer is not the person this employer referred.
    moved = await make_referral(client, manager, form=with_note("pat.mover@employer.example"))
    elsewhere = await make_user(conn, world.other_employer, Role.employee, email="pat.mover@employer.example")
    assert (
        await conn.fetchval("SELECT employee_user_id FROM referral WHERE id = $1", UUID(moved["id"])) is None
    )
    theirs = await login(client, elsewhere)
    assert (await client.get(f"/api/v1/referrals/{moved['id']}", headers=theirs)).status_code == 404
