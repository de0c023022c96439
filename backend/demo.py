"""Idempotent, obviously fictional demo data, created through the real services.

``seed`` makes one occupational-health provider, two employers, staff of every role,
referrals in several states (walked through the referral state machine by the people who
would really act) and, for the first employer, two health surveillance programmes with
enrolments, checks recorded and signed by the nurse, and people overdue and due for recall.
Everything happens in one transaction, so a seed is either complete or absent; organisations
are recognised by name, users by e-mail and surveillance programmes by name, so running it
again changes nothing. All people and organisations are invented; e-mails use ``.example``
domains.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from backend import demo_cohort
from backend.auth import service as auth_service
from backend.auth.schemas import Organisation, OrgKind, Role, User
from backend.booking import diary as booking_diary
from backend.booking import offers as booking_offers
from backend.booking import service as booking_service
from backend.booking.calendar import UK
from backend.booking.schemas import BookingCreate, OfferCreate, SessionCreate, SessionRead
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.referrals import service as referral_service
from backend.referrals.schemas import TransitionRequest
from backend.referrals.transitions import Status
from backend.reports.aggregate import period as aggregate_period
from backend.surveillance import queries as surveillance_queries
from backend.surveillance import results as surveillance_results
from backend.surveillance import service as surveillance_service
from backend.surveillance.recall import next_due
from backend.surveillance.result_schemas import OutcomeSign, Restriction, ResultCreate
from backend.surveillance.schemas import EnrolmentCreate, PersonIn, Programme, ProgrammeCreate, Sex

DEMO_PASSWORD = "demo-password-1"
PROVIDER_NAME = "Demo Occupational Health (fictional)"
PROVIDER_DOMAIN = "demo-oh.example"


@dataclass(frozen=True)
class Person:
    key: str
    role: Role
    email: str
    name: str
    department: str | None = None


@dataclass(frozen=True)
class Employer:
    name: str
    domain: str
    site: str
    people: tuple[Person, ...]


@dataclass(frozen=True)
class SignIn:
    email: str
    password: str
    role: str
    organisation: str


@dataclass(frozen=True)
class SeedResult:
    sign_ins: list[SignIn]
    created_organisations: int
    created_users: int
    created_referrals: int
    created_programmes: int
    created_enrolments: int
    created_results: int
    cohort: demo_cohort.Created


PROVIDER_STAFF = (
    Person("admin", Role.provider_admin, f"admin@{PROVIDER_DOMAIN}", "Pat Placeholder (demo OH admin)"),
    Person("nurse", Role.clinician, f"nurse@{PROVIDER_DOMAIN}", "Nia Notreal (demo OH nurse)"),
)


def _employer_people(domain: str, surname: str) -> tuple[Person, ...]:
    return (
        Person("hr", Role.client_admin, f"hr@{domain}", f"Harper {surname} (demo HR)"),
        Person(
            "mgr_ops", Role.manager, f"ops.manager@{domain}", f"Morgan {surname} (demo manager)", "Operations"
        ),
        Person(
            "mgr_office",
            Role.manager,
            f"office.manager@{domain}",
            f"Quinn {surname} (demo manager)",
            "Office",
        ),
        Person("emp1", Role.employee, f"alex.example@{domain}", "Alex Example", "Operations"),
        Person("emp2", Role.employee, f"robin.sample@{domain}", "Robin Sample", "Operations"),
        Person("emp3", Role.employee, f"jordan.placeholder@{domain}", "Jordan Placeholder", "Office"),
    )


EMPLOYERS = (
    Employer(
        "Fictional Freight Ltd (demo)",
        "fictional-freight.example",
        "Nowhere Depot",
        _employer_people("fictional-freight.example", "Freightly"),
    ),
    Employer(
        "Imaginary Bakery Co (demo)",
        "imaginary-bakery.example",
        "Make-Believe Bakehouse",
        _employer_people("imaginary-bakery.example", "Crumb"),
    ),
)

# (employee, referring manager, state to walk the referral to)
REFERRAL_PLAN: tuple[tuple[str, str, Status], ...] = (
    ("emp1", "mgr_ops", Status.DRAFT),
    ("emp2", "mgr_ops", Status.AWAITING_TRIAGE),
    ("emp3", "mgr_office", Status.INFO_REQUESTED),
    ("emp1", "mgr_ops", Status.AWAITING_BOOKING),
    ("emp2", "mgr_ops", Status.DECLINED),
    ("emp3", "mgr_office", Status.BOOKED),
)


# Health surveillance for the first employer only.
NOISE_PROGRAMME = "Demo noise: loading bay audiometry (fictional)"
FITNESS_PROGRAMME = "Demo confined-space fitness (fictional)"
SEX: dict[str, Sex] = {"emp1": "male", "emp2": "female", "emp3": "female"}
# A man of about 38 whose sums (105 and 110 dB) are under the warning level: HSE category 1.
DEMO_AUDIOGRAM = {
    "left": {"1000": 10, "2000": 15, "3000": 20, "4000": 30, "6000": 30},
    "right": {"1000": 10, "2000": 15, "3000": 25, "4000": 30, "6000": 30},
}
DEMO_REGISTRATION = "NMC 99Z9999Z (fictional)"
SURVEILLANCE_PROGRAMMES = 2
SURVEILLANCE_ENROLMENTS = 4
SURVEILLANCE_RESULTS = 2


def _first_quarter() -> date:
    """The start of the oldest quarter the employer report shows (the current one and three before)."""
    return aggregate_period(utc_now().date())[0]


def surveillance_summary() -> str:
    """One line on the demo's health surveillance data, for the demo's printed summary."""
    return (
        f"Health surveillance at {EMPLOYERS[0].name}: programmes {NOISE_PROGRAMME!r} and "
        f"{FITNESS_PROGRAMME!r}; {SURVEILLANCE_ENROLMENTS} enrolments; {SURVEILLANCE_RESULTS} signed "
        "results (audiometry category 1: fit; confined space: fit with restrictions); "
        "one baseline overdue and one due soon on the recall list. "
        f"A fictional cohort of {demo_cohort.WORKERS} workers in {len(demo_cohort.PROGRAMMES)} more "
        "programmes, checked over the last four quarters, fills the employer dashboard."
    )


async def _organisation(
    conn: asyncpg.Connection, name: str, kind: OrgKind, provider: Organisation | None
) -> tuple[Organisation, bool]:
    found = await auth_service.find_organisation(conn, name)
    if found is not None:
        if found.kind != kind:
            raise ValueError(f"Organisation {name!r} exists but is not a {kind}; refusing to seed demo data.")
        return found, False
    created = await auth_service.create_organisation(
        conn, name=name, kind=kind, provider_id=provider.id if provider else None
    )
    return created, True


async def _user(conn: asyncpg.Connection, org: Organisation, person: Person) -> tuple[User, bool]:
    found = await auth_service.get_user_by_email(conn, person.email)
    if found is not None:
        if found.organisation_id != org.id or found.role != person.role:
            raise ValueError(f"User {person.email} exists with another role or organisation; not seeding.")
        return found, False
    created = await auth_service.create_user(
        conn,
        organisation_id=org.id,
        role=person.role,
        email=person.email,
        password=DEMO_PASSWORD,
        full_name=person.name,
        department=person.department,
    )
    return created, True


def _birth_date(today: date) -> date:
    return today - timedelta(days=365 * 38)


def _job_title(employee: Person) -> str:
    return "Warehouse operative" if employee.department == "Operations" else "Administrator"


def referral_form(employer: Employer, employee: Person, manager: Person, *, today: date) -> dict[str, Any]:
    """A complete referral form about a fictional employee, dated relative to today."""
    absent_since = (today - timedelta(days=40)).isoformat()
    return {
        "referral_type": "management",
        "site": employer.site,
        "urgency_requested": "routine",
        "employee": {
            "full_name": employee.name,
            "date_of_birth": _birth_date(today).isoformat(),
            "employee_number": f"DEMO-{employee.key.upper()}",
            "phone": "07700 900123",
            "email": employee.email,
            "correspondence_address": f"1 Imaginary Lane, Nowhere Town, {employer.site}",
            "job_title": _job_title(employee),
            "department": employee.department,
            "work_location": employer.site,
            "employment_start_date": (today - timedelta(days=365 * 5)).isoformat(),
            "contracted_hours": 37.5,
            "working_pattern": "full_time",
            "shift_patterns": ["days"],
        },
        "role": {"main_duties": "Fictional duties for demonstration only.", "hazards": ["manual_handling"]},
        "referrer": {
            "name": manager.name,
            "job_title": "Line manager",
            "phone": "07700 900456",
            "email": manager.email,
        },
        "reason": {
            "categories": ["long_term_absence"],
            "concern": "Demo only: absent for several weeks with back pain and keen to return.",
            "advice_sought": "Advice on a phased return and on adjustments to lifting duties.",
        },
        "absence": {
            "currently_absent": True,
            "absence_start_date": absent_since,
            "record": [{"start_date": absent_since, "reason": "Back pain (demo)"}],
        },
        "questions": {"standard": [1, 2, 3], "additional": []},
        "attestation": {
            "discussed_with_employee": True,
            "discussed_on": (today - timedelta(days=2)).isoformat(),
            "copy_given_to_employee": True,
        },
    }


def _steps(target: Status) -> list[TransitionRequest]:
    """The clinician/admin actions that take a submitted referral to the target state."""
    return {
        Status.AWAITING_TRIAGE: [],
        Status.INFO_REQUESTED: [
            TransitionRequest(
                action="request_info", message="Please send the latest fit note and absence record (demo)."
            )
        ],
        Status.AWAITING_BOOKING: [
            TransitionRequest(action="triage", modality="video", clinician_grade="ohn", priority="routine")
        ],
        Status.DECLINED: [
            TransitionRequest(
                action="decline", reason="Demo: this is an HR matter rather than an occupational health one."
            )
        ],
        Status.BOOKED: [
            TransitionRequest(action="triage", modality="phone", clinician_grade="ohn", priority="soon"),
        ],
    }[target]


async def _referrals(
    conn: asyncpg.Connection, employer: Employer, users: dict[str, User], settings: Settings
) -> int:
    people = {p.key: p for p in employer.people}
    today = utc_now().date()
    for employee_key, manager_key, target in REFERRAL_PLAN:
        manager = users[manager_key]
        form = referral_form(employer, people[employee_key], people[manager_key], today=today)
        referral = await referral_service.create(conn, manager, form)
        if target == Status.DRAFT:
            continue
        await referral_service.submit(conn, manager, referral.id, settings)
        for step in _steps(target):
            await referral_service.transition(conn, users["nurse"], referral.id, step)
        if target == Status.BOOKED:
            await _book_demo(conn, users, referral.id, settings)
    return len(REFERRAL_PLAN)


async def _demo_clinic(conn: asyncpg.Connection, users: dict[str, User]) -> SessionRead:
    """A telephone clinic of the demo nurse a week ahead, planned by booking staff (once)."""
    day = (utc_now() + timedelta(days=7)).astimezone(UK).date()
    starts = datetime(day.year, day.month, day.day, 10, tzinfo=UK)
    for found in await booking_diary.list_sessions(
        conn, users["admin"], day=day, clinician_id=users["nurse"].id
    ):
        if found.kind == "phone":
            return found
    body = SessionCreate(
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        slot_minutes=30,
        kind="phone",
        clinician_id=users["nurse"].id,
    )
    return await booking_diary.plan_clinic(conn, users["admin"], body)


async def _book_demo(
    conn: asyncpg.Connection, users: dict[str, User], referral_id: UUID, settings: Settings
) -> None:
    clinic = await _demo_clinic(conn, users)
    free = next(s for s in clinic.slots if s.appointment is None)
    body = BookingCreate(referral_id=referral_id, slot_id=free.id)
    await booking_service.book(conn, users["admin"], body, settings)


async def _offer_on_site(
    conn: asyncpg.Connection, users: dict[str, User], enrolment_id: UUID, settings: Settings
) -> None:
    """An on-site clinic at the employer a week and a day ahead; the overdue recall is offered its
    slots, for the employee to choose one."""
    day = (utc_now() + timedelta(days=8)).astimezone(UK).date()
    starts = datetime(day.year, day.month, day.day, 10, tzinfo=UK)
    body = SessionCreate(
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        slot_minutes=20,
        kind="on_site",
        location="Medical room by the loading bay, 1 Example Way (fictional)",
        employer_id=users["hr"].organisation_id,
        clinician_id=users["nurse"].id,
    )
    clinic = await booking_diary.plan_clinic(conn, users["admin"], body)
    offer = OfferCreate(enrolment_id=enrolment_id, session_id=clinic.id)
    await booking_offers.make_offer(conn, users["admin"], offer, settings)


async def _new_programme(conn: asyncpg.Connection, hr: User, body: ProgrammeCreate) -> Programme | None:
    """The programme, created by the employer's HR; None when one of that name already exists."""
    if await surveillance_queries.programme_name_taken(conn, hr.organisation_id, body.name):
        return None
    return await surveillance_service.create_programme(conn, hr, body)


