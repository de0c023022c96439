"""The demo's referrals: at each employer, referrals in every state of the journey, each walked
there by the people who would really act (manager, nurse, booking staff), through the real
services: drafts, waiting for triage, information requested, declined, waiting for booking (one
with slots offered to the demo employee), booked into this and next week's clinics, in
consultation, report drafting, with the employee for review, ready, released, closed, withheld
and withdrawn. Consultations that are over were held in last or this week's clinics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal
from uuid import UUID

import asyncpg

from backend.auth.schemas import Role, User
from backend.booking import offers as booking_offers
from backend.booking import queries as booking_queries
from backend.booking import service as booking_service
from backend.booking.calendar import UK
from backend.booking.schemas import BookingCreate, OfferCreate
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.demo_people import Employer, Person
from backend.demo_queries import free_slots, settle_appointment
from backend.referrals import service as referral_service
from backend.referrals.form import STANDARD_QUESTIONS
from backend.referrals.schemas import Acknowledgement, TransitionRequest
from backend.referrals.transitions import Status
from backend.reports import mreport_service
from backend.reports.mreport import Answer, ReportConsent, ReportContent

Modality = Literal["video", "phone", "face_to_face"]
Choice = Literal["release", "see_first", "withhold"]
S = Status
AFTER_BOOKING = (
    S.BOOKED, S.IN_CONSULTATION, S.REPORT_DRAFTING, S.EMPLOYEE_REVIEW, S.READY_FOR_RELEASE, S.RELEASED,
    S.CLOSED, S.CLOSED_NOT_RELEASED,
)  # fmt: skip
AFTER_CONSULTATION = AFTER_BOOKING[2:]


@dataclass(frozen=True)
class Walk:
    """One referral: about whom (a demo person's key, or a cohort worker's number), made by which
    manager, walked to which state; for booked ones, the appointment's kind and day (days from
    today; negative: the consultation is over) and the employee's release choice."""

    employee: str | int
    manager: str
    target: Status
    modality: Modality = "video"
    day: int = 0
    choice: Choice = "release"
    offer: bool = False


PLAN: tuple[Walk, ...] = (
    # The demo employee (Alex): slots offered to pick from, an appointment, a report to review, one released.
    Walk("emp1", "mgr_ops", S.AWAITING_BOOKING, "face_to_face", offer=True),
    Walk("emp1", "mgr_ops", S.BOOKED, "video", day=1),
    Walk("emp1", "mgr_ops", S.EMPLOYEE_REVIEW, "video", day=-3, choice="see_first"),
    Walk("emp1", "mgr_ops", S.RELEASED, "phone", day=-8),
    Walk("emp2", "mgr_ops", S.BOOKED, "phone", day=2),
    Walk("emp3", "mgr_office", S.INFO_REQUESTED),
    Walk(1, "mgr_ops", S.DRAFT),
    Walk(2, "mgr_office", S.DRAFT),
    Walk(3, "mgr_ops", S.AWAITING_TRIAGE),
    Walk(4, "mgr_office", S.AWAITING_TRIAGE),
    Walk(5, "mgr_ops", S.AWAITING_TRIAGE),
    Walk(6, "mgr_ops", S.DECLINED),
    Walk(7, "mgr_ops", S.AWAITING_BOOKING, "video"),
    Walk(8, "mgr_office", S.AWAITING_BOOKING, "phone"),
    Walk(9, "mgr_ops", S.BOOKED, "video", day=0),
    Walk(10, "mgr_ops", S.BOOKED, "face_to_face", day=3),
    Walk(11, "mgr_office", S.BOOKED, "phone", day=6),
    Walk(12, "mgr_ops", S.BOOKED, "video", day=8),
    Walk(13, "mgr_ops", S.IN_CONSULTATION, "video", day=0),
    Walk(14, "mgr_ops", S.REPORT_DRAFTING, "video", day=-1),
    Walk(15, "mgr_office", S.REPORT_DRAFTING, "phone", day=-2, choice="see_first"),
    Walk(16, "mgr_ops", S.READY_FOR_RELEASE, "face_to_face", day=-4),
    Walk(17, "mgr_ops", S.RELEASED, "video", day=-5),
    Walk(18, "mgr_office", S.RELEASED, "face_to_face", day=-6),
    Walk(19, "mgr_ops", S.CLOSED, "phone", day=-9),
    Walk(20, "mgr_ops", S.CLOSED_NOT_RELEASED, "video", day=-7, choice="withhold"),
    Walk(21, "mgr_office", S.WITHDRAWN),
)
DEPARTMENT = {"mgr_ops": "Operations", "mgr_office": "Office"}
REGISTRATION = "NMC 99Z9999Z (fictional)"


def worker(employer: Employer, number: int, manager: str) -> Person:
    """A cohort worker as the subject of a referral (the cohort uses the same names and e-mails);
    ``number`` counts from the employer's first worker."""
    number += employer.first_worker - 1
    return Person(
        f"w{number:03d}",
        Role.employee,
        f"demo.worker{number:03d}@{employer.domain}",
        f"Demo Worker {number:03d} (fictional)",
        DEPARTMENT[manager],
    )


