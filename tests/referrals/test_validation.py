"""Referral form validation: 422 with ``errors: [{field, message, type}]`` naming each bad field.

A draft may leave required fields out, but whatever it does give is checked; submission checks
the whole form, the conditional rules of domain.md §2 and the attestation of §2.8.
"""

from __future__ import annotations

import copy
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from tests.factories import login, make_referral, make_world, referral_form

COMPLETE = referral_form()


def fields(response: httpx.Response) -> list[str]:
    return [e["field"] for e in response.json().get("errors") or []]


def assert_problem(response: httpx.Response, *expected: str) -> None:
    """422 in the problem shape, naming at least ``expected`` fields, every error fully described."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 422
    assert body["title"]
    assert body["detail"]
    for error in body["errors"]:
        assert set(error) == {"field", "message", "type"}, error
        assert all(error.values()), error
    missing = [name for name in expected if name not in fields(response)]
    assert not missing, f"{missing} not named in {fields(response)}"


def form_with(**paths: Any) -> dict[str, Any]:
    """The complete example form with dotted paths set (value ``...`` deletes the key)."""
    form = copy.deepcopy(COMPLETE)
    for path, value in paths.items():
        *parents, last = path.split("__")
        node = form
        for key in parents:
            node = node[key]
        if value is ...:
            del node[last]
        else:
            node[last] = value
    return form


async def manager_of(client: httpx.AsyncClient, conn: asyncpg.Connection) -> dict[str, str]:
    world = await make_world(conn)
    return await login(client, world.users["manager"])


async def referral_count(conn: asyncpg.Connection) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM referral")
    return count


async def test_each_bad_field_in_a_draft_is_named(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    manager = await manager_of(client, conn)
    bad = form_with(
        employee__email="alex at employer",
        employee__date_of_birth="1985-13-45",
        employee__favourite_colour="blue",
        employee__contracted_hours=500,
        referrer__phone="call me maybe",
        attestation__discussed_on="2999-01-01",
        shoe_size=9,
    )
    response = await client.post("/api/v1/referrals", json=bad, headers=manager)
    assert_problem(
        response,
        "employee.email",
        "employee.date_of_birth",
        "employee.favourite_colour",
        "employee.contracted_hours",
        "referrer.phone",
        "attestation.discussed_on",
        "shoe_size",
    )
    assert len(fields(response)) == 7, fields(response)
    assert await referral_count(conn) == 0

    # The text of an escape is just text.
    literal = await client.post(
        "/api/v1/referrals", json={"site": "Depot \\u0000 backslash"}, headers=manager
    )
    assert literal.status_code == 201, literal.text
    assert literal.json()["form"]["site"] == "Depot \\u0000 backslash"


async def test_more_bad_values_are_refused_even_in_a_draft(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    manager = await manager_of(client, conn)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"employee": {"contracted_hours": 0}}, "employee.contracted_hours"),
        ({"employee": {"contracted_hours": "lots"}}, "employee.contracted_hours"),
        ({"employee": {"date_of_birth": "2020-01-01"}}, "employee.date_of_birth"),  # a six-year-old employee
        ({"employee": {"shift_patterns": ["sometimes"]}}, "employee.shift_patterns.0"),
        ({"employee": "Alex"}, "employee"),
        ({"referral_type": "gossip"}, "referral_type"),
        ({"urgency_requested": "yesterday"}, "urgency_requested"),
        ({"role": {"hazards": ["lions"]}}, "role.hazards.0"),
        ({"reason": {"categories": ["bored"]}}, "reason.categories.0"),
        (
            {
                "absence": {
                    "record": [{"start_date": "2026-03-10", "end_date": "2026-03-01", "reason": "Flu"}]
                }
            },
            "absence.record.0",
        ),
        ({"questions": {"standard": [1, 13]}}, "questions.standard.1"),
        ({"questions": {"standard": [2, 2]}}, "questions.standard"),
        ({"employee": {"email": "alex@employer.example", "full_name": "x" * 201}}, "employee.full_name"),
    ]
    problems = []
    for body, field in cases:
        response = await client.post("/api/v1/referrals", json=body, headers=manager)
        if response.status_code != 422 or field not in fields(response):
            problems.append(
                f"{body}: {response.status_code} {fields(response) if response.status_code == 422 else ''}"
            )
    assert not problems, "\n".join(problems)
    assert await referral_count(conn) == 0


async def test_a_draft_may_leave_required_fields_out(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    manager = await manager_of(client, conn)
    partial = {
        "referral_type": "management",
        "employee": {"full_name": "Alex Example", "email": "alex.example@employer.example"},
    }
    for body in ({}, partial, form_with(attestation__discussed_with_employee=False)):
        response = await client.post("/api/v1/referrals", json=body, headers=manager)
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "DRAFT"
        assert response.json()["form"] == body
    assert await referral_count(conn) == 3


async def test_submitting_an_incomplete_draft_lists_what_is_missing(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    manager = await manager_of(client, conn)
    partial = form_with(employee__date_of_birth=..., attestation=..., reason__advice_sought=...)
    referral = await make_referral(client, manager, submit=False, form=partial)
    response = await client.post(f"/api/v1/referrals/{referral['id']}/submit", headers=manager)
    assert_problem(response, "employee.date_of_birth", "attestation", "reason.advice_sought")
    assert len(fields(response)) == 3, fields(response)
    row = await conn.fetchrow(
        "SELECT status, version, form FROM referral WHERE id = $1", UUID(referral["id"])
    )
    assert row is not None
    assert (row["status"], row["version"], row["form"]) == ("DRAFT", 1, partial)
    assert await conn.fetchval("SELECT count(*) FROM outbox_message") == 0


async def test_the_employee_must_have_been_told(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    manager = await manager_of(client, conn)
    for attestation_field in ("discussed_with_employee", "copy_given_to_employee"):
        untold = await make_referral(
            client, manager, submit=False, form=form_with(**{f"attestation__{attestation_field}": False})
        )
        response = await client.post(f"/api/v1/referrals/{untold['id']}/submit", headers=manager)
        assert_problem(response, f"attestation.{attestation_field}")
        assert fields(response) == [f"attestation.{attestation_field}"]


async def test_conditional_rules_bind_at_submission(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    manager = await manager_of(client, conn)
    cases: list[tuple[dict[str, Any], str]] = [
        (form_with(absence__absence_start_date=...), "absence.absence_start_date"),
        (form_with(urgency_requested="urgent"), "urgency_reason"),
        (form_with(absence__record=[]), "absence.record"),
        (
            form_with(reason__categories=["recurrent_short_term_absence"], absence__record=[]),
            "absence.record",
        ),
        (form_with(role__hazards=["other"]), "role.hazard_other"),
        (form_with(questions={"standard": [], "additional": []}), "questions"),
        (form_with(reason__categories=["accident_at_work"]), "attachments"),
    ]
    problems = []
    for form, field in cases:
        referral = await make_referral(client, manager, submit=False, form=form)
        response = await client.post(f"/api/v1/referrals/{referral['id']}/submit", headers=manager)
        if response.status_code != 422 or fields(response) != [field]:
            problems.append(f"{field}: {response.status_code} {response.text[:200]}")
    assert not problems, "\n".join(problems)
    assert await conn.fetchval("SELECT count(*) FROM referral WHERE status <> 'DRAFT'") == 0

    # What each rule asks for makes the referral submittable.
    fixed = [
        form_with(urgency_requested="urgent", urgency_reason="Safety-critical driver, off the road"),
        form_with(reason__categories=["work_related_ill_health"], absence__record=[]),
        form_with(absence__currently_absent=False, absence__absence_start_date=...),
        form_with(role__hazards=["other"], role__hazard_other="Works with bees"),
    ]
    for form in fixed:
        referral = await make_referral(client, manager, submit=False, form=form)
        response = await client.post(f"/api/v1/referrals/{referral['id']}/submit", headers=manager)
        assert response.status_code == 200, response.text


async def test_an_accident_referral_needs_the_accident_report(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    manager = await manager_of(client, conn)
    referral = await make_referral(
        client, manager, submit=False, form=form_with(reason__categories=["accident_at_work"])
    )
    url = f"/api/v1/referrals/{referral['id']}"
    pdf = b"%PDF-1.4\n%%EOF\n"
    other = await client.post(
        f"{url}/attachments",
        headers=manager,
        data={"kind": "risk_assessment"},
        files={"file": ("risk.pdf", pdf, "application/pdf")},
    )
    assert other.status_code == 201
    refused = await client.post(f"{url}/submit", headers=manager)
    assert_problem(refused, "attachments")
    report = await client.post(
        f"{url}/attachments",
        headers=manager,
        data={"kind": "accident_report"},
        files={"file": ("accident.pdf", pdf + b"%report\n", "application/pdf")},
    )
    assert report.status_code == 201
    accepted = await client.post(f"{url}/submit", headers=manager)
    assert accepted.status_code == 200, accepted.text


async def test_a_referral_awaiting_information_must_stay_complete(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    clinician = await login(client, world.users["clinician"])
    referral = await make_referral(client, manager)
    asked = await client.post(
        f"/api/v1/referrals/{referral['id']}/transitions",
        headers=clinician,
        json={"action": "request_info", "message": "Is the absence ongoing?"},
    )
    assert asked.status_code == 200
    for form, field in [
        (form_with(urgency_requested="urgent"), "urgency_reason"),
        (form_with(employee__date_of_birth=...), "employee.date_of_birth"),
    ]:
        response = await client.put(f"/api/v1/referrals/{referral['id']}", json=form, headers=manager)
        assert_problem(response, field)
    answered = await client.put(
        f"/api/v1/referrals/{referral['id']}",
        headers=manager,
        json=form_with(absence__expected_return_date="2027-01-04"),
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["form"]["absence"]["expected_return_date"] == "2027-01-04"


async def test_bodies_that_are_not_a_form_are_422_not_500(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    manager = await manager_of(client, conn)
    draft = await make_referral(client, manager, submit=False)
    json_headers = {**manager, "content-type": "application/json"}
    bodies: list[tuple[bytes, str | None]] = [
        (b"{not json", "body"),
        (b"", "form"),
        (b"null", "form"),
        (b"[]", "form"),
        (b'[{"referral_type": "management"}]', "form"),
        (b'"a referral"', "form"),
        (b"42", "form"),
        (b"\xff\xfe\x00garbage", "body"),
        (b"[" * 100_000, "body"),  # deeper than any parser should follow
        (b'{"site": ' + b"[" * 5_000 + b"]" * 5_000 + b"}", "body"),
        (b'{"site": ' + b'{"a": ' * 900 + b"1" + b"}" * 900 + b"}", None),  # refused, wherever it is noticed
        (b'{"site": "Depot\\u0000 7"}', "site"),
        (b'{"employee": {"full_name": "Alex\\u0000"}}', "employee.full_name"),
    ]
    problems = []
    for content, field in bodies:
        for method, url in (("POST", "/api/v1/referrals"), ("PUT", f"/api/v1/referrals/{draft['id']}")):
            response = await client.request(method, url, content=content, headers=json_headers)
            if response.status_code != 422 or (field is not None and field not in fields(response)):
                problems.append(f"{method} {content[:40]!r}: {response.status_code} {response.text[:160]}")
    assert not problems, "\n".join(problems)
    assert await referral_count(conn) == 1
    assert await conn.fetchval("SELECT version FROM referral") == 1


async def test_a_draft_naming_nobody_yet_can_be_listed(client, conn) -> None:
    """A list read audits each referral's person; a blank draft names nobody (and is still listed)."""
    from tests.factories import login, make_world

    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    created = await client.post("/api/v1/referrals", json={}, headers=manager)
    assert created.status_code == 201, created.text
    listed = await client.get("/api/v1/referrals", headers=manager)
    assert listed.status_code == 200, listed.text
    assert [r["id"] for r in listed.json()["items"]] == [created.json()["id"]]
