"""Programmes, enrolment (one by one and by CSV) and named recall lists through the HTTP API."""

from __future__ import annotations

import httpx

from tests.factories import login, make_world
from tests.surveillance.helpers import enrol, make_programme, person

CSV_HEADER = "email,full_name,employee_number,date_of_birth,sex,department,job_title,exposure,start_date\n"


async def audit_count(conn, action: str) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM audit_event WHERE action = $1", action))


async def test_client_admin_and_clinician_set_up_programmes_with_default_recall(
    client: httpx.AsyncClient, conn
):
    world = await make_world(conn)
    admin = await login(client, world.users["client_admin"])
    nurse = await login(client, world.users["clinician"])
    noise = await make_programme(client, admin)
    assert noise["recall"] == [
        {"months": 12, "weeks": 0},
        {"months": 12, "weeks": 0},
        {"months": 36, "weeks": 0},
    ]
    assert noise["organisation_id"] == str(world.employer.id)
    fitness = await make_programme(
        client, nurse, kind="fitness_for_task", organisation_id=str(world.employer.id)
    )
    assert fitness["standards"]["pulse_bpm"]["normal_max"] == 100
    listed = await client.get("/api/v1/surveillance/programmes", headers=admin)
    assert {p["id"] for p in listed.json()} == {noise["id"], fitness["id"]}
    assert await audit_count(conn, "hs_programme.create") == 2

    duplicate = await client.post(
        "/api/v1/surveillance/programmes", headers=admin, json={"name": noise["name"], "kind": "noise"}
    )
    assert duplicate.status_code == 409
    no_task = await client.post(
        "/api/v1/surveillance/programmes",
        headers=admin,
        json={"name": "Confined", "kind": "fitness_for_task"},
    )
    assert no_task.status_code == 422


async def test_programmes_are_invisible_outside_the_organisation(client: httpx.AsyncClient, conn):
    world = await make_world(conn)
    programme = await make_programme(client, await login(client, world.users["client_admin"]))
    for key in ("other_client_admin", "other_clinician", "far_client_admin"):
        headers = await login(client, world.users[key])
        listed = await client.get("/api/v1/surveillance/programmes", headers=headers)
        assert programme["id"] not in {p["id"] for p in listed.json()}, key
        response = await client.post(
            f"/api/v1/surveillance/programmes/{programme['id']}/enrolments",
            headers=headers,
            json={"person": person()},
        )
        assert response.status_code == 404, key
        enrolments = await client.get(
            f"/api/v1/surveillance/programmes/{programme['id']}/enrolments", headers=headers
        )
        assert enrolments.status_code == 404, key
    other = await login(client, world.users["other_clinician"])
    foreign = await client.post(
        "/api/v1/surveillance/programmes",
        headers=other,
        json={"name": "X", "kind": "noise", "organisation_id": str(world.employer.id)},
    )
    assert foreign.status_code == 404
    manager = await login(client, world.users["manager"])
    assert (await client.get("/api/v1/surveillance/programmes", headers=manager)).status_code == 403


async def test_enrol_one_sets_the_baseline_due_and_refuses_duplicates(client: httpx.AsyncClient, conn):
    world = await make_world(conn)
    admin = await login(client, world.users["client_admin"])
    programme = await make_programme(client, admin)
    enrolment = await enrol(client, admin, programme["id"], email="pat@employer.example")
    assert enrolment["next_due_date"] == "2026-01-05"
    assert enrolment["checks_done"] == 0
    again = await client.post(
        f"/api/v1/surveillance/programmes/{programme['id']}/enrolments",
        headers=admin,
        json={"person": person(email="pat@employer.example")},
    )
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "email"
    stolen_number = await client.post(
        f"/api/v1/surveillance/programmes/{programme['id']}/enrolments",
        headers=admin,
        json={"person": person(employee_number=enrolment["employee_number"])},
    )
    assert stolen_number.status_code == 409
    audited = await conn.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'hs_enrolment.create' AND subject_email = $1",
        "pat@employer.example",
    )
    assert audited == 1


