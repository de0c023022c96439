"""The signed-in employee's own appointments, for their "My occupational health" page.

Kept apart from booking and the room: it reads the employee's places in appointments and shows
each as ``MyAppointment`` (the view the join page uses), so it can move to booking unchanged.
"""

from __future__ import annotations

import asyncpg

from backend.audit import service as audit
from backend.audit.schemas import Subject
from backend.auth.schemas import Role, User
from backend.clinics import queries
from backend.clinics.errors import ClinicForbidden
from backend.clinics.joining import my_view
from backend.clinics.schemas import MyAppointment
from backend.core.config import Settings


async def my_appointments(conn: asyncpg.Connection, user: User, settings: Settings) -> list[MyAppointment]:
    """The caller's appointments (employees only, else 403), soonest first; audited per appointment."""
    if user.role != Role.employee:
        raise ClinicForbidden("Only employees have appointments of their own here.")
    async with conn.transaction():
        found = []
        for participant in await queries.employee_participants(conn, user.id):
            if participant.appointment_id is None:
                continue
            appointment = await queries.get_appointment(conn, participant.appointment_id)
            if appointment is not None:
                found.append((participant, appointment))
        await audit.record_each(
            conn, user.actor(), "clinic.appointment.list_own", "appointment",
            [(a.id, Subject(user_id=user.id, email=a.employee_email)) for _, a in found],
        )  # fmt: skip
    return sorted((my_view(p, a, settings) for p, a in found), key=lambda m: m.starts_at)
