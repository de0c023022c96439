"""GET /api/v1/referrals through the list kit: search, each filter, each sort, paging with a real
total, refusals naming the parameter, and the caller's scope applied before any of it."""

from __future__ import annotations

import copy
from typing import Any

import asyncpg
import httpx

from backend.referrals.schemas import EXAMPLE_FORM
from tests.factories import World, login, make_referral, make_world


def _form(name: str, number: str, department: str = "Logistics", urgency: str = "routine") -> dict[str, Any]:
    form = copy.deepcopy(EXAMPLE_FORM)
    form["employee"].update(
        full_name=name,
        employee_number=number,
        department=department,
        email=f"{number.lower()}@employer.example",
    )
    form["urgency_requested"] = urgency
    if urgency == "urgent":
        form["urgency_reason"] = "Safety-critical driving role"
    return form


async def _seed(client: httpx.AsyncClient, world: World) -> tuple[dict[str, str], dict[str, str]]:
    """Five referrals by one manager (one left as a draft) and two in another employer."""
    manager = await login(client, world.users["manager"])
    ids = {}
    for name, number, dept, urgency in (
        ("Ada Lovelace", "PAY-001", "Logistics", "routine"),
        ("Charles Babbage", "PAY-002", "Logistics", "urgent"),
        ("Grace Hopper", "PAY-003", "Finance", "routine"),
        ("Alan Turing", "PAY-004", "Logistics", "routine"),
    ):
        ids[name] = (await make_referral(client, manager, form=_form(name, number, dept, urgency)))["id"]
    ids["draft"] = (await make_referral(client, manager, submit=False, form=_form("Ada Draft", "PAY-009")))[
        "id"
    ]
    other = await login(client, world.users["other_manager"])
    for number in ("PAY-001", "PAY-005"):
        await make_referral(client, other, form=_form("Ada Lovelace", number))
    return manager, ids