async def _enrol(
    conn: asyncpg.Connection, hr: User, programme: Programme, employee: Person, *, start: date, exposure: str
) -> UUID:
    person = PersonIn(
        email=employee.email,
        full_name=employee.name,
        employee_number=f"DEMO-{employee.key.upper()}",
        date_of_birth=_birth_date(utc_now().date()),
        sex=SEX[employee.key],
        department=employee.department or "",
        job_title=_job_title(employee),
    )
    body = EnrolmentCreate(person=person, exposure=exposure, start_date=start)
    return (await surveillance_service.enrol(conn, hr, programme.id, body)).id


async def _noise(
    conn: asyncpg.Connection, people: dict[str, Person], users: dict[str, User], settings: Settings
) -> tuple[int, int, int]:
    """Audiometry: one baseline recorded and signed FIT (category 1), one baseline overdue."""
    today = utc_now().date()
    programme = await _new_programme(conn, users["hr"], ProgrammeCreate(name=NOISE_PROGRAMME, kind="noise"))
    if programme is None:
        return 0, 0, 0
    exposure = "Loading bay and conveyors, about 86 dB(A) LEP,d (demo)"
    checked = await _enrol(
        conn, users["hr"], programme, people["emp1"], start=today - timedelta(days=60), exposure=exposure
    )
    # Robin's baseline was due 45 days ago and has not happened: the recall list shows it overdue.
    overdue = await _enrol(
        conn, users["hr"], programme, people["emp2"], start=today - timedelta(days=45), exposure=exposure
    )
    await _offer_on_site(conn, users, overdue, settings)
    performed = today - timedelta(days=14)
    draft = await surveillance_results.record(
        conn,
        users["nurse"],
        ResultCreate(
            enrolment_id=checked,
            performed_on=performed,
            questionnaire={"symptoms": {"tinnitus": False, "ear_infection": False}},
            measurements={"audiogram": DEMO_AUDIOGRAM},
            clinical_notes="Demo: baseline audiogram, no concerns.",
        ),
    )
    await surveillance_results.sign(
        conn,
        users["nurse"],
        draft.id,
        OutcomeSign(
            outcome="FIT",
            employer_actions=["Keep wearing hearing protection in the marked loading bay zone"],
            next_due_date=next_due(programme.recall, 0, performed),
            outcome_consent=True,
            assessor_registration=DEMO_REGISTRATION,
        ),
        settings,
    )
    return 1, 2, 1


