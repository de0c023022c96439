"""E-mailed account links: forgotten password, one-time sign-in, and their rules."""

from __future__ import annotations

import asyncio
import hashlib
import statistics
import time

import asyncpg
import httpx
import pytest

from backend.auth.schemas import Role
from tests.accounts.helpers import emailed_link, last_message, message_count
from tests.conftest import Server
from tests.factories import PASSWORD, login, make_referral, make_world, referral_form

NEW_PASSWORD = "a quiet harbour at dusk"


async def forgot(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/api/v1/auth/password/forgotten", json={"email": email})


async def test_reset_sets_a_new_password_once_and_ends_every_session(
    client: httpx.AsyncClient, conn: asyncpg.Connection, server: Server
) -> None:
    world = await make_world(conn)
    manager = world.users["manager"]
    old_session = await login(client, manager)
    asked = await forgot(client, manager.email.upper())
    assert asked.status_code == 202, asked.text
    link, token = await emailed_link(conn, manager.email)
    assert link == f"{server.url}/set-password.html#token={token}&for=reset"
    message = await last_message(conn, manager.email)
    assert message is not None
    assert message["kind"] == "auth.reset_password"
    assert message["provider_id"] == world.provider.id

    done = await client.post("/api/v1/auth/password", json={"token": token, "password": NEW_PASSWORD})
    assert done.status_code == 200, done.text
    assert done.json() == {"email": manager.email}
    assert (await client.get("/api/v1/me", headers=old_session)).status_code == 401
    assert (await client.post(
        "/api/v1/auth/login", json={"email": manager.email, "password": PASSWORD}
    )).status_code == 401  # fmt: skip
    await login(client, manager, NEW_PASSWORD)

    again = await client.post(
        "/api/v1/auth/password", json={"token": token, "password": "another fine password"}
    )
    assert again.status_code == 404
    assert again.json()["code"] == "link_not_valid"
    actions = await conn.fetch(
        "SELECT action, outcome FROM audit_event"
        " WHERE subject_user_id = $1 AND action LIKE 'auth.%' ORDER BY id",
        manager.id,
    )
    assert ("auth.reset_password.request", "ok") in [tuple(r) for r in actions]
    assert ("auth.password.reset_password", "ok") in [tuple(r) for r in actions]


async def test_tokens_are_stored_only_as_their_sha256(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    manager = world.users["manager"]
    await forgot(client, manager.email)
    _, token = await emailed_link(conn, manager.email)
    rows = await conn.fetch("SELECT t::text AS whole, token_hash FROM account_token t")
    assert len(rows) == 1
    assert bytes(rows[0]["token_hash"]) == hashlib.sha256(token.encode()).digest()
    assert token not in rows[0]["whole"]


async def test_unknown_and_known_addresses_get_the_same_answer_in_about_the_same_time(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    known, unknown = world.users["manager"].email, "nobody.here@employer.example"
    durations: dict[str, list[float]] = {}
    answers: dict[str, set[tuple[int, str]]] = {}
    for path in ("/api/v1/auth/password/forgotten", "/api/v1/auth/sign-in-link"):
        for email in (known, unknown, known, unknown):
            started = time.monotonic()
            response = await client.post(path, json={"email": email})
            durations.setdefault(email, []).append(time.monotonic() - started)
            answers.setdefault(path, set()).add((response.status_code, response.text))
    assert all(len(found) == 1 for found in answers.values()), answers
    assert next(iter(answers["/api/v1/auth/sign-in-link"]))[0] == 202
    assert await message_count(conn, unknown) == 0
    assert await message_count(conn, known) == 4
    assert min(durations[known] + durations[unknown]) >= 0.25
    # Medians, so that one request delayed by a busy machine does not decide it.
    assert abs(statistics.median(durations[known]) - statistics.median(durations[unknown])) < 0.1, durations


async def test_expired_links_do_not_work(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    world = await make_world(conn)
    manager = world.users["manager"]
    await forgot(client, manager.email)
    _, reset = await emailed_link(conn, manager.email)
    await client.post("/api/v1/auth/sign-in-link", json={"email": manager.email})
    _, sign_in = await emailed_link(conn, manager.email)
    await conn.execute(
        "UPDATE account_token"
        " SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 second'"
    )
    expired = await client.post("/api/v1/auth/password", json={"token": reset, "password": NEW_PASSWORD})
    assert expired.status_code == 404
    assert (await client.post("/api/v1/auth/sign-in-link/redeem", json={"token": sign_in})).status_code == 404


async def test_a_reset_link_lives_as_long_as_configured(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    await forgot(client, world.users["manager"].email)
    lifetime = await conn.fetchval("SELECT expires_at - created_at FROM account_token")
    assert 59 * 60 <= lifetime.total_seconds() <= 60 * 60 + 5


async def test_sign_in_link_gives_a_normal_session_and_returns_to_the_page(
    client: httpx.AsyncClient, conn: asyncpg.Connection, server: Server
) -> None:
    world = await make_world(conn)
    nurse = world.users["clinician"]
    asked = await client.post(
        "/api/v1/auth/sign-in-link", json={"email": nurse.email, "next": "/triage.html#referral=x"}
    )
    assert asked.status_code == 202
    link, token = await emailed_link(conn, nurse.email)
    assert link == f"{server.url}/?next=/triage.html%23referral%3Dx#sign-in={token}"
    redeemed = await client.post("/api/v1/auth/sign-in-link/redeem", json={"token": token})
    assert redeemed.status_code == 200, redeemed.text
    body = redeemed.json()
    assert body["user"]["id"] == str(nurse.id)
    assert any(c.startswith("ohc_session=") for c in redeemed.headers.get_list("set-cookie"))
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["id"] == str(nurse.id)
    assert await conn.fetchval("SELECT via FROM auth_session WHERE user_id = $1", nurse.id) == "sign_in_link"
    replay = await client.post("/api/v1/auth/sign-in-link/redeem", json={"token": token})
    assert replay.status_code == 404


@pytest.mark.parametrize(
    "bad", ["//evil.example/", "https://evil.example/", "/\\evil.example", "/api/v1/me", "x"]
)
async def test_sign_in_link_returns_only_to_pages_of_this_site(client: httpx.AsyncClient, bad: str) -> None:
    refused = await client.post(
        "/api/v1/auth/sign-in-link", json={"email": "a.person@employer.example", "next": bad}
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["next"]


async def test_a_newer_link_replaces_an_older_one(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    manager = world.users["manager"]
    await client.post("/api/v1/auth/sign-in-link", json={"email": manager.email})
    _, first = await emailed_link(conn, manager.email)
    await client.post("/api/v1/auth/sign-in-link", json={"email": manager.email})
    _, second = await emailed_link(conn, manager.email)
    assert (await client.post("/api/v1/auth/sign-in-link/redeem", json={"token": first})).status_code == 404
    assert (await client.post("/api/v1/auth/sign-in-link/redeem", json={"token": second})).status_code == 200


async def test_weak_password_is_refused_and_the_link_still_works(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    manager = world.users["manager"]
    await forgot(client, manager.email)
    _, token = await emailed_link(conn, manager.email)
    for weak in ("short", "aaaaaaaaaaaaaaaa", manager.email):
        refused = await client.post("/api/v1/auth/password", json={"token": token, "password": weak})
        assert refused.status_code == 422, weak
        assert refused.json()["code"] == "weak_password"
    invalid = await conn.fetchval(
        "SELECT count(*) FROM audit_event"
        " WHERE action = 'auth.password.set' AND outcome = 'invalid' AND subject_user_id = $1",
        manager.id,
    )
    assert invalid == 3
    done = await client.post("/api/v1/auth/password", json={"token": token, "password": NEW_PASSWORD})
    assert done.status_code == 200


async def test_deactivated_accounts_get_no_link_and_their_links_stop_working(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    manager = world.users["manager"]
    await client.post("/api/v1/auth/sign-in-link", json={"email": manager.email})
    _, sign_in = await emailed_link(conn, manager.email)
    await forgot(client, manager.email)
    _, reset = await emailed_link(conn, manager.email)
    await conn.execute("UPDATE app_user SET disabled_at = now() WHERE id = $1", manager.id)
    before = await message_count(conn, manager.email)
    assert (await forgot(client, manager.email)).status_code == 202
    assert (await client.post("/api/v1/auth/sign-in-link", json={"email": manager.email})).status_code == 202
    assert await message_count(conn, manager.email) == before
    assert (await client.post("/api/v1/auth/sign-in-link/redeem", json={"token": sign_in})).status_code == 404
    refused = await client.post("/api/v1/auth/password", json={"token": reset, "password": NEW_PASSWORD})
    assert refused.status_code == 404


async def test_requests_are_throttled_per_address(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    target, bystander = world.users["manager"], world.users["client_admin"]
    for _ in range(5):
        assert (await forgot(client, target.email)).status_code == 202
    refused = await client.post("/api/v1/auth/sign-in-link", json={"email": target.email})
    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) == 3600
    assert await message_count(conn, target.email) == 5
    assert (await forgot(client, bystander.email)).status_code == 202
    # Counted in PostgreSQL, so every process sees the same count.
    assert (
        await conn.fetchval("SELECT count(*) FROM account_token_attempt WHERE email = $1", target.email) == 5
    )
    assert (await forgot(client, "unknown.person@employer.example")).status_code == 202
    denied = await conn.fetchval(
        "SELECT count(*) FROM audit_event WHERE subject_user_id = $1 AND outcome = 'denied'", target.id
    )
    assert denied == 1


async def test_employee_from_referral_link_sets_a_password_once(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    form = referral_form()
    form["employee"] = {**form["employee"], "email": "jo.newcomer@employer.example"}
    referral = await make_referral(client, manager, form=form)
    _, token = await emailed_link(conn, "jo.newcomer@employer.example")
    link = await client.post("/api/v1/auth/link", json={"token": token})
    assert link.status_code == 200, link.text
    employee = {"Authorization": f"Bearer {link.json()['access_token']}"}
    acknowledged = await client.post(
        f"/api/v1/referrals/{referral['id']}/acknowledgement", json={"discussed": True}, headers=employee
    )
    assert acknowledged.status_code == 200, acknowledged.text
    weak = await client.post(
        "/api/v1/auth/password/from-link", json={"password": "jo.newcomer"}, headers=employee
    )
    assert weak.status_code == 422
    done = await client.post(
        "/api/v1/auth/password/from-link", json={"password": NEW_PASSWORD}, headers=employee
    )
    assert done.status_code == 200, done.text
    signed_in = await client.post(
        "/api/v1/auth/login", json={"email": "jo.newcomer@employer.example", "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 200
    again = await client.post(
        "/api/v1/auth/password/from-link", json={"password": "yet another password"}, headers=employee
    )
    assert again.status_code == 409
    # A password session cannot set a password this way (that needs the e-mailed reset link).
    password_session = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    refused = await client.post(
        "/api/v1/auth/password/from-link", json={"password": "yet another password"}, headers=password_session
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_link_session"


async def test_sign_in_state_is_always_200(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    world = await make_world(conn)
    anonymous = await client.get("/api/v1/auth/status")
    assert anonymous.status_code == 200
    assert anonymous.json() == {"signed_in": False, "user": None}
    stale = await client.get("/api/v1/auth/status", headers={"Authorization": "Bearer " + "z" * 43})
    assert stale.json()["signed_in"] is False
    headers = await login(client, world.users["manager"])
    signed_in = (await client.get("/api/v1/auth/status", headers=headers)).json()
    assert signed_in["signed_in"] is True
    assert signed_in["user"]["id"] == str(world.users["manager"].id)


async def test_an_account_without_a_password_can_reset_it(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    await conn.execute(
        "INSERT INTO app_user (organisation_id, role, email)"
        " VALUES ($1, 'employee', 'no.password@employer.example')",
        world.employer.id,
    )
    await forgot(client, "no.password@employer.example")
    _, token = await emailed_link(conn, "no.password@employer.example")
    done = await client.post("/api/v1/auth/password", json={"token": token, "password": NEW_PASSWORD})
    assert done.status_code == 200
    assert Role.employee.value == (await client.post(
        "/api/v1/auth/login", json={"email": "no.password@employer.example", "password": NEW_PASSWORD}
    )).json()["user"]["role"]  # fmt: skip


async def test_concurrent_requests_cannot_slip_past_the_limit(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """Requests counted at the same time are counted one after another (no check-then-insert race)."""
    world = await make_world(conn)
    target = world.users["manager"].email
    answers = await asyncio.gather(*(forgot(client, target) for _ in range(12)))
    assert sorted(a.status_code for a in answers) == [202] * 5 + [429] * 7
    assert await message_count(conn, target) == 5
