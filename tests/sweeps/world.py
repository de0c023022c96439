"""A world of two provider tenants with records of every kind, built through the real API.

Each record knows the ids it fills in path parameters, strings that only it carries (markers), and
its reach: who may legitimately learn that it exists. The reach is deliberately generous (when in
doubt a person is inside), so anything outside it must be refused exactly as for a record that does
not exist, and must never appear in an answer.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from backend.auth.schemas import Organisation, Role, User
from backend.readings.statement import STATEMENT
from tests.booking.helpers import book_into_new_clinic
from tests.factories import login, make_org, make_user, referral_form
from tests.reports import helpers as report_helpers
from tests.surveillance import helpers as sv

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# Roles in each employer: the key, the role, the department.
EMPLOYER_ROLES = (
    ("client_admin", Role.client_admin, None),
    ("manager", Role.manager, "Logistics"),
    ("manager_same_dept", Role.manager, "Logistics"),
    ("manager_other_dept", Role.manager, "Finance"),
    ("employee", Role.employee, None),
    ("other_employee", Role.employee, None),
)
_SEQ = itertools.count(11)


@dataclass
class Contact:
    """An employee's contact details as given on one referral form (OH only, never other managers)."""

    referral: str
    referrer: str  # user key
    values: tuple[str, ...]


@dataclass
class Record:
    name: str
    ids: dict[str, str]  # path parameter -> id
    reach: frozenset[str]  # user keys
    markers: tuple[str, ...] = ()


@dataclass
class SweepWorld:
    users: dict[str, User] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)

    def keys(self, prefix: str, *names: str) -> frozenset[str]:
        return frozenset(f"{prefix}.{n}" for n in names if f"{prefix}.{n}" in self.users)

    def add(self, name: str, reach: frozenset[str], *markers: str, **ids: str) -> None:
        self.records.append(Record(name, ids, reach, markers))


async def _ok(response: httpx.Response, *codes: int) -> Any:
    assert response.status_code in (codes or (200, 201)), f"{response.request.url}: {response.text}"
    return response.json() if response.content else None


async def _employer(
    w: SweepWorld, conn: asyncpg.Connection, prefix: str, provider: Organisation, roles: tuple[str, ...]
) -> Organisation:
    employer = await make_org(conn, "employer", provider, name=f"Employer {prefix}")
    for key, role, department in EMPLOYER_ROLES:
        if key in roles:
            w.users[f"{prefix}.{key}"] = await make_user(
                conn,
                employer,
                role,
                email=f"{prefix}.{key.replace('_', '.')}@employer.example",  # none inside another
                department=department,
                name=f"{key.title()} {prefix.upper()}",
            )
    return employer


async def _referral(
    client: httpx.AsyncClient,
    w: SweepWorld,
    *,
    referrer: str,
    employee_email: str,
    department: str,
    tag: str,
    submit: bool = True,
) -> str:
    n = next(_SEQ)
    contact = (f"07700 9{n:05d}", f"{n} Marker Street, Exampletown", f"1970-02-{n % 28 + 1:02d}")
    base = referral_form()
    form = referral_form(
        employee={
            **base["employee"],
            "full_name": f"Employee {tag}",
            "email": employee_email,
            "phone": contact[0],
            "correspondence_address": contact[1],
            "date_of_birth": contact[2],
            "department": department,
        },
        reason={**base["reason"], "concern": f"Concern-{tag} about lifting."},
    )
    headers = w.headers[referrer]
    created = await _ok(await client.post("/api/v1/referrals", json=form, headers=headers), 201)
    if submit:
        await _ok(await client.post(f"/api/v1/referrals/{created['id']}/submit", headers=headers))
    e164 = "+44" + contact[0].replace(" ", "")[1:]  # how the form stores the phone number
    w.contacts.append(Contact(created["id"], referrer, (*contact, e164, employee_email)))
    return str(created["id"])