async def _fitness(
    conn: asyncpg.Connection, people: dict[str, Person], users: dict[str, User], settings: Settings
) -> tuple[int, int, int]:
    """Confined space: one medical signed FIT_WITH_RESTRICTIONS (an override), one first medical due soon."""
    today = utc_now().date()
    body = ProgrammeCreate(name=FITNESS_PROGRAMME, kind="fitness_for_task", task_type="confined_space")
    programme = await _new_programme(conn, users["hr"], body)
    if programme is None:
        return 0, 0, 0
    checked = await _enrol(
        conn,
        users["hr"],
        programme,
        people["emp2"],
        start=today - timedelta(days=30),
        exposure="Entry to the fictional depot's fuel interceptor tank (demo)",
    )
    # Jordan's first medical falls due in a fortnight: the recall list shows it due.
    await _enrol(
        conn,
        users["hr"],
        programme,
        people["emp3"],
        start=today + timedelta(days=14),
        exposure="Occasional inspection of the drainage culvert (demo)",
    )
    performed = today - timedelta(days=7)
    draft = await surveillance_results.record(
        conn,
        users["nurse"],
        ResultCreate(
            enrolment_id=checked,
            performed_on=performed,
            questionnaire={"claustrophobia_or_panic": True},
            measurements={"pulse_bpm": 72, "spo2_pct": 98},
            clinical_notes="Demo: declared mild anxiety in enclosed spaces; discussed in clinic.",
        ),
    )
    await surveillance_results.sign(
        conn,
        users["nurse"],
        draft.id,
        OutcomeSign(
            outcome="FIT_WITH_RESTRICTIONS",
            restrictions=[
                Restriction(
                    text="No lone entry: always with a trained standby person at the entrance",
                    duration="temporary",
                )
            ],
            review_date=today + timedelta(days=90),
            employer_actions=["Provide a trained standby person and a written rescue plan for every entry"],
            next_due_date=next_due(programme.recall, 0, performed),
            override_reason="Demo: assessed in clinic; mild anxiety, well managed with a standby person.",
            outcome_consent=True,
            assessor_registration=DEMO_REGISTRATION,
        ),
        settings,
    )
    return 1, 2, 1


