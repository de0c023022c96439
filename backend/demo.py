"""Idempotent, obviously fictional demo data, created through the real services.

``seed`` makes one occupational-health provider, two employers and staff of every role; a clinic
diary of every kind of clinic for last, this and next week (``demo_diary``); at each employer,
referrals in every state of the journey (``demo_referrals``) and a year of closed referrals
(``demo_history``); for the first employer, two health surveillance programmes with enrolments,
checks recorded and signed by the nurse, and people overdue and due for recall (one offered
on-site slots); at both employers a cohort of a few hundred workers in several programmes checked
over four quarters (``demo_cohort``); and a failed message for the provider admin to resend.
Everything happens in one transaction, so a seed is either complete or absent; organisations are
recognised by name, users by e-mail, programmes by name and clinics by clinician and start, so
running it again the same week changes nothing (a later week adds that week's clinics). All people
and organisations are invented; e-mails use ``.example`` domains; dates are relative to today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg

from backend import demo_cohort, demo_diary, demo_history, demo_referrals, demo_surveillance
from backend.auth import queries as auth_queries
from backend.auth import service as auth_service
from backend.auth.passwords import hash_password
from backend.auth.schemas import Organisation, OrgKind, User
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.demo_people import (
    DEMO_PASSWORD,
    EMPLOYERS,
    PROVIDER_DOMAIN,
    PROVIDER_NAME,
    PROVIDER_STAFF,
    Employer,
    Person,
)
from backend.demo_queries import failed_message_exists, insert_failed_message
from backend.reports.aggregate import period as aggregate_period

__all__ = [
    "DEMO_PASSWORD",
    "EMPLOYERS",
    "PROVIDER_DOMAIN",
    "PROVIDER_NAME",
    "PROVIDER_STAFF",
    "Employer",
    "Person",
]

REFERRAL_PLAN = demo_referrals.PLAN
NOISE_PROGRAMME = demo_surveillance.NOISE_PROGRAMME
FITNESS_PROGRAMME = demo_surveillance.FITNESS_PROGRAMME
SURVEILLANCE_PROGRAMMES = demo_surveillance.SURVEILLANCE_PROGRAMMES
SURVEILLANCE_ENROLMENTS = demo_surveillance.SURVEILLANCE_ENROLMENTS
SURVEILLANCE_RESULTS = demo_surveillance.SURVEILLANCE_RESULTS
FAILED_KIND = "demo.failed_delivery"


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
    created_clinics: int = 0
    created_history: int = 0
    created_failed_messages: int = 0


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
        f"Fictional cohorts of {demo_cohort.WORKERS} and {demo_cohort.BAKERY[1]} workers in "
        f"{len(demo_cohort.PROGRAMMES)} and {len(demo_cohort.BAKERY[0])} more programmes, checked over "
        "the last four quarters, fill both employers' dashboards."
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


async def _password_hash(hashed: list[str]) -> str:
    """The demo password's hash, computed once a seed: every demo user has the same published
    password, and hashing it for each one would take most of the demo's start-up time."""
    if not hashed:
        hashed.append(await hash_password(DEMO_PASSWORD))
    return hashed[0]


async def _user(
    conn: asyncpg.Connection, org: Organisation, person: Person, hashed: list[str]
) -> tuple[User, bool]:
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
        password=None,
        full_name=person.name,
        department=person.department,
    )
    await auth_queries.set_password(conn, created.id, await _password_hash(hashed))
    return created, True


@dataclass
class _Org:
    """One seeded organisation: its row, its people as users, and whether this run created it."""

    org: Organisation
    users: dict[str, User]
    created: bool


async def _people(
    conn: asyncpg.Connection,
    org: Organisation,
    people: tuple[Person, ...],
    sign_ins: list[SignIn],
    hashed: list[str],
) -> tuple[dict[str, User], int]:
    users: dict[str, User] = {}
    created_users = 0
    for person in people:
        users[person.key], created = await _user(conn, org, person, hashed)
        created_users += created
        sign_ins.append(SignIn(person.email, DEMO_PASSWORD, person.role.value, org.name))
    return users, created_users


async def _failed_message(conn: asyncpg.Connection, provider: Organisation) -> int:
    """One text message that could not be delivered, for the provider admin to see and resend."""
    if await failed_message_exists(conn, provider.id, FAILED_KIND):
        return 0
    await insert_failed_message(
        conn,
        channel="sms",
        recipient="07700 900999",
        subject="Appointment reminder",
        body="Demo: a reminder of your occupational health appointment (the number is fictional).",
        provider_id=provider.id,
        kind=FAILED_KIND,
        attempts=10,
        last_error="Demo: the number is not in service (permanent failure).",
    )
    return 1


async def _employer(
    conn: asyncpg.Connection, employer: Employer, seeded: _Org, settings: Settings
) -> tuple[int, tuple[int, int, int], demo_cohort.Created, int]:
    """One employer's referrals (on its first seeding only), surveillance, cohort and history."""
    users, index = seeded.users, EMPLOYERS.index(employer)
    clinicians = [users["nurse"], users["doctor"]]
    referrals = 0
    if seeded.created:  # the organisation's first seeding, which the transaction makes atomic
        referrals = len(await demo_referrals.seed(conn, employer, users, clinicians, settings))
    surveillance = await demo_surveillance.seed(conn, employer, users, settings) if index == 0 else (0, 0, 0)
    plan, workers = (demo_cohort.PROGRAMMES, demo_cohort.WORKERS) if index == 0 else demo_cohort.BAKERY
    cohort = await demo_cohort.seed(
        conn, hr=users["hr"], nurse=users["nurse"], domain=employer.domain,
        first_quarter=_first_quarter(), plan=plan, workers=workers, first_number=employer.first_worker,
    )  # fmt: skip
    history = await demo_history.seed(conn, employer, users, clinicians)
    return referrals, surveillance, cohort, history


async def seed(conn: asyncpg.Connection, settings: Settings) -> SeedResult:
    """Create whatever demo data is missing; returns the sign-ins and what this run created."""
    sign_ins: list[SignIn] = []
    hashed: list[str] = []  # the demo password's hash, once computed
    async with conn.transaction():
        provider, provider_created = await _organisation(conn, PROVIDER_NAME, "provider", None)
        staff, users_created = await _people(conn, provider, PROVIDER_STAFF, sign_ins, hashed)
        orgs_created = int(provider_created)
        seeded: list[_Org] = []
        for employer in EMPLOYERS:
            org, created = await _organisation(conn, employer.name, "employer", provider)
            users, made = await _people(conn, org, employer.people, sign_ins, hashed)
            seeded.append(_Org(org, staff | users, created))
            orgs_created, users_created = orgs_created + created, users_created + made
        sites = [(s.org, e.site) for s, e in zip(seeded, EMPLOYERS, strict=True)]
        clinics = await demo_diary.plan(conn, staff["admin"], staff, sites)
        referrals = history = 0
        surveillance, cohort = (0, 0, 0), demo_cohort.Created(0, 0, 0, 0)
        for employer, one in zip(EMPLOYERS, seeded, strict=True):
            made_referrals, made_surveillance, made_cohort, made_history = await _employer(
                conn, employer, one, settings
            )
            referrals, history, cohort = (
                referrals + made_referrals,
                history + made_history,
                cohort + made_cohort,
            )
            if any(made_surveillance):  # the first employer's only
                surveillance = made_surveillance
        failed = await _failed_message(conn, provider)
    return SeedResult(
        sign_ins, orgs_created, users_created, referrals, *surveillance, cohort,
        created_clinics=clinics, created_history=history, created_failed_messages=failed,
    )  # fmt: skip


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