async def _attach(client: httpx.AsyncClient, headers: dict[str, str], referral_id: str, tag: str) -> str:
    uploaded = await client.post(
        f"/api/v1/referrals/{referral_id}/attachments",
        headers=headers,
        files={"file": (f"File-{tag}.pdf", PDF, "application/pdf")},
        data={"kind": "absence_record"},
    )
    return str((await _ok(uploaded, 201))["id"])


async def _move(client: httpx.AsyncClient, headers: dict[str, str], referral_id: str, **body: Any) -> Any:
    return await _ok(
        await client.post(f"/api/v1/referrals/{referral_id}/transitions", json=body, headers=headers)
    )


TRIAGE = {"action": "triage", "modality": "video", "clinician_grade": "ohn", "priority": "routine"}


async def _released(client: httpx.AsyncClient, w: SweepWorld, p: str, tag: str) -> tuple[str, str]:
    """A referral whose report was released to its referrer; returns it and the report's document id."""
    nurse, manager = w.headers[f"{p}.clinician"], w.headers[f"{p}.manager"]
    rid = await _referral(
        client, w, referrer=f"{p}.manager", employee_email=w.users[f"{p}.employee"].email,
        department="Logistics", tag=f"{tag}-released",
    )  # fmt: skip
    await _move(client, nurse, rid, **TRIAGE)
    await book_into_new_clinic(client, nurse, rid)
    await _move(client, nurse, rid, action="start", consent_to_assessment=True)
    await _move(client, nurse, rid, action="finish_consultation", release_choice="release")
    consent = report_helpers.consent(w.users[f"{p}.manager"].email)
    await _ok(await client.put(f"/api/v1/referrals/{rid}/report/consent", headers=nurse, json=consent))
    content = report_helpers.content(fitness_detail=f"Report-{tag}: fit for a phased return.")
    await _ok(await client.put(f"/api/v1/referrals/{rid}/report", headers=nurse, json=content))
    await _ok(await client.post(f"/api/v1/referrals/{rid}/report/ready", headers=nurse))
    release = {"recipients": [w.users[f"{p}.manager"].email]}
    await _ok(await client.post(f"/api/v1/referrals/{rid}/report/release", headers=nurse, json=release))
    pdf = await client.get(f"/api/v1/referrals/{rid}/report.pdf", headers=manager)
    assert pdf.status_code == 200, pdf.text
    return rid, pdf.headers["X-Document-Id"]


async def _referrals(client: httpx.AsyncClient, w: SweepWorld, p: str, oh: frozenset[str]) -> None:
    u = w.users
    logistics = oh | w.keys(p, "client_admin", "manager", "manager_same_dept")
    draft = await _referral(
        client, w, referrer=f"{p}.manager", employee_email=u[f"{p}.employee"].email,
        department="Logistics", tag=f"{p}-draft", submit=False,
    )  # fmt: skip
    draft_file = await _attach(client, w.headers[f"{p}.manager"], draft, f"{p}-draft")
    w.add("draft referral", w.keys(p, "manager"), f"Concern-{p}-draft", f"File-{p}-draft", referral_id=draft)
    w.add("draft attachment", w.keys(p, "manager"), referral_id=draft, attachment_id=draft_file)

    submitted = await _referral(
        client, w, referrer=f"{p}.manager", employee_email=u[f"{p}.employee"].email,
        department="Logistics", tag=f"{p}-submitted", submit=False,
    )  # fmt: skip
    file_id = await _attach(client, w.headers[f"{p}.manager"], submitted, f"{p}-submitted")
    await _ok(await client.post(f"/api/v1/referrals/{submitted}/submit", headers=w.headers[f"{p}.manager"]))
    comment = {"body": f"Comment-{p}: when did the absence start?"}
    await _ok(
        await client.post(
            f"/api/v1/referrals/{submitted}/comments", json=comment, headers=w.headers[f"{p}.clinician"]
        ),
        201,
    )
    reach = logistics | w.keys(p, "employee")
    w.add("submitted referral", reach, f"Concern-{p}-submitted", f"File-{p}-submitted", referral_id=submitted)
    w.add("submitted attachment", reach, referral_id=submitted, attachment_id=file_id)
    w.add("comment", logistics, f"Comment-{p}")

    finance = await _referral(
        client, w, referrer=f"{p}.manager_other_dept", employee_email=f"finance.{p}@employer.example",
        department="Finance", tag=f"{p}-finance",
    )  # fmt: skip
    w.add("other-department referral", oh | w.keys(p, "client_admin", "manager_other_dept"),
          f"Concern-{p}-finance", referral_id=finance)  # fmt: skip

    released, document = await _released(client, w, p, p)
    w.add("released referral", reach, f"Concern-{p}-released", referral_id=released)
    w.add("released report", oh | w.keys(p, "manager", "employee"), f"Report-{p}")
    everyone = oh | frozenset(k for k in u if k.startswith(f"{p}."))
    w.add("report document", everyone, document_id=document)


