"""A year of the demo employers' past referrals, so that the employer dashboard's referral
figures (submitted, released, days to triage, days from consultation to report) span the four
reporting quarters: each referral went from submission through triage, booking, consultation and
a released report to closure (a few were declined or withdrawn; the latest are released and not
yet closed). They are seed data written in bulk with their state history and released reports,
not walked through the services as the current referrals are: the services only act now, and
these happened over the past year. Deterministic (a fixed
random seed, dates relative to today) and idempotent (nothing is written when any exists).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from backend.auth.schemas import User
from backend.core.clock import utc_now
from backend.demo_people import Employer
from backend.demo_queries import copy_history, history_exists
from backend.demo_referrals import referral_form, report_content, worker
from backend.reports.aggregate import period
from backend.reports.mreport import ReportConsent

PER_QUARTER = 12
FIRST_NUMBER = 101  # cohort workers 101 onwards (the current referrals are about workers 1-21)
Step = tuple[str, str | None, str, str, int]  # action, from, to, who, days after the previous step
PATH: tuple[Step, ...] = (
    ("create", None, "DRAFT", "manager", 0),
    ("submit", "DRAFT", "SUBMITTED", "manager", 0),
    ("queue", "SUBMITTED", "AWAITING_TRIAGE", "system", 0),
    ("acknowledge", "AWAITING_TRIAGE", "AWAITING_TRIAGE", "employee", 0),
    ("triage", "AWAITING_TRIAGE", "AWAITING_BOOKING", "clinician", 2),
    ("book", "AWAITING_BOOKING", "BOOKED", "provider_admin", 1),
    ("start", "BOOKED", "IN_CONSULTATION", "clinician", 9),
    ("finish_consultation", "IN_CONSULTATION", "REPORT_DRAFTING", "clinician", 0),
    ("ready_for_release", "REPORT_DRAFTING", "READY_FOR_RELEASE", "clinician", 3),
    ("release", "READY_FOR_RELEASE", "RELEASED", "clinician", 0),
    ("close", "RELEASED", "CLOSED", "clinician", 28),
)
DECLINE: Step = ("decline", "AWAITING_TRIAGE", "DECLINED", "clinician", 2)
WITHDRAW: Step = ("withdraw", "AWAITING_TRIAGE", "WITHDRAWN", "manager", 1)


def _path(rng: random.Random) -> tuple[Step, ...]:
    roll = rng.random()
    if roll < 0.08:
        return (*PATH[:4], DECLINE)
    if roll < 0.12:
        return (*PATH[:3], WITHDRAW)
    return PATH


def _events(
    rng: random.Random,
    referral_id: UUID,
    submitted: datetime,
    actors: dict[str, User],
    path: tuple[Step, ...],
) -> list[tuple[Any, ...]]:
    """The referral's state history along its path, as far as it has got by now."""
    rows: list[tuple[Any, ...]] = []
    at, now = submitted, utc_now()
    for action, source, target, who, days in path:
        at += timedelta(days=days + (rng.randint(0, days) if days else 0), minutes=rng.randint(5, 90))
        if at >= now:  # not yet: a recent referral is still released, not closed
            break
        actor = actors.get(who)
        detail: dict[str, Any] = {"demo_history": True}
        if action == "triage":
            detail |= {"modality": "video", "clinician_grade": "ohn", "priority": "routine"}
        if action == "finish_consultation":
            detail["release_choice"] = "release"
        if action == "acknowledge":
            detail["discussed"] = True
        if action == "release":
            detail["recipients"] = [actors["manager"].email, actors["hr"].email]
        role = actor.role.value if actor else ("employee" if who == "employee" else "system")
        rows.append((referral_id, at, actor.id if actor else None, role, action, source, target, detail))
    return rows


def _report(referral_id: UUID, events: list[tuple[Any, ...]], actors: dict[str, User]) -> tuple[Any, ...]:
    """The released report: written by the clinician who saw the employee, to their manager."""
    at = {row[4]: row[1] for row in events}
    recipients = [actors["manager"].email, actors["hr"].email]
    content = report_content(at["start"].date()).model_dump(mode="json")
    consent = ReportConsent(
        recipients=recipients,
        method="verbal_recorded",
        information_given="Demo: explained what the report covers and who receives it.",
        release_choice="release",
    ).model_dump(mode="json")
    return (referral_id, actors["clinician"].id, content, consent, recipients, at["release"])


def _window(today: date) -> tuple[date, int]:
    """The first reporting quarter's start, and how many days from it a referral can have been
    submitted and still have had its report released by now."""
    first = period(today)[0]
    return first, max((today - first).days - 40, 1)


async def seed(
    conn: asyncpg.Connection, employer: Employer, users: dict[str, User], clinicians: list[User]
) -> int:
    """The employer's closed referrals of the past four quarters; returns how many were written."""
    hr = users["hr"]
    if await history_exists(conn, hr.organisation_id, worker(employer, FIRST_NUMBER, "mgr_ops").email):
        return 0
    rng = random.Random(f"history:{employer.domain}")  # noqa: S311 - demo data, not security
    first, days = _window(utc_now().date())
    people = {p.key: p for p in employer.people}
    referrals: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    reports: list[tuple[Any, ...]] = []
    for n in range(4 * PER_QUARTER):
        manager_key = "mgr_ops" if n % 3 else "mgr_office"
        subject = worker(employer, FIRST_NUMBER + n, manager_key)
        day = first + timedelta(days=rng.randint(0, days))
        submitted = datetime.combine(day, time(9), tzinfo=UTC) + timedelta(minutes=rng.randint(0, 480))
        form = referral_form(employer, subject, people[manager_key], today=day)
        referral_id = uuid4()
        actors = {
            "manager": users[manager_key],
            "clinician": clinicians[n % 2],
            "provider_admin": users["admin"],
            "hr": users["hr"],
        }
        rows = _events(rng, referral_id, submitted, actors, _path(rng))
        events += rows
        status, last = rows[-1][6], rows[-1][1]
        acknowledged = next((row[1] for row in rows if row[4] == "acknowledge"), None)
        seen = status in ("RELEASED", "CLOSED")
        decision = {"release_choice": "release"} if seen else {}
        if seen:
            reports.append(_report(referral_id, rows, actors))
        referrals.append(
            (referral_id, hr.organisation_id, hr.provider_id, users[manager_key].id, subject.email,
             subject.name, subject.department, status, form, "routine",
             "video" if seen else None, "ohn" if seen else None, decision, acknowledged,
             submitted, last, submitted)
        )  # fmt: skip
    await copy_history(conn, referrals, events, reports)
    return len(referrals)