def _birth_date(today: date) -> date:
    return today - timedelta(days=365 * 38)


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
            "job_title": "Warehouse operative" if employee.department == "Operations" else "Administrator",
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


def report_content(assessed: date) -> ReportContent:
    """A complete, fictional management report answering the demo form's three standard questions."""
    answers = [
        "Fit for most duties; not yet for lifting over 10 kg (demo).",
        "A phased return over four weeks, starting at half hours, is likely to work (demo).",
        "Temporary: no single lifts over 10 kg and a stool at the packing bench for six weeks (demo).",
    ]
    return ReportContent(
        assessment_date=assessed,
        clinician_registration=REGISTRATION,
        background="Demo: warehouse operative for five years; off work for six weeks with back pain.",
        functional_capability="Demo: can stand and walk for an hour; lifting limited to 10 kg for now.",
        fitness_opinion="fit_with_adjustments",
        fitness_detail="Demo: fit for a phased return without heavy lifting.",
        answers=[
            Answer(question=STANDARD_QUESTIONS[n], answer=a) for n, a in zip((1, 2, 3), answers, strict=True)
        ],
        adjustments="Demo: no single lifts over 10 kg for six weeks; phased hours.",
        return_to_work="Demo: four-week phased return, starting at 50% hours.",
        prognosis="Demo: likely to be back to full duties within eight weeks.",
        review="Demo: review in six weeks if not back to full duties.",
    )


def _consent(recipients: list[str]) -> ReportConsent:
    return ReportConsent(
        recipients=recipients,
        method="verbal_recorded",
        information_given="Demo: explained what the report covers, who receives it, and offered it first.",
    )


@dataclass(frozen=True)
class Cast:
    """Who acts in a walk."""

    admin: User
    clinicians: dict[UUID, User]  # by id: the clinician running the clinic sees the employee
    manager: User
    manager_person: Person
    hr_email: str
    employee: User | None  # the employee's own account, for the demo employees

    @property
    def recipients(self) -> list[str]:
        """Whom the employee agrees the report goes to: their manager and HR."""
        return [self.manager_person.email, self.hr_email]


def _steps_before_booking(walk: Walk) -> list[TransitionRequest]:
    if walk.target == S.INFO_REQUESTED:
        message = "Please send the latest fit note and absence record (demo)."
        return [TransitionRequest(action="request_info", message=message)]
    if walk.target == S.DECLINED:
        reason = "Demo: this is an HR matter rather than an occupational health one."
        return [TransitionRequest(action="decline", reason=reason)]
    if walk.target == S.AWAITING_TRIAGE:
        return []
    priority = "soon" if walk.day and walk.day < 3 else "routine"
    return [
        TransitionRequest(action="triage", modality=walk.modality, clinician_grade="ohn", priority=priority)
    ]


async def _slot(conn: asyncpg.Connection, provider: UUID, walk: Walk) -> UUID:
    """A free slot of the walk's kind near its day: for a consultation that is over (or under way)
    the last one before that day, else the earliest of the past fortnight; for a booking the first
    one from that day, else the first one still to come. Which weekday today is decides which of
    these the diary has."""
    now = utc_now()
    kind = walk.modality
    if walk.target in AFTER_CONSULTATION or walk.target == S.IN_CONSULTATION:
        until = min(now + timedelta(days=walk.day + 1), now)
        found = await free_slots(conn, provider, kind, start=until - timedelta(days=14), end=until)
        if found:
            return found[-1]
        found = await free_slots(conn, provider, kind, start=now - timedelta(days=14), end=now)
        if found:
            return found[0]
    soon = now + timedelta(hours=1)
    for start in (max(now + timedelta(days=walk.day), soon), soon):
        found = await free_slots(conn, provider, kind, start=start, end=start + timedelta(days=14))
        if found:
            return found[0]
    raise RuntimeError(f"the demo diary has no free {kind} slot for a referral")


async def _book(
    conn: asyncpg.Connection, cast: Cast, referral_id: UUID, walk: Walk, settings: Settings
) -> User:
    """Book the referral (into a past slot directly, as if it had been booked then); returns the
    clinician whose clinic it is."""
    slot_id = await _slot(conn, cast.admin.organisation_id, walk)
    slot = await booking_queries.lock_slot(conn, slot_id)
    session = await booking_queries.get_session(conn, slot.session_id, lock=True) if slot else None
    if slot is None or session is None:
        raise RuntimeError("a demo slot vanished")
    if slot.starts_at > utc_now():
        await booking_service.book(
            conn, cast.admin, BookingCreate(referral_id=referral_id, slot_id=slot_id), settings
        )
    else:
        referral = await referral_service.get(conn, cast.admin, referral_id)
        await booking_service.place_referral(
            conn, cast.admin, referral, slot=slot, session=session, settings=settings
        )
    return cast.clinicians[session.clinician_id]