async def test_csv_imports_valid_rows_and_reports_invalid_ones(client: httpx.AsyncClient, conn):
    world = await make_world(conn)
    admin = await login(client, world.users["client_admin"])
    programme = await make_programme(client, admin)
    body = CSV_HEADER + (
        "a@employer.example,Ann Able,N1,1980-02-03,female,Logistics,Driver,Yard,2026-02-01\n"
        "not-an-email,Bad Email,N2,1980-02-03,female,,,,\n"
        "\n"
        "c@employer.example,Cy Cole,N3,1980-13-40,male,,,,\n"
        "d@employer.example,Di Dow,N4,1979-07-07,male,Finance,,,\n"
        "a@employer.example,Ann Again,N5,1980-02-03,female,,,,\n"
    )
    response = await client.post(
        f"/api/v1/surveillance/programmes/{programme['id']}/enrolments.csv",
        content=body.encode(),
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["imported"], report["failed"]) == (2, 3)
    by_line = {r["row"]: r for r in report["rows"]}
    assert by_line[2]["status"] == "imported"
    assert by_line[3]["errors"][0]["field"] == "email"
    assert by_line[5]["errors"][0]["field"] == "date_of_birth"
    assert by_line[6]["status"] == "imported"
    assert by_line[7]["errors"][0]["type"] == "duplicate"
    stored = await conn.fetch(
        "SELECT p.email FROM hs_enrolment e JOIN hs_person p ON p.id = e.person_id ORDER BY 1"
    )
    assert [r["email"] for r in stored] == ["a@employer.example", "d@employer.example"]

    # Already enrolled people are reported per row; the rest still import.
    again = await client.post(
        f"/api/v1/surveillance/programmes/{programme['id']}/enrolments.csv",
        content=(
            CSV_HEADER + "a@employer.example,Ann Able,N1,1980-02-03,female,,,,\n"
            "e@employer.example,Ed East,N6,1990-01-01,male,,,,\n"
        ).encode(),
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert (again.json()["imported"], again.json()["failed"]) == (1, 1)


async def test_broken_csv_imports_nothing(client: httpx.AsyncClient, conn):
    world = await make_world(conn)
    admin = await login(client, world.users["client_admin"])
    programme = await make_programme(client, admin)
    url = f"/api/v1/surveillance/programmes/{programme['id']}/enrolments.csv"
    for content in (
        b"email,full_name\na@employer.example,Ann\n",  # missing columns
        (CSV_HEADER.strip() + ",shoe_size\n").encode(),  # unknown column
        b"\xff\xfe\x00garbage",  # not UTF-8
        CSV_HEADER.encode(),  # no rows
    ):
        response = await client.post(url, content=content, headers={**admin, "Content-Type": "text/csv"})
        assert response.status_code == 422, content
        assert response.json()["errors"][0]["field"] == "file"
    assert await conn.fetchval("SELECT count(*) FROM hs_enrolment") == 0


async def test_named_recall_list_only_for_client_admins_and_clinicians(client: httpx.AsyncClient, conn):
    world = await make_world(conn)
    admin = await login(client, world.users["client_admin"])
    programme = await make_programme(client, admin)
    overdue = await enrol(client, admin, programme["id"])
    far = await client.post(
        f"/api/v1/surveillance/programmes/{programme['id']}/enrolments",
        headers=admin,
        json={"person": person(), "start_date": "2030-01-01"},
    )
    assert far.status_code == 201
    listed = await client.get("/api/v1/surveillance/recalls", headers=admin)
    assert [(r["enrolment_id"], r["state"]) for r in listed.json()] == [(overdue["id"], "overdue")]
    nurse = await login(client, world.users["clinician"])
    by_nurse = await client.get(
        "/api/v1/surveillance/recalls", headers=nurse, params={"organisation_id": str(world.employer.id)}
    )
    assert len(by_nurse.json()) == 1
    for key in ("manager", "employee", "provider_admin"):
        response = await client.get(
            "/api/v1/surveillance/recalls", headers=await login(client, world.users[key])
        )
        assert response.status_code == 403, key
    other = await login(client, world.users["other_clinician"])
    foreign = await client.get(
        "/api/v1/surveillance/recalls", headers=other, params={"organisation_id": str(world.employer.id)}
    )
    assert foreign.status_code == 404
    assert await audit_count(conn, "hs_recall.list") == 2


async def test_ending_an_enrolment_takes_it_off_the_recall_list(client: httpx.AsyncClient, conn):
    world = await make_world(conn)
    admin = await login(client, world.users["client_admin"])
    programme = await make_programme(client, admin)
    enrolment = await enrol(client, admin, programme["id"])
    other = await login(client, world.users["other_client_admin"])
    assert (
        await client.delete(f"/api/v1/surveillance/enrolments/{enrolment['id']}", headers=other)
    ).status_code == 404
    assert (
        await client.delete(f"/api/v1/surveillance/enrolments/{enrolment['id']}", headers=admin)
    ).status_code == 204
    assert (await client.get("/api/v1/surveillance/recalls", headers=admin)).json() == []
