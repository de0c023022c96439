"""Calendar invitations (RFC 5545) for appointments, built with ``icalendar``.

Times are given in Europe/London with its VTIMEZONE; each appointment keeps one UID, and its
SEQUENCE grows at every reschedule and at cancellation, so calendar programs update or remove the
event they already hold (METHOD:REQUEST when booked or moved, METHOD:CANCEL when cancelled).
No clinical detail goes into the invitation: the time, the kind and how to join.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from backend.booking.schemas import KIND_WORDS, AppointmentRow
from backend.core.clock import utc_now

UK = ZoneInfo("Europe/London")
PRODID = "-//ohconnect//booking//EN"


def uid(appointment_id: UUID) -> str:
    return f"appointment-{appointment_id}@ohconnect"


def appointment_ics(
    appointment: AppointmentRow,
    *,
    method: Literal["REQUEST", "CANCEL"],
    how_to_join: str,
    organiser: str | None = None,
    sequence: int | None = None,
    stamp: datetime | None = None,
) -> str:
    """The invitation text for one appointment (its current slot and sequence unless told)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", uid(appointment.id))
    event.add("sequence", appointment.sequence if sequence is None else sequence)
    event.add("dtstamp", stamp or utc_now())
    event.add("dtstart", appointment.starts_at.astimezone(UK))
    event.add("dtend", appointment.ends_at.astimezone(UK))
    event.add("summary", f"Occupational health appointment ({KIND_WORDS[appointment.kind]})")
    event.add("description", how_to_join)
    if appointment.location and appointment.kind in ("face_to_face", "on_site"):
        event.add("location", appointment.location)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    if organiser:
        event.add("organizer", f"mailto:{organiser}")
    event.add("attendee", f"mailto:{appointment.employee_email}")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    text: bytes = calendar.to_ical()
    return text.decode()
