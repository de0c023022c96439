"""User administration: scope (404 outside it), who may administer (403), invitations, changes,
deactivation, and the audit trail."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import httpx

from tests.accounts.helpers import emailed_link, last_message
from tests.conftest import Server
from tests.factories import login, make_world

INVITE = {"role": "manager", "email": "sam.newmanager@employer.example", "full_name": "Sam Newmanager"}


async def test_client_admin_invites_a_manager_who_sets_a_password(
    client: httpx.AsyncClient, conn: asyncpg.Connection, server: Server
) -> None:
    world = await make_world(conn)
    admin = await login(client, world.users["client_admin"])
    created = await client.post(
        "/api/v1/users",
        json={**INVITE, "organisation_id": str(world.employer.id), "department": " Logistics "},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["role"], body["department"], body["has_password"], body["active"]) == (
        "manager", "Logistics", False, True,
    )  # fmt: skip
    link, token = await emailed_link(conn, INVITE["email"])
    assert link == f"{server.url}/set-password.html#token={token}&for=invite"
    message = await last_message(conn, INVITE["email"])
    assert message is not None
    assert message["kind"] == "auth.invitation"
    assert "Test client_admin" in message["body"]
    lifetime = await conn.fetchval("SELECT expires_at - created_at FROM account_token")
    assert lifetime.days == 7
    assert (await client.post(
        "/api/v1/auth/login", json={"email": INVITE["email"], "password": "anything at all here"}
    )).status_code == 401  # fmt: skip
    done = await client.post(
        "/api/v1/auth/password", json={"token": token, "password": "maple syrup on toast"}
    )
    assert done.status_code == 200, done.text
    signed_in = await client.post(
        "/api/v1/auth/login", json={"email": INVITE["email"], "password": "maple syrup on toast"}
    )
    assert signed_in.status_code == 200
    audit = await conn.fetch(
        "SELECT action, actor_id FROM audit_event WHERE subject_user_id = $1 ORDER BY id", UUID(body["id"])
    )
    actions = [r["action"] for r in audit]
    assert "user.invite" in actions
    assert "auth.invitation.send" in actions
    assert {r["actor_id"] for r in audit if r["action"] == "user.invite"} == {world.users["client_admin"].id}
    again = await client.post(
        "/api/v1/users", json={**INVITE, "organisation_id": str(world.employer.id)}, headers=admin
    )
    assert again.status_code == 409


async def test_client_admin_cannot_create_provider_roles_or_users_elsewhere(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    admin = await login(client, world.users["client_admin"])
    own = str(world.employer.id)
    clinician = await client.post(
        "/api/v1/users", json={**INVITE, "role": "clinician", "organisation_id": own}, headers=admin
    )
    assert clinician.status_code == 403
    assert clinician.json()["code"] == "role_not_allowed"
    for org in (world.provider.id, world.other_employer.id):
        elsewhere = await client.post(
            "/api/v1/users", json={**INVITE, "organisation_id": str(org)}, headers=admin
        )
        assert elsewhere.status_code == 404, org
    assert await conn.fetchval("SELECT count(*) FROM app_user WHERE email = $1", INVITE["email"]) == 0
    assert (
        await conn.fetchval("SELECT count(*) FROM outbox_message WHERE recipient = $1", INVITE["email"]) == 0
    )
    refusals = await conn.fetch(
        "SELECT outcome FROM audit_event WHERE action = 'user.invite' AND actor_id = $1",
        world.users["client_admin"].id,
    )
    assert sorted(r["outcome"] for r in refusals) == ["denied", "not_found", "not_found"]


async def test_provider_admin_gives_roles_that_fit_the_organisation(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    admin = await login(client, world.users["provider_admin"])
    nurse = await client.post(
        "/api/v1/users",
        json={**INVITE, "role": "clinician", "email": "new.nurse@provider.example",
              "organisation_id": str(world.provider.id)},
        headers=admin,
    )  # fmt: skip
    assert nurse.status_code == 201, nurse.text
    misplaced = await client.post(
        "/api/v1/users",
        json={**INVITE, "role": "clinician", "organisation_id": str(world.employer.id)},
        headers=admin,
    )
    assert misplaced.status_code == 422
    assert [e["field"] for e in misplaced.json()["errors"]] == ["role"]
    client_manager = await client.post(
        "/api/v1/users", json={**INVITE, "organisation_id": str(world.other_employer.id)}, headers=admin
    )
    assert client_manager.status_code == 201
    orgs = (await client.get("/api/v1/users/organisations", headers=admin)).json()
    by_id = {o["id"]: o for o in orgs}
    assert set(by_id) == {str(world.provider.id), str(world.employer.id), str(world.other_employer.id)}
    assert by_id[str(world.provider.id)]["roles"] == ["provider_admin", "clinician"]
    client_orgs = (await client.get("/api/v1/users/organisations", headers=await login(
        client, world.users["client_admin"]
    ))).json()  # fmt: skip
    assert [(o["id"], o["roles"]) for o in client_orgs] == [
        (str(world.employer.id), ["client_admin", "manager", "employee"])
    ]


async def test_lists_show_only_the_admins_scope_with_search_and_paging(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    provider_admin = await login(client, world.users["provider_admin"])
    listed = (await client.get("/api/v1/users?limit=200", headers=provider_admin)).json()
    emails = {u["email"] for u in listed["items"]}
    elsewhere = ("other_clinician", "other_provider_admin", "far_client_admin")
    expected = {u.email for k, u in world.users.items() if k not in elsewhere}
    assert emails == expected
    assert listed["total"] == len(expected)
    client_admin = await login(client, world.users["client_admin"])
    own = (await client.get("/api/v1/users", headers=client_admin)).json()
    assert {u["organisation_id"] for u in own["items"]} == {str(world.employer.id)}
    found = (await client.get("/api/v1/users?q=LOGISTICS&role=manager", headers=client_admin)).json()
    assert {u["email"] for u in found["items"]} == {
        world.users["manager"].email, world.users["manager_same_dept"].email,
    }  # fmt: skip
    assert (await client.get("/api/v1/users?q=%25", headers=client_admin)).json()["total"] == 0
    first = (await client.get("/api/v1/users?limit=2", headers=client_admin)).json()
    second = (await client.get("/api/v1/users?limit=2&offset=2", headers=client_admin)).json()
    assert first["total"] == second["total"] == own["total"]
    assert len(first["items"]) == 2
    assert not {u["id"] for u in first["items"]} & {u["id"] for u in second["items"]}
    assert (await client.get("/api/v1/users?limit=201", headers=client_admin)).status_code == 422


async def test_other_roles_may_not_administer(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    world = await make_world(conn)
    for role in ("manager", "clinician", "employee"):
        headers = await login(client, world.users[role])
        assert (await client.get("/api/v1/users", headers=headers)).status_code == 403, role
        target = world.users["other_employee"].id
        assert (await client.post(f"/api/v1/users/{target}/deactivate", headers=headers)).status_code == 403
    client.cookies.clear()  # signing in above left a session cookie in this client
    assert (await client.get("/api/v1/users")).status_code == 401


async def test_users_outside_scope_are_not_found(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    world = await make_world(conn)
    client_admin = await login(client, world.users["client_admin"])
    provider_admin = await login(client, world.users["provider_admin"])
    cases = [
        (client_admin, world.users["other_manager"].id),  # another employer
        (client_admin, world.users["clinician"].id),  # their provider
        (provider_admin, world.users["far_client_admin"].id),  # another provider's client
        (provider_admin, world.users["other_clinician"].id),  # another provider
    ]
    for headers, target in cases:
        assert (await client.get(f"/api/v1/users/{target}", headers=headers)).status_code == 404
        patched = await client.patch(f"/api/v1/users/{target}", json={"full_name": "X"}, headers=headers)
        assert patched.status_code == 404
        assert (await client.post(f"/api/v1/users/{target}/deactivate", headers=headers)).status_code == 404
    assert (
        await conn.fetchval("SELECT count(*) FROM app_user WHERE full_name = 'X' OR disabled_at IS NOT NULL")
        == 0
    )


async def test_change_role_department_and_name_but_never_ones_own_role(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    admin_user = world.users["client_admin"]
    admin = await login(client, admin_user)
    target = world.users["manager"]
    changed = await client.patch(
        f"/api/v1/users/{target.id}",
        json={"role": "client_admin", "department": "Finance", "full_name": "Renamed Person"},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["role"], changed.json()["department"], changed.json()["full_name"]) == (
        "client_admin", "Finance", "Renamed Person",
    )  # fmt: skip
    cleared = await client.patch(f"/api/v1/users/{target.id}", json={"department": ""}, headers=admin)
    assert cleared.json()["department"] is None
    assert cleared.json()["role"] == "client_admin"
    own_role = await client.patch(f"/api/v1/users/{admin_user.id}", json={"role": "manager"}, headers=admin)
    assert own_role.status_code == 403
    assert own_role.json()["code"] == "own_account"
    own_name = await client.patch(
        f"/api/v1/users/{admin_user.id}", json={"full_name": "Me Myself"}, headers=admin
    )
    assert own_name.status_code == 200
    assert (await client.patch(f"/api/v1/users/{target.id}", json={}, headers=admin)).status_code == 422
    assert (await client.patch(
        f"/api/v1/users/{target.id}", json={"role": "clinician"}, headers=admin
    )).status_code == 403  # fmt: skip
    audited = await conn.fetch(
        "SELECT outcome, count(*) AS n FROM audit_event WHERE action = 'user.update' AND subject_user_id = $1"
        " GROUP BY outcome",
        target.id,
    )
    assert {r["outcome"]: r["n"] for r in audited} == {"ok": 2, "denied": 1}  # the refused role change too


async def test_deactivation_ends_sessions_and_links_and_can_be_undone(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    admin = await login(client, world.users["provider_admin"])
    target = world.users["manager"]
    target_session = await login(client, target)
    await client.post("/api/v1/auth/sign-in-link", json={"email": target.email})
    _, token = await emailed_link(conn, target.email)
    off = await client.post(f"/api/v1/users/{target.id}/deactivate", headers=admin)
    assert off.status_code == 200
    assert off.json()["active"] is False
    assert (await client.get("/api/v1/me", headers=target_session)).status_code == 401
    assert (await client.post("/api/v1/auth/sign-in-link/redeem", json={"token": token})).status_code == 404
    assert (await client.post(
        "/api/v1/auth/login", json={"email": target.email, "password": "correct horse battery staple"}
    )).status_code == 401  # fmt: skip
    inactive = (await client.get("/api/v1/users?active=false", headers=admin)).json()
    assert [u["id"] for u in inactive["items"]] == [str(target.id)]
    on = await client.post(f"/api/v1/users/{target.id}/reactivate", headers=admin)
    assert on.json()["active"] is True
    await login(client, target)
    me = world.users["provider_admin"].id
    own = await client.post(f"/api/v1/users/{me}/deactivate", headers=admin)
    assert own.status_code == 403
    actions = await conn.fetch(
        "SELECT action FROM audit_event"
        " WHERE subject_user_id = $1 AND action LIKE 'user.%activate' ORDER BY id",
        target.id,
    )
    assert [r["action"] for r in actions] == ["user.deactivate", "user.reactivate"]


async def test_invitation_can_be_sent_again_until_a_password_is_set(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    admin = await login(client, world.users["client_admin"])
    created = (await client.post(
        "/api/v1/users", json={**INVITE, "organisation_id": str(world.employer.id)}, headers=admin
    )).json()  # fmt: skip
    _, first = await emailed_link(conn, INVITE["email"])
    resent = await client.post(f"/api/v1/users/{created['id']}/invitation", headers=admin)
    assert resent.status_code == 200
    _, second = await emailed_link(conn, INVITE["email"])
    assert first != second
    assert (await client.post(
        "/api/v1/auth/password", json={"token": first, "password": "maple syrup on toast"}
    )).status_code == 404  # fmt: skip
    assert (await client.post(
        "/api/v1/auth/password", json={"token": second, "password": "maple syrup on toast"}
    )).status_code == 200  # fmt: skip
    assert (await client.post(f"/api/v1/users/{created['id']}/invitation", headers=admin)).status_code == 409