async def _names(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> tuple[list[str], int]:
    response = await client.get("/api/v1/referrals", params=params, headers=headers)
    assert response.status_code == 200, response.text
    page = response.json()
    return [item["employee_name"] for item in page["items"]], page["total"]


async def test_search_filters_and_totals(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    world = await make_world(conn)
    manager, ids = await _seed(client, world)
    assert await _names(client, manager, q="lovel") == (["Ada Lovelace"], 1)  # not the other employer's
    assert await _names(client, manager, q="pay-00", sort="submitted") == (
        ["Ada Lovelace", "Charles Babbage", "Grace Hopper", "Alan Turing", "Ada Draft"],
        5,
    )
    assert await _names(client, manager, q="PAY-003") == (["Grace Hopper"], 1)
    assert await _names(client, manager, q="100%_") == ([], 0)  # wildcards match only themselves
    assert (await _names(client, manager, status="DRAFT"))[1] == 1
    assert (await _names(client, manager, status=["DRAFT", "AWAITING_TRIAGE"]))[1] == 5
    assert await _names(client, manager, department="finance") == (["Grace Hopper"], 1)
    await conn.execute(
        "UPDATE referral SET submitted_at = '2026-01-10 23:30+00' WHERE id = $1", ids["Alan Turing"]
    )
    # 23:30 UTC on 10 January is still 10 January in the UK (GMT); in summer it would be the 11th.
    assert await _names(client, manager, submitted_from="2026-01-10", submitted_to="2026-01-10") == (
        ["Alan Turing"],
        1,
    )
    assert (await _names(client, manager, submitted_from="2026-01-11"))[1] == 3
    assert await _names(client, manager, overdue="true") == (["Alan Turing"], 1)
    assert (await _names(client, manager, overdue="false"))[1] == 4  # the draft is not overdue either


async def test_report_drafting_overdue_counts_from_the_end_of_the_consultation(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    _, ids = await _seed(client, world)
    await conn.execute(
        "UPDATE referral SET status = 'REPORT_DRAFTING' WHERE id = ANY($1::uuid[])",
        [ids["Ada Lovelace"], ids["Grace Hopper"]],
    )
    for name, days in (("Ada Lovelace", 6), ("Grace Hopper", 1)):
        await conn.execute(
            "INSERT INTO referral_event (referral_id, at, actor_role, action, from_status, to_status)"
            " VALUES ($1, now() - make_interval(days => $2), 'clinician', 'end_consultation',"
            " 'IN_CONSULTATION', 'REPORT_DRAFTING')",
            ids[name],
            days,
        )
    clinician = await login(client, world.users["clinician"])
    assert await _names(client, clinician, status="REPORT_DRAFTING", overdue="true") == (["Ada Lovelace"], 1)
    assert (await _names(client, clinician, status="REPORT_DRAFTING"))[1] == 2


async def test_sorts_and_paging(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    world = await make_world(conn)
    manager, _ = await _seed(client, world)
    submitted = ["Ada Lovelace", "Charles Babbage", "Grace Hopper", "Alan Turing"]
    assert (await _names(client, manager, status="AWAITING_TRIAGE", sort="submitted"))[0] == submitted
    assert (await _names(client, manager, status="AWAITING_TRIAGE", sort="-submitted"))[0] == submitted[::-1]
    by_priority = (await _names(client, manager, status="AWAITING_TRIAGE", sort="priority"))[0]
    assert by_priority == ["Charles Babbage", "Ada Lovelace", "Grace Hopper", "Alan Turing"]
    assert (await _names(client, manager, sort="status"))[0][0] == "Ada Draft"
    assert (await _names(client, manager, sort="-status"))[0][-1] == "Ada Draft"
    assert (await _names(client, manager, sort="-updated"))[0][0] == "Ada Draft"
    response = await client.get(
        "/api/v1/referrals", params={"sort": "submitted", "limit": 2, "offset": 2}, headers=manager
    )
    page = response.json()
    assert [i["employee_name"] for i in page["items"]] == ["Grace Hopper", "Alan Turing"]
    assert (page["total"], page["limit"], page["offset"], page["sort"]) == (5, 2, 2, "submitted")
    assert await _names(client, manager, limit=2, offset=50) == ([], 5)  # a real total past the end


async def test_invalid_parameters_are_named(client: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    for params, field in (
        ({"sort": "employee_email"}, "sort"),
        ({"sort": "submitted;drop table referral"}, "sort"),
        ({"status": "NOT_A_STATE"}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"offset": -1}, "offset"),
        ({"overdue": "perhaps"}, "overdue"),
        ({"submitted_from": "10/01/2026"}, "submitted_from"),
        ({"submitted_from": "2026-02-01", "submitted_to": "2026-01-01"}, "submitted_to"),
        ({"q": "x" * 101}, "q"),
    ):
        response = await client.get("/api/v1/referrals", params=params, headers=manager)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        fields = [e["field"].split(".")[0] for e in response.json()["errors"]]
        assert fields == [field], (params, response.json())


async def test_scope_comes_before_search_and_totals(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    await _seed(client, world)
    expected = {
        "client_admin": 4,  # its employer's submitted referrals; not the manager's draft
        "manager_same_dept": 3,  # department Logistics (case-insensitive), submitted only
        "manager_other_dept": 1,  # Grace Hopper's department is Finance
        "other_client_admin": 2,
        "clinician": 6,  # both employers of the provider, never drafts
        "other_clinician": 0,
        "far_client_admin": 0,
        "employee": 0,
    }
    for caller, total in expected.items():
        headers = await login(client, world.users[caller])
        assert (await _names(client, headers, q="PAY", limit=1))[1] == total, caller
        assert (await _names(client, headers, q="Ada Lovelace", limit=1))[1] == {
            "client_admin": 1,
            "manager_same_dept": 1,
            "other_client_admin": 2,
            "clinician": 3,
        }.get(caller, 0), caller
