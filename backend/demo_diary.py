"""The demo's clinic diary: the nurse's and the physician's clinics of every kind (video, phone,
face-to-face, on-site at each employer) on every weekday of last week, this week and next week,
dated relative to today so that the diary is never empty.

Clinics still to come are planned by booking staff through the booking service (audited, as a
person would); clinics already over cannot be planned there, so they are written directly as seed
data. Idempotent: a clinic is recognised by its clinician and start, so running the demo again the
same week adds nothing, and a later week's run adds that week's clinics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from uuid import UUID

import asyncpg

from backend.auth.schemas import Organisation, User
from backend.booking import diary as booking_diary
from backend.booking import queries as booking_queries
from backend.booking.calendar import UK
from backend.booking.schemas import SessionCreate
from backend.core.clock import utc_now
from backend.demo_people import CLINIC_ADDRESS

Kind = Literal["video", "phone", "face_to_face", "on_site"]


@dataclass(frozen=True)
class Clinic:
    """One clinic of the weekly pattern: who, which weekdays (0 = Monday), when, what kind."""

    clinician: str  # "nurse" or "doctor"
    weekdays: tuple[int, ...]
    start: time
    hours: float
    kind: Kind
    slot_minutes: int
    employer: int | None = None  # index into the demo employers, for on-site clinics


WEEK: tuple[Clinic, ...] = (
    Clinic("nurse", (0, 2, 4), time(9), 3, "video", 30),
    Clinic("nurse", (1, 3), time(9), 3, "phone", 30),
    Clinic("nurse", (0, 1, 2, 3, 4), time(13, 30), 3, "face_to_face", 30),
    Clinic("doctor", (1,), time(9, 30), 3, "on_site", 20, employer=0),
    Clinic("doctor", (3,), time(9, 30), 3, "on_site", 20, employer=1),
    Clinic("doctor", (0, 2, 4), time(14), 2, "video", 30),
    Clinic("doctor", (1, 3), time(14), 2, "phone", 30),
)
WEEKS = (-1, 0, 1)  # last week, this week, next week


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _location(clinic: Clinic, sites: list[tuple[Organisation, str]]) -> str | None:
    if clinic.kind == "on_site" and clinic.employer is not None:
        return f"Medical room, {sites[clinic.employer][1]} (fictional)"
    if clinic.kind == "face_to_face":
        return CLINIC_ADDRESS
    return None


def _wanted(
    today: date, staff: dict[str, User], sites: list[tuple[Organisation, str]]
) -> list[SessionCreate]:
    first = monday(today)
    wanted: list[SessionCreate] = []
    for week in WEEKS:
        for clinic in WEEK:
            for weekday in clinic.weekdays:
                day = first + timedelta(days=7 * week + weekday)
                starts = datetime.combine(day, clinic.start, tzinfo=UK)
                employer = sites[clinic.employer][0].id if clinic.employer is not None else None
                wanted.append(
                    SessionCreate(
                        starts_at=starts,
                        ends_at=starts + timedelta(hours=clinic.hours),
                        slot_minutes=clinic.slot_minutes,
                        kind=clinic.kind,
                        location=_location(clinic, sites),
                        employer_id=employer,
                        clinician_id=staff[clinic.clinician].id,
                    )
                )
    return wanted


async def _write_past(conn: asyncpg.Connection, admin: User, body: SessionCreate) -> None:
    """A clinic that is already over, written as seed data (the service refuses to plan the past)."""
    if body.clinician_id is None:
        raise ValueError("a demo clinic names its clinician")
    await booking_diary.write_session(conn, admin, body, body.clinician_id)


async def plan(
    conn: asyncpg.Connection, admin: User, staff: dict[str, User], sites: list[tuple[Organisation, str]]
) -> int:
    """Plan every missing clinic of the three weeks around today; returns how many were added."""
    now = utc_now()
    today = now.astimezone(UK).date()
    first, last = (
        monday(today) + timedelta(days=7 * WEEKS[0]),
        monday(today) + timedelta(days=7 * WEEKS[-1] + 6),
    )
    existing: set[tuple[UUID, datetime]] = {
        (s.clinician_id, s.starts_at)
        for s in await booking_queries.list_sessions(
            conn, admin.organisation_id, first=first, last=last, clinician_id=None
        )
    }
    added = 0
    for body in _wanted(today, staff, sites):
        if body.clinician_id is None or (body.clinician_id, body.starts_at) in existing:
            continue
        if body.ends_at <= now:
            await _write_past(conn, admin, body)
        else:
            await booking_diary.plan_clinic(conn, admin, body)
        added += 1
    return added