async def _consult(
    conn: asyncpg.Connection, cast: Cast, referral_id: UUID, walk: Walk, clinician: User
) -> None:
    """The consultation: consent to assessment, then (when it is over) consent to the report and the
    report written."""
    start = TransitionRequest(action="start", consent_to_assessment=True)
    await referral_service.transition(conn, clinician, referral_id, start)
    if walk.target == S.IN_CONSULTATION:
        await settle_appointment(conn, referral_id, "in_progress")
        return
    await settle_appointment(conn, referral_id, "completed")
    await mreport_service.record_consent(conn, clinician, referral_id, _consent(cast.recipients))
    finish = TransitionRequest(action="finish_consultation", release_choice=walk.choice)
    await referral_service.transition(conn, clinician, referral_id, finish)
    assessed = (utc_now() + timedelta(days=walk.day)).astimezone(UK).date()
    await mreport_service.save_draft(conn, clinician, referral_id, report_content(assessed))


async def _report(
    conn: asyncpg.Connection, cast: Cast, referral_id: UUID, walk: Walk, clinician: User, settings: Settings
) -> None:
    """The report's way out: to the employee first, ready, released (and closed), or withheld."""
    if walk.target == S.EMPLOYEE_REVIEW:
        await mreport_service.send_for_review(conn, clinician, referral_id, settings)
    elif walk.target == S.CLOSED_NOT_RELEASED:
        await referral_service.transition(conn, clinician, referral_id, TransitionRequest(action="withhold"))
    elif walk.target in (S.READY_FOR_RELEASE, S.RELEASED, S.CLOSED):
        await mreport_service.mark_ready(conn, clinician, referral_id)
        if walk.target != S.READY_FOR_RELEASE:
            await mreport_service.release(conn, clinician, referral_id, cast.recipients, settings)
        if walk.target == S.CLOSED:
            await referral_service.transition(conn, clinician, referral_id, TransitionRequest(action="close"))


async def walk_one(
    conn: asyncpg.Connection, cast: Cast, form: dict[str, Any], walk: Walk, settings: Settings
) -> UUID:
    """Create the referral and walk it to its state; returns its id."""
    referral = await referral_service.create(conn, cast.manager, form)
    if walk.target == S.DRAFT:
        return referral.id
    await referral_service.submit(conn, cast.manager, referral.id, settings)
    if walk.target == S.WITHDRAWN:
        await referral_service.transition(
            conn, cast.manager, referral.id, TransitionRequest(action="withdraw")
        )
        return referral.id
    if cast.employee is not None and walk.target in AFTER_BOOKING:  # the employee answered their link
        ack = Acknowledgement(discussed=True, comment="Yes, we talked about it last week (demo).")
        await referral_service.acknowledge(conn, cast.employee, referral.id, ack)
    nurse = next(iter(cast.clinicians.values()))
    for step in _steps_before_booking(walk):
        await referral_service.transition(conn, nurse, referral.id, step)
    if walk.offer:
        await _offer(conn, cast, referral.id, walk, settings)
    if walk.target not in AFTER_BOOKING:
        return referral.id
    clinician = await _book(conn, cast, referral.id, walk, settings)
    if walk.target != S.BOOKED:
        await _consult(conn, cast, referral.id, walk, clinician)
        await _report(conn, cast, referral.id, walk, clinician, settings)
    return referral.id


async def _offer(
    conn: asyncpg.Connection, cast: Cast, referral_id: UUID, walk: Walk, settings: Settings
) -> None:
    """Offer the employee a handful of this and next week's free slots of the triaged kind."""
    now = utc_now()
    found = await free_slots(
        conn,
        cast.admin.organisation_id,
        walk.modality,
        start=now + timedelta(hours=2),
        end=now + timedelta(days=14),
    )
    chosen = found[1::3][:6] or found[:6]
    await booking_offers.make_offer(
        conn, cast.admin, OfferCreate(referral_id=referral_id, slot_ids=chosen), settings
    )


async def seed(
    conn: asyncpg.Connection,
    employer: Employer,
    users: dict[str, User],
    clinicians: list[User],
    settings: Settings,
) -> list[UUID]:
    """Every referral of the plan for this employer (call once, when the employer is first seeded)."""
    people = {p.key: p for p in employer.people}
    today = utc_now().astimezone(UK).date()
    by_id = {c.id: c for c in clinicians}
    made = []
    for walk in PLAN:
        manager = people[walk.manager]
        employee = (
            people[walk.employee]
            if isinstance(walk.employee, str)
            else worker(employer, walk.employee, walk.manager)
        )
        form = referral_form(employer, employee, manager, today=today)
        account = users.get(walk.employee) if isinstance(walk.employee, str) else None
        cast = Cast(users["admin"], by_id, users[walk.manager], manager, users["hr"].email, account)
        made.append(await walk_one(conn, cast, form, walk, settings))
    return made
