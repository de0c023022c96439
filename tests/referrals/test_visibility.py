"""Who may see a referral: anything outside your scope is 404 - the same 404 as for an id that
does not exist - on every referral endpoint, and a refused request changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx

from tests.factories import World, login, make_referral, make_world, referral_form

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

Call = Callable[[httpx.AsyncClient, dict[str, str], str, str], Awaitable[httpx.Response]]

# Every endpoint about one referral: (client, headers, referral id, attachment id) -> response.
ENDPOINTS: dict[str, Call] = {
    "GET referral": lambda c, h, r, a: c.get(f"/api/v1/referrals/{r}", headers=h),
    "PUT referral": lambda c, h, r, a: c.put(
        f"/api/v1/referrals/{r}", json=referral_form(site="Elsewhere"), headers=h
    ),
    "submit": lambda c, h, r, a: c.post(f"/api/v1/referrals/{r}/submit", headers=h),
    "transition": lambda c, h, r, a: c.post(
        f"/api/v1/referrals/{r}/transitions", json={"action": "withdraw"}, headers=h
    ),
    "events": lambda c, h, r, a: c.get(f"/api/v1/referrals/{r}/events", headers=h),
    "comments GET": lambda c, h, r, a: c.get(f"/api/v1/referrals/{r}/comments", headers=h),
    "comments POST": lambda c, h, r, a: c.post(
        f"/api/v1/referrals/{r}/comments", json={"body": "Any news?"}, headers=h
    ),
    "attachments GET": lambda c, h, r, a: c.get(f"/api/v1/referrals/{r}/attachments", headers=h),
    "attachments POST": lambda c, h, r, a: c.post(
        f"/api/v1/referrals/{r}/attachments",
        files={"file": ("notes.pdf", PDF, "application/pdf")},
        data={"kind": "meeting_notes"},
        headers=h,
    ),
    "attachment download": lambda c, h, r, a: c.get(f"/api/v1/referrals/{r}/attachments/{a}", headers=h),
    "acknowledgement": lambda c, h, r, a: c.post(
        f"/api/v1/referrals/{r}/acknowledgement", json={"discussed": True}, headers=h
    ),
}

# Out of scope for a submitted referral made by "manager" (department Logistics) about "employee".
OUT_OF_SCOPE_SUBMITTED = (
    "other_client_admin",
    "other_manager",
    "other_employee_org",  # another employer, same provider
    "other_clinician",
    "other_provider_admin",
    "far_client_admin",  # another provider and its employer
    "other_employee",  # same employer, not the employee it is about
    "manager_other_dept",  # same employer, another department, not the referrer
)
IN_SCOPE_SUBMITTED = (
    "manager",
    "manager_same_dept",
    "client_admin",
    "clinician",
    "provider_admin",
    "employee",
)
# In scope, but not the referrer: they see its progress, not its content.
PROGRESS_ONLY = ("manager_same_dept", "client_admin")
# A draft is its author's alone.
OUT_OF_SCOPE_DRAFT = (
    *OUT_OF_SCOPE_SUBMITTED,
    "client_admin",
    "manager_same_dept",
    "clinician",
    "provider_admin",
    "employee",
)


@dataclass
class Scene:
    world: World
    headers: dict[str, dict[str, str]]
    submitted: str  # by manager, submitted
    submitted_file: str
    draft: str  # by manager, a draft
    draft_file: str
    colleague_draft: str  # by manager_same_dept, a draft about the same employee


async def draft_with_file(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[str, str]:
    referral = await make_referral(client, headers, submit=False)
    uploaded = await client.post(
        f"/api/v1/referrals/{referral['id']}/attachments",
        headers=headers,
        files={"file": ("absence.pdf", PDF, "application/pdf")},
        data={"kind": "absence_record"},
    )
    assert uploaded.status_code == 201, uploaded.text
    return referral["id"], uploaded.json()["id"]


async def scene(client: httpx.AsyncClient, conn: asyncpg.Connection) -> Scene:
    world = await make_world(conn)
    headers = {name: await login(client, user) for name, user in world.users.items()}
    submitted, submitted_file = await draft_with_file(client, headers["manager"])
    response = await client.post(f"/api/v1/referrals/{submitted}/submit", headers=headers["manager"])
    assert response.status_code == 200, response.text
    draft, draft_file = await draft_with_file(client, headers["manager"])
    colleague_draft, _ = await draft_with_file(client, headers["manager_same_dept"])
    return Scene(world, headers, submitted, submitted_file, draft, draft_file, colleague_draft)


async def state_of(conn: asyncpg.Connection) -> dict[str, Any]:
    """Everything a refused request might have changed."""
    referrals = await conn.fetch(
        "SELECT id, status, version, form, decision, acknowledged_at, updated_at, employee_user_id"
        " FROM referral ORDER BY id"
    )
    counts = {
        table: await conn.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed table names
        for table in (
            "referral_event",
            "referral_comment",
            "referral_attachment",
            "outbox_message",
            "entry_link",
        )
    }
    return {"referrals": [dict(r) for r in referrals], **counts}


async def not_found_audits(conn: asyncpg.Connection, referral_id: str) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM audit_event"
        " WHERE entity = 'referral' AND entity_id = $1 AND outcome = 'not_found'",
        referral_id,
    )
    return count


async def check_hidden(
    client: httpx.AsyncClient,
    conn: asyncpg.Connection,
    headers: dict[str, dict[str, str]],
    callers: tuple[str, ...],
    referral_id: str,
    attachment_id: str,
    nothing: dict[tuple[str, str], httpx.Response],
) -> list[str]:
    """Each caller gets, on every endpoint, exactly what they get for a referral that does not exist."""
    problems: list[str] = []
    before = await state_of(conn)
    audits_before = await not_found_audits(conn, referral_id)
    for caller in callers:
        for name, call in ENDPOINTS.items():
            response = await call(client, headers[caller], referral_id, attachment_id)
            if (caller, name) not in nothing:
                nothing[caller, name] = await call(client, headers[caller], str(uuid4()), str(uuid4()))
            nowhere = nothing[caller, name]
            if response.status_code != 404 or nowhere.status_code != 404:
                problems.append(
                    f"{caller} {name}: {response.status_code} (non-existent: {nowhere.status_code}) "
                    f"{response.text[:120]}"
                )
            elif (
                response.json() != nowhere.json()
                or response.headers["content-type"] != nowhere.headers["content-type"]
            ):
                problems.append(f"{caller} {name}: body {response.text} differs from {nowhere.text}")
    after = await state_of(conn)
    if after != before:
        problems.append(f"refused requests changed stored data: {before} -> {after}")
    written = await not_found_audits(conn, referral_id) - audits_before
    if written != len(callers) * len(ENDPOINTS):
        problems.append(
            f"{len(callers) * len(ENDPOINTS)} refused requests wrote {written} 'not_found' audit rows"
        )
    return problems


async def test_out_of_scope_callers_get_the_same_404_as_for_nothing(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    s = await scene(client, conn)
    nothing: dict[tuple[str, str], httpx.Response] = {}  # (caller, endpoint) -> answer for a non-existent id
    problems = await check_hidden(
        client, conn, s.headers, OUT_OF_SCOPE_SUBMITTED, s.submitted, s.submitted_file, nothing
    )
    problems += await check_hidden(
        client, conn, s.headers, OUT_OF_SCOPE_DRAFT, s.draft, s.draft_file, nothing
    )
    problems += await check_hidden(
        client, conn, s.headers, ("manager",), s.colleague_draft, s.draft_file, nothing
    )
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


async def test_in_scope_callers_see_the_referral(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    s = await scene(client, conn)
    problems = []
    for caller, referral_id, attachment_id in [
        *((c, s.submitted, s.submitted_file) for c in IN_SCOPE_SUBMITTED),
        ("manager", s.draft, s.draft_file),
        ("manager_same_dept", s.colleague_draft, None),
    ]:
        # Other managers of the department and client administrators follow its progress only:
        # its files are refused with 403 (tests/referrals/test_views.py).
        follows = caller in PROGRESS_ONLY and referral_id == s.submitted
        for name in ("GET referral", "events", "attachments GET", "attachment download"):
            if attachment_id is None and name == "attachment download":
                continue
            response = await ENDPOINTS[name](client, s.headers[caller], referral_id, attachment_id or "")
            expected = 403 if follows and name.startswith("attachment") else 200
            if response.status_code != expected:
                problems.append(
                    f"{caller} {name} {referral_id}: {response.status_code} {response.text[:120]}"
                )
    download = await ENDPOINTS["attachment download"](
        client, s.headers["clinician"], s.submitted, s.submitted_file
    )
    assert download.content == PDF
    assert not problems, "\n".join(problems)


async def test_an_attachment_is_only_reached_through_its_own_referral(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """Pairing a referral you may see with another referral's attachment id finds nothing."""
    s = await scene(client, conn)
    mine = (await make_referral(client, s.headers["other_manager"]))["id"]
    for caller, referral_id, attachment_id in [
        ("other_manager", mine, s.submitted_file),  # another employer's file
        ("manager", s.submitted, s.draft_file),  # the caller's own draft, via the submitted referral
        ("clinician", s.submitted, s.draft_file),  # a draft OH may not see
    ]:
        response = await ENDPOINTS["attachment download"](
            client, s.headers[caller], referral_id, attachment_id
        )
        assert response.status_code == 404, (caller, response.text)
        assert PDF not in response.content


