"""Every clinical read, by every role that may make it, appears in the employee's access log.

The operations come from ``/openapi.json`` at test time: every GET whose tags name a clinical
feature is called as every role of the employee's own world, unless it is listed in ``NOT_PERSONAL``
with the reason it reads nobody's records. A read that answers 2xx with one of the employee's
records (by a path id of theirs, or their ids or e-mail in the body) must appear in the employee's
``GET /api/v1/me/access-log`` with the reader's name and role. A new clinical read endpoint
whose audit row names nobody therefore makes this test fail; so does one this test cannot call
(a path parameter it has no value for) or that no role can read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.booking.helpers import book_into_new_clinic
from tests.clinics.helpers import book, make_session, triaged_referral
from tests.factories import World, login, make_world, referral_form
from tests.readings.helpers import consent, post, simulated, start_stream
from tests.reports.helpers import consent as report_consent
from tests.reports.helpers import content
from tests.surveillance.helpers import enrol, make_programme, record, sign

CLINICAL_TAGS = {"referrals", "readings", "clinics", "booking", "surveillance", "reports"}
ROLES = ("provider_admin", "clinician", "client_admin", "manager", "manager_same_dept", "employee")
# GETs under the clinical tags that read no person's records, and why.
NOT_PERSONAL = {
    "/api/v1/clinics/ice-servers": "TURN/STUN configuration for a call",
    "/api/v1/surveillance/programmes": "programme definitions, no people",
    "/api/v1/documents/{document_id}/verify": "whether a hash matches an issued document",
    "/api/v1/documents/{document_id}/check": "the public check: valid or not, nothing about anyone",
    "/api/v1/booking/choices": "who may run a clinic and which employers' sites may host one",
    "/api/v1/organisations/{organisation_id}/dashboard": "suppressed aggregate figures",
    "/api/v1/organisations/{organisation_id}/report.pdf": "suppressed aggregate figures",
    "/api/v1/organisations/{organisation_id}/report.csv": "suppressed aggregate figures",
}


@dataclass
class Records:
    """The employee's records, and the values that fill the path parameters of reads of them."""

    params: dict[str, str] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)

    def add(self, name: str, value: str) -> None:
        self.params[name] = value
        self.ids.add(value)


async def _move(client: httpx.AsyncClient, headers: dict[str, str], rid: str, **body: Any) -> None:
    response = await client.post(f"/api/v1/referrals/{rid}/transitions", json=body, headers=headers)
    assert response.status_code == 200, response.text