async def _clinic(client: httpx.AsyncClient, w: SweepWorld, p: str, oh: frozenset[str]) -> None:
    nurse = w.headers[f"{p}.clinician"]
    rid = await _referral(
        client, w, referrer=f"{p}.manager_same_dept", employee_email=w.users[f"{p}.other_employee"].email,
        department="Logistics", tag=f"{p}-booked",
    )  # fmt: skip
    await _move(client, nurse, rid, **TRIAGE)
    starts = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    body = {
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "slot_minutes": 30,
        "kind": "video",
        "location": f"Room-{p}",
    }
    session = await _ok(await client.post("/api/v1/booking/clinics", json=body, headers=nurse), 201)
    booking = {"referral_id": rid, "slot_id": session["slots"][0]["id"]}
    booked = await _ok(await client.post("/api/v1/booking/appointments", json=booking, headers=nurse), 201)
    reach = oh | w.keys(p, "client_admin", "manager", "manager_same_dept", "other_employee")
    w.add("booked referral", reach, f"Concern-{p}-booked", referral_id=rid)
    # Its place is shown to the employee booked into it (and offered its other times) as well as OH.
    w.add("clinic session", oh | w.keys(p, "other_employee"), f"Room-{p}", session_id=session["id"],
          clinic_id=session["id"])  # fmt: skip
    # The clinic's other times, offered to the employee of a second referral awaiting booking.
    waiting = await _referral(
        client, w, referrer=f"{p}.manager_same_dept", employee_email=w.users[f"{p}.other_employee"].email,
        department="Logistics", tag=f"{p}-offered",
    )  # fmt: skip
    await _move(client, nurse, waiting, **TRIAGE)
    offer = {"referral_id": waiting, "session_id": session["id"]}
    offered = await _ok(await client.post("/api/v1/booking/offers", json=offer, headers=nurse), 201)
    w.add("booking offer", w.keys(p, "other_employee"), offer_id=offered["id"])
    w.add("appointment", reach, appointment_id=booked["appointment"]["id"])


async def _surveillance(client: httpx.AsyncClient, w: SweepWorld, p: str, oh: frozenset[str]) -> None:
    admin, nurse = w.headers[f"{p}.client_admin"], w.headers[f"{p}.clinician"]
    employer = frozenset(k for k in w.users if k.startswith(f"{p}."))
    programme = await sv.make_programme(client, admin, name=f"Programme-{p}")
    w.add("programme", oh | employer, f"Programme-{p}", programme_id=programme["id"])
    mine = await sv.enrol(
        client, admin, programme["id"], email=w.users[f"{p}.employee"].email, department="Logistics",
        date_of_birth="1960-06-30",
    )  # fmt: skip
    theirs = await sv.enrol(
        client, admin, programme["id"], email=w.users[f"{p}.other_employee"].email, department="Finance",
        date_of_birth="1960-06-30",
    )  # fmt: skip
    logistics = oh | w.keys(p, "client_admin", "manager", "manager_same_dept", "employee")
    finance = oh | w.keys(p, "client_admin", "manager_other_dept", "other_employee")
    w.add("enrolment", logistics, enrolment_id=mine["id"])
    w.add("other-department enrolment", finance, enrolment_id=theirs["id"])
    signed = await sv.sign(
        client, nurse, (await sv.record(client, nurse, mine["id"]))["id"], employer_actions=[f"Action-{p}"]
    )
    w.add("signed result", logistics, f"Action-{p}", result_id=signed["id"])
    draft = await sv.record(client, nurse, theirs["id"])
    w.add("draft result", oh | w.keys(p, "other_employee"), result_id=draft["id"])
    certificate = await client.get(
        f"/api/v1/surveillance/results/{signed['id']}/certificate.pdf", headers=nurse
    )
    assert certificate.status_code == 200, certificate.text
    w.add("certificate document", oh | employer, document_id=certificate.headers["X-Document-Id"])