async def test_list_shows_only_what_each_caller_may_see(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    s = await scene(client, conn)
    # A submitted referral made by the other employer's manager, for contrast.
    theirs = (
        await make_referral(
            client,
            s.headers["other_manager"],
            form=referral_form(
                employee={**referral_form()["employee"], "email": s.world.users["other_employee_org"].email}
            ),
        )
    )["id"]
    everything = {s.submitted, s.draft, s.colleague_draft, theirs}
    visible = {
        "manager": {s.submitted, s.draft},
        "manager_same_dept": {s.submitted, s.colleague_draft},
        "manager_other_dept": set(),
        "client_admin": {s.submitted},
        "employee": {s.submitted},
        "other_employee": set(),
        "clinician": {s.submitted, theirs},
        "provider_admin": {s.submitted, theirs},
        "other_client_admin": {theirs},
        "other_manager": {theirs},
        "other_employee_org": {theirs},
        "other_clinician": set(),
        "other_provider_admin": set(),
        "far_client_admin": set(),
    }
    assert set(visible) == set(s.world.users)
    problems = []
    for caller, expected in visible.items():
        for params in (
            {"limit": 200},
            {"status": ["DRAFT", "AWAITING_TRIAGE"]},
            {"sort": "priority"},
            {"q": "alex", "sort": "-status"},
        ):
            response = await client.get("/api/v1/referrals", params=params, headers=s.headers[caller])
            assert response.status_code == 200, response.text
            page = response.json()
            seen = {item["id"] for item in page["items"]} & everything
            if seen != expected or page["total"] != len(expected):
                problems.append(
                    f"{caller} {params}: sees {len(seen)} (total {page['total']}), "
                    f"expected {len(expected)}: extra {seen - expected}, missing {expected - seen}"
                )
    assert not problems, "\n".join(problems)


async def test_without_credentials_every_endpoint_is_401(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    s = await scene(client, conn)
    client.cookies.clear()  # signing in set a session cookie, which would authenticate too
    before = await state_of(conn)
    for headers in (
        {},
        {"Authorization": "Bearer not-a-real-token-at-all"},
        {"Authorization": "Basic Zm9vOmJhcg=="},
    ):
        for name, call in ENDPOINTS.items():
            response = await call(client, headers, s.submitted, s.submitted_file)
            assert response.status_code == 401, (name, headers, response.text)
            assert response.json()["status"] == 401
        listed = await client.get("/api/v1/referrals", headers=headers)
        assert listed.status_code == 401
        created = await client.post("/api/v1/referrals", json=referral_form(), headers=headers)
        assert created.status_code == 401
    assert await state_of(conn) == before


async def test_changing_the_employee_on_a_draft_changes_who_can_see_it(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """Correcting the employee's e-mail on a draft must move the referral to the right employee."""
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    wrong, right = world.users["other_employee"], world.users["employee"]
    employee = referral_form()["employee"]
    draft = await make_referral(
        client, manager, submit=False, form=referral_form(employee={**employee, "email": wrong.email})
    )
    assert draft["employee_user_id"] == str(wrong.id)
    corrected = await client.put(f"/api/v1/referrals/{draft['id']}", json=referral_form(), headers=manager)
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["employee_user_id"] == str(right.id)
    submitted = await client.post(f"/api/v1/referrals/{draft['id']}/submit", headers=manager)
    assert submitted.status_code == 200, submitted.text

    seen_by_right = await client.get(f"/api/v1/referrals/{draft['id']}", headers=await login(client, right))
    assert seen_by_right.status_code == 200, seen_by_right.text
    seen_by_wrong = await client.get(f"/api/v1/referrals/{draft['id']}", headers=await login(client, wrong))
    assert seen_by_wrong.status_code == 404

    # An address with no account yet leaves it unlinked until that person's account exists.
    other = await make_referral(client, manager, submit=False)
    moved = await client.put(
        f"/api/v1/referrals/{other['id']}",
        headers=manager,
        json=referral_form(employee={**employee, "email": "someone.new@employer.example"}),
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["employee_user_id"] is None


async def test_a_draft_never_reaches_oh_without_being_submitted(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    clinician = await login(client, world.users["clinician"])
    employee = await login(client, world.users["employee"])
    draft = await make_referral(client, manager, submit=False)
    withdrawn = await client.post(
        f"/api/v1/referrals/{draft['id']}/transitions", json={"action": "withdraw"}, headers=manager
    )
    assert withdrawn.status_code == 409, withdrawn.text
    for headers in (clinician, employee):
        assert (await client.get(f"/api/v1/referrals/{draft['id']}", headers=headers)).status_code == 404
        listed = await client.get("/api/v1/referrals", headers=headers)
        assert draft["id"] not in {item["id"] for item in listed.json()["items"]}
    assert await conn.fetchval("SELECT status FROM referral WHERE id = $1", UUID(draft["id"])) == "DRAFT"
