"""The demo's named health surveillance at the first employer: a noise programme (one baseline
audiogram recorded and signed fit, category 1; one baseline overdue and offered on-site slots) and a
confined-space fitness programme (one medical signed fit with restrictions; one first medical due
soon), each recorded and signed by the nurse through the surveillance services. Idempotent: a
programme that exists by name is left as it is.
"""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

import asyncpg

from backend.auth.schemas import User
from backend.booking import offers as booking_offers
from backend.booking.schemas import OfferCreate
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.demo_people import Employer, Person
from backend.demo_queries import free_slots
from backend.surveillance import queries as surveillance_queries
from backend.surveillance import results as surveillance_results
from backend.surveillance import service as surveillance_service
from backend.surveillance.recall import next_due
from backend.surveillance.result_schemas import OutcomeSign, Restriction, ResultCreate
from backend.surveillance.schemas import EnrolmentCreate, PersonIn, Programme, ProgrammeCreate, Sex

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


def _birth_date(today: date) -> date:
    return today - timedelta(days=365 * 38)


def _job_title(employee: Person) -> str:
    return "Warehouse operative" if employee.department == "Operations" else "Administrator"


async def _offer_on_site(
    conn: asyncpg.Connection, users: dict[str, User], enrolment_id: UUID, settings: Settings
) -> None:
    """The overdue recall is offered the free slots of the next on-site clinics at the employer's
    depot (in the demo diary), for the employee to choose one."""
    now = utc_now()
    slots = await free_slots(
        conn,
        users["admin"].organisation_id,
        "on_site",
        start=now + timedelta(hours=2),
        end=now + timedelta(days=14),
        employer_id=users["hr"].organisation_id,
    )
    offer = OfferCreate(enrolment_id=enrolment_id, slot_ids=slots[:12])
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


async def seed(
    conn: asyncpg.Connection, employer: Employer, users: dict[str, User], settings: Settings
) -> tuple[int, int, int]:
    """Each missing demo programme with its enrolments and results; returns what it created."""
    people = {p.key: p for p in employer.people}
    noise = await _noise(conn, people, users, settings)
    fitness = await _fitness(conn, people, users, settings)
    return noise[0] + fitness[0], noise[1] + fitness[1], noise[2] + fitness[2]