async def _released_report(client: httpx.AsyncClient, world: World, users: dict[str, dict[str, str]]) -> str:
    """A referral about the employee, with an attachment and a comment, walked to a released report."""
    manager, nurse, employee = users["manager"], users["clinician"], users["employee"]
    created = await client.post("/api/v1/referrals", json=referral_form(), headers=manager)
    assert created.status_code == 201, created.text
    rid: str = created.json()["id"]
    upload = await client.post(
        f"/api/v1/referrals/{rid}/attachments",
        headers=manager,
        files={"file": ("fit-note.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
        data={"kind": "fit_note"},
    )
    assert upload.status_code == 201, upload.text
    assert (await client.post(f"/api/v1/referrals/{rid}/submit", headers=manager)).status_code == 200
    comment = await client.post(
        f"/api/v1/referrals/{rid}/comments", json={"body": "Any news?"}, headers=manager
    )
    assert comment.status_code in (200, 201), comment.text
    await _move(
        client, nurse, rid, action="triage", modality="video", clinician_grade="ohn", priority="routine"
    )
    await book_into_new_clinic(client, nurse, rid)
    await _move(client, nurse, rid, action="start", consent_to_assessment=True)
    await _move(client, nurse, rid, action="finish_consultation", release_choice="see_first")
    for path, body in (
        ("report/consent", report_consent(world.users["manager"].email)),
        ("report", content()),
    ):
        saved = await client.put(f"/api/v1/referrals/{rid}/{path}", json=body, headers=nurse)
        assert saved.status_code == 200, saved.text
    assert (
        await client.post(f"/api/v1/referrals/{rid}/report/send-for-review", headers=nurse)
    ).status_code == 200
    await _move(client, employee, rid, action="approve")
    released = await client.post(
        f"/api/v1/referrals/{rid}/report/release",
        json={"recipients": [world.users["manager"].email]},
        headers=nurse,
    )
    assert released.status_code == 200, released.text
    return rid


async def _records(client: httpx.AsyncClient, world: World, users: dict[str, dict[str, str]]) -> Records:
    records = Records()
    email = world.users["employee"].email
    records.ids.update({email, str(world.users["employee"].id)})
    records.add("referral_id", await _released_report(client, world, users))
    listed = await client.get(
        f"/api/v1/referrals/{records.params['referral_id']}/attachments", headers=users["manager"]
    )
    records.add("attachment_id", listed.json()[0]["id"])
    # A clinic appointment for another referral about the same employee.
    booked_referral = await triaged_referral(client, world, users["clinician"])
    records.ids.add(booked_referral["id"])
    session = await make_session(client, users["clinician"], start_in=timedelta(minutes=30))
    booked = await book(client, users["clinician"], booked_referral["id"], session["slots"][0]["id"])
    assert booked.status_code == 201, booked.text
    records.add("appointment_id", booked.json()["appointment"]["id"])
    records.params["session_id"] = session["id"]
    records.params["clinic_id"] = session["id"]
    # Pulse readings.
    records.ids.add((await consent(client, users["employee"]))["id"])
    stream_id, device = await start_stream(client, users["employee"], give_consent=False)
    for batch in simulated("ble-hr", stream_id, seconds=5):
        assert (await post(client, device, batch)).status_code in (200, 201, 202)
    records.add("stream_id", str(stream_id))
    # A signed surveillance check (certificate and results letter).
    programme = await make_programme(client, users["client_admin"])
    records.params["programme_id"] = programme["id"]
    enrolment = await enrol(
        client,
        users["client_admin"],
        programme["id"],
        email=email,
        full_name="Alex Example",
        department="Logistics",
    )
    records.ids.add(enrolment["id"])
    draft = await record(client, users["clinician"], enrolment["id"])
    records.add("result_id", (await sign(client, users["clinician"], draft["id"]))["id"])
    # Due for a check in a second programme: on the named recall list.
    due = await make_programme(client, users["client_admin"], kind="havs")
    records.ids.add(
        (await enrol(client, users["client_admin"], due["id"], email=email, full_name="Alex Example"))["id"]
    )
    return records


def _clinical_reads(spec: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(path, path parameter names) of every GET under a clinical tag, less the non-personal ones."""
    found = []
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if get is None or not CLINICAL_TAGS & set(get.get("tags", [])) or path in NOT_PERSONAL:
            continue
        required = [p["name"] for p in get.get("parameters", []) if p.get("required") and p["in"] != "path"]
        assert not required, f"{path}: required query parameters {required}; give them values here"
        found.append((path, re.findall(r"{(\w+)}", path)))
    return found


@dataclass
class Call:
    path: str
    role: str
    status: int
    about_them: bool
    started: datetime
    ended: datetime


async def _now(conn: asyncpg.Connection) -> datetime:
    value: datetime = await conn.fetchval("SELECT clock_timestamp()")
    return value


def _about(records: Records, names: list[str], values: dict[str, str], response: httpx.Response) -> bool:
    if any(values[n] in records.ids for n in names):
        return True
    if response.headers.get("content-type", "").startswith("application/json"):
        return any(i in response.text for i in records.ids)
    return False


async def test_every_clinical_read_by_every_role_is_in_the_employees_access_log(
    client: httpx.AsyncClient, conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    world = await make_world(conn)
    users = {role: await login(client, world.users[role]) for role in ROLES}
    records = await _records(client, world, users)
    operations = _clinical_reads((await client.get("/openapi.json")).json())
    calls: list[Call] = []
    for path, names in operations:
        missing = [n for n in names if n not in records.params]
        assert not missing, f"{path}: no value for {missing}; add the record to _records"
        url = path.format(**records.params)
        for role in ROLES:
            started = await _now(conn)
            response = await client.get(url, headers=users[role])
            ended = await _now(conn)
            assert response.status_code < 500, (path, role, response.text)
            if response.is_success:
                calls.append(
                    Call(
                        path,
                        role,
                        response.status_code,
                        _about(records, names, records.params, response),
                        started,
                        ended,
                    )
                )
    log = (await client.get("/api/v1/me/access-log?limit=500", headers=users["employee"])).json()
    missing_entries = []
    for call in (c for c in calls if c.about_them):
        user = world.users[call.role]
        if not any(
            call.started <= datetime.fromisoformat(e["at"]) <= call.ended
            and e["actor_role"] == user.role.value
            and e["actor_name"] == (user.full_name or "System")
            for e in log
        ):
            missing_entries.append((call.path, call.role))
    unread = sorted({p for p, _ in operations} - {c.path for c in calls})
    with capsys.disabled():
        _summary(operations, calls, missing_entries)
    assert not unread, f"no role could read these (fix the set-up): {unread}"
    assert not missing_entries, f"reads missing from the employee's access log: {missing_entries}"
    assert len(log) < 500, "the access log was cut short; raise the limit or page through it"


def _summary(
    operations: list[tuple[str, list[str]]], calls: list[Call], missing: list[tuple[str, str]]
) -> None:
    about = [c for c in calls if c.about_them]
    print(
        f"\naccess-log completeness: {len(operations)} clinical read operations, {len(ROLES)} roles, "
        f"{len(operations) * len(ROLES)} calls; {len(calls)} answered 2xx, {len(about)} about the employee; "
        f"missing entries: {len(missing)}"
    )
    for path in sorted({c.path for c in about}):
        print(f"  {path}: {', '.join(c.role for c in about if c.path == path)}")
