"""A large, obviously fictional surveillance cohort for the demo, so the employer's dashboard
shows real figures: a few hundred workers at each employer, in three or four programmes each,
checked across the four reporting quarters, most current and some overdue, with the usual spread
of outcomes.

The programmes are created through the surveillance service (audited); the people, enrolments and
signed results are written in bulk (pipelined inserts) because the demo must start quickly: they are
seed data, not anyone's use of the system. Deterministic (a fixed random seed, dates relative to
today) and idempotent: nothing is written when the first cohort programme already exists.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from backend.auth.schemas import User
from backend.core.clock import utc_now
from backend.surveillance import queries as surveillance_queries
from backend.surveillance import service as surveillance_service
from backend.surveillance.recall import add_months
from backend.surveillance.rules import PROCEDURE
from backend.surveillance.schemas import ProgrammeCreate, ProgrammeKind

WORKERS = 320
REGISTRATION = "NMC 99Z9999Z (fictional)"
Plan = tuple[tuple[str, ProgrammeKind, float], ...]
# (name, kind, share of the workforce enrolled): the first employer's programmes
PROGRAMMES: Plan = (
    ("Demo cohort noise: press shop audiometry (fictional)", "noise", 0.55),
    ("Demo cohort night work: warehouse shifts (fictional)", "night", 0.45),
    ("Demo cohort respiratory: paint booth (fictional)", "respiratory", 0.22),
    ("Demo cohort HAVS: maintenance tools (fictional)", "havs", 0.18),
)
# The second employer's (a bakery): (programmes, workers)
BAKERY: tuple[Plan, int] = (
    (
        ("Demo cohort respiratory: flour dust in the bakehouse (fictional)", "respiratory", 0.6),
        ("Demo cohort skin: dough and wet work (fictional)", "skin", 0.5),
        ("Demo cohort night work: early bake shifts (fictional)", "night", 0.4),
    ),
    240,
)
DEPARTMENTS = ("Operations", "Warehouse", "Maintenance", "Office")
# Outcome of a signed check, by cumulative share.
OUTCOMES: tuple[tuple[float, str], ...] = (
    (0.80, "FIT"),
    (0.90, "FIT_WITH_RESTRICTIONS"),
    (0.96, "FURTHER_ASSESSMENT"),
    (0.98, "TEMPORARILY_UNFIT"),
    (1.00, "INCOMPLETE"),
)
CHECKED_SHARE = 0.88  # the rest were never checked and are overdue


@dataclass(frozen=True)
class Created:
    programmes: int
    people: int
    enrolments: int
    results: int

    def __add__(self, other: Created) -> Created:
        return Created(
            self.programmes + other.programmes,
            self.people + other.people,
            self.enrolments + other.enrolments,
            self.results + other.results,
        )


def _people(org: UUID, domain: str, rng: random.Random, today: date, numbers: range) -> list[tuple[Any, ...]]:
    rows = []
    for n in numbers:
        born = today - timedelta(days=rng.randint(20 * 365, 62 * 365))
        rows.append(
            (
                uuid4(),
                org,
                f"demo.worker{n:03d}@{domain}",
                f"Demo Worker {n:03d} (fictional)",
                f"DEMO-W{n:03d}",
                born,
                "female" if n % 2 else "male",
                DEPARTMENTS[n % len(DEPARTMENTS)],
                "Operative (demo)",
            )
        )
    return rows


def _outcome(rng: random.Random) -> str:
    roll = rng.random()
    return next(name for share, name in OUTCOMES if roll <= share)


def _result_fields(outcome: str, performed: date) -> dict[str, Any]:
    fields: dict[str, Any] = {"restrictions": [], "review_date": None, "refer_to": None, "due_by": None}
    fields["incomplete_reason"] = "DNA" if outcome == "INCOMPLETE" else None
    if outcome == "FIT_WITH_RESTRICTIONS":
        fields["restrictions"] = [{"text": "Demo restriction: limit exposure", "duration": "temporary"}]
        fields["review_date"] = performed + timedelta(days=90)
    if outcome == "TEMPORARILY_UNFIT":
        fields["review_date"] = performed + timedelta(days=30)
    if outcome == "FURTHER_ASSESSMENT":
        fields["refer_to"], fields["due_by"] = "OHA", performed + timedelta(days=28)
    return fields


async def seed(
    conn: asyncpg.Connection,
    *,
    hr: User,
    nurse: User,
    domain: str,
    first_quarter: date,
    plan: Plan = PROGRAMMES,
    workers: int = WORKERS,
    first_number: int = 1,
) -> Created:
    """Create the cohort for HR's organisation unless it exists (call inside the seed's transaction)."""
    if await surveillance_queries.programme_name_taken(conn, hr.organisation_id, plan[0][0]):
        return Created(0, 0, 0, 0)
    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    today = utc_now().date()
    people = _people(hr.organisation_id, domain, rng, today, range(first_number, first_number + workers))
    enrolments: list[tuple[Any, ...]] = []
    results: list[tuple[Any, ...]] = []
    for name, kind, share in plan:
        programme = await surveillance_service.create_programme(
            conn, hr, ProgrammeCreate(name=name, kind=kind)
        )
        for person in rng.sample(people, round(workers * share)):
            enrolment_id = uuid4()
            start = today - timedelta(days=rng.randint(400, 900))
            checked = rng.random() < CHECKED_SHARE
            performed = first_quarter + timedelta(days=rng.randint(0, (today - first_quarter).days))
            due = add_months(performed, 12) if checked else today - timedelta(days=rng.randint(5, 120))
            enrolments.append(
                (enrolment_id, programme.id, person[0], hr.organisation_id, "Demo exposure (fictional)",
                 start, due, int(checked), performed if checked else None, hr.id)
            )  # fmt: skip
            if checked:
                results.append(
                    _result(rng, programme.id, kind, enrolment_id, person[0], hr, nurse, performed, due)
                )
    await _copy(conn, people, enrolments, results)
    return Created(len(plan), len(people), len(enrolments), len(results))


def _result(
    rng: random.Random,
    programme_id: UUID,
    kind: str,
    enrolment_id: UUID,
    person_id: UUID,
    hr: User,
    nurse: User,
    performed: date,
    due: date,
) -> tuple[Any, ...]:
    outcome = _outcome(rng)
    f = _result_fields(outcome, performed)
    signed = datetime.combine(performed, time(15, 0), tzinfo=UTC)
    return (
        uuid4(), enrolment_id, programme_id, person_id, hr.organisation_id, nurse.organisation_id, "signed",
        performed, "in_person", PROCEDURE[kind], outcome, f["restrictions"], f["review_date"], f["refer_to"],
        f["due_by"], f["incomplete_reason"], [], due, True, nurse.id, nurse.full_name or nurse.email,
        "Clinician", REGISTRATION, signed,
    )  # fmt: skip


async def _copy(
    conn: asyncpg.Connection,
    people: list[tuple[Any, ...]],
    enrolments: list[tuple[Any, ...]],
    results: list[tuple[Any, ...]],
) -> None:
    await surveillance_queries.copy_rows(conn, "hs_person", people)
    await surveillance_queries.copy_rows(conn, "hs_enrolment", enrolments)
    await surveillance_queries.copy_rows(conn, "hs_result", results)
    clinical: list[tuple[Any, ...]] = [(r[0], {}, {}, "Demo cohort check (fictional).") for r in results]
    await surveillance_queries.copy_rows(conn, "hs_result_clinical", clinical)
    events = [(r[0], r[23], r[19], "sign", {"outcome": r[10], "demo": True}) for r in results]
    await surveillance_queries.copy_rows(conn, "hs_result_event", events)