async def _surveillance(
    conn: asyncpg.Connection, employer: Employer, users: dict[str, User], settings: Settings
) -> tuple[int, int, int]:
    """Each missing demo programme with its enrolments and results; returns what it created."""
    people = {p.key: p for p in employer.people}
    noise = await _noise(conn, people, users, settings)
    fitness = await _fitness(conn, people, users, settings)
    return noise[0] + fitness[0], noise[1] + fitness[1], noise[2] + fitness[2]


async def seed(conn: asyncpg.Connection, settings: Settings) -> SeedResult:
    """Create whatever demo data is missing; returns the sign-ins and what this run created."""
    sign_ins: list[SignIn] = []
    orgs_created = users_created = referrals_created = 0
    surveillance_created = (0, 0, 0)
    cohort = demo_cohort.Created(0, 0, 0, 0)
    async with conn.transaction():
        provider, created = await _organisation(conn, PROVIDER_NAME, "provider", None)
        orgs_created += created
        staff: dict[str, User] = {}
        for person in PROVIDER_STAFF:
            staff[person.key], created = await _user(conn, provider, person)
            users_created += created
            sign_ins.append(SignIn(person.email, DEMO_PASSWORD, person.role.value, provider.name))
        for employer in EMPLOYERS:
            org, org_created = await _organisation(conn, employer.name, "employer", provider)
            orgs_created += org_created
            users = dict(staff)
            for person in employer.people:
                users[person.key], created = await _user(conn, org, person)
                users_created += created
                sign_ins.append(SignIn(person.email, DEMO_PASSWORD, person.role.value, org.name))
            # Referrals belong to the organisation's first seeding, which the transaction makes atomic.
            if org_created:
                referrals_created += await _referrals(conn, employer, users, settings)
            if employer is EMPLOYERS[0]:
                surveillance_created = await _surveillance(conn, employer, users, settings)
                cohort = await demo_cohort.seed(
                    conn,
                    hr=users["hr"],
                    nurse=users["nurse"],
                    domain=employer.domain,
                    first_quarter=_first_quarter(),
                )
    return SeedResult(sign_ins, orgs_created, users_created, referrals_created, *surveillance_created, cohort)


def sign_in_table(sign_ins: list[SignIn]) -> str:
    """The sign-ins as a plain-text table, then a line on the demo's health surveillance data."""
    rows = [("e-mail", "password", "role", "organisation")]
    rows += [(s.email, s.password, s.role, s.organisation) for s in sign_ins]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join([*lines, "", surveillance_summary()])