async def _readings(client: httpx.AsyncClient, w: SweepWorld, p: str, oh: frozenset[str]) -> None:
    employee = w.headers[f"{p}.employee"]
    consent = {"statement_version": STATEMENT.version, "agree": True}
    await _ok(await client.post("/api/v1/readings/consent", json=consent, headers=employee))
    device = {"device": {"kind": "ble-hr", "model": f"Model-{p}"}}
    created = await _ok(await client.post("/api/v1/readings/streams", json=device, headers=employee), 201)
    w.add("readings stream", oh | w.keys(p, "employee"), f"Model-{p}", stream_id=created["stream"]["id"])


async def build(client: httpx.AsyncClient, conn: asyncpg.Connection) -> SweepWorld:
    """Tenants `a` (two employers: a, a2) and `b`, each provider with its admin and clinician."""
    w = SweepWorld()
    for tenant, employers in (("a", ("a", "a2")), ("b", ("b",))):
        provider = await make_org(conn, "provider", name=f"Provider {tenant}")
        for key, role in (("provider_admin", Role.provider_admin), ("clinician", Role.clinician)):
            w.users[f"{tenant}.{key}"] = await make_user(
                conn, provider, role, email=f"{key}.{tenant}@oh.example"
            )
        oh = w.keys(tenant, "provider_admin", "clinician")
        for p in employers:
            full = p == tenant
            roles = (
                tuple(k for k, _r, _d in EMPLOYER_ROLES) if full else ("client_admin", "manager", "employee")
            )
            employer = await _employer(w, conn, p, provider, roles)
            w.add("organisation", oh | frozenset(k for k in w.users if k.startswith(f"{p}.")),
                  organisation_id=str(employer.id))  # fmt: skip
        for key, user in w.users.items():
            if key not in w.headers:
                w.headers[key] = await login(client, user)
        await _referrals(client, w, tenant, oh)
        # An account (administered by its provider's and its employer's admins) and a queued message
        # (its provider's admins see and resend failed ones).
        w.add("user account", w.keys(tenant, "provider_admin", "client_admin"),
              user_id=str(w.users[f"{tenant}.employee"].id))  # fmt: skip
        message = await conn.fetchval(
            "SELECT id FROM outbox_message WHERE provider_id = $1 ORDER BY created_at LIMIT 1", provider.id
        )
        assert message is not None, "the referrals sent no message for this provider"
        w.add("outbox message", w.keys(tenant, "provider_admin"), message_id=str(message))
        await _clinic(client, w, tenant, oh)
        await _surveillance(client, w, tenant, oh)
        await _readings(client, w, tenant, oh)
        second = await _referral(
            client, w, referrer="a2.manager", employee_email=w.users["a2.employee"].email,
            department="Logistics", tag="a2-submitted",
        ) if tenant == "a" else None  # fmt: skip
        if second:
            w.add("other employer's referral", oh | w.keys("a2", "client_admin", "manager", "employee"),
                  "Concern-a2-submitted", referral_id=second)  # fmt: skip
    client.cookies.clear()  # sign-in set cookies; every call carries its own credentials
    return w
