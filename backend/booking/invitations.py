"""What people are told about appointments, and the single-use join links of video appointments.

Messages go to the outbox in the caller's transaction. They say the date and time (UK), the kind
of appointment and how to join, carry a calendar invitation, and never the reason for the referral.
Join links: only their hash is stored; issuing a new one revokes the unused ones.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

import asyncpg

from backend.auth.tokens import new_token, token_hash
from backend.booking import calendar, queries
from backend.booking.calendar import UK
from backend.booking.schemas import KIND_WORDS, AppointmentRow, Invitation
from backend.core.config import Settings
from backend.notify import service as notify

LINK_GRACE = timedelta(hours=2)  # a join link works until two hours after its slot ends
MAX_IDENTITY_FAILURES = 5
Event = Literal["booked", "rescheduled", "cancelled"]


def when(at: datetime) -> str:
    """'Thursday 3 December 2026 at 10:00' in UK time."""
    local = at.astimezone(UK)
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}"


def join_url(settings: Settings, token: str | None = None) -> str:
    base = f"{settings.public_url.rstrip('/')}/join.html"
    return f"{base}#token={token}" if token else base


def code_hash(appointment_id: UUID, code: str) -> bytes:
    return token_hash(f"{appointment_id}:{code.replace(' ', '')}")


def how_to_join(appointment: AppointmentRow, *, url: str | None) -> str:
    """One or two sentences: the link for video, the phone call, or the address."""
    if appointment.kind == "video":
        return (
            f"Join by video from this single-use link on the day: {url}"
            if url
            else "Join by video from the link in your invitation e-mail."
        )
    if appointment.kind == "phone":
        return (
            "This is a telephone appointment: the clinician will call you at the time, on the phone number "
            "your employer gave us. Tell us if that number is wrong."
        )
    place = appointment.location or "the address we send you"
    site = "at your workplace, " if appointment.kind == "on_site" else ""
    return f"Please come in person {site}to: {place}."


async def issue_link(
    conn: asyncpg.Connection, participant_id: UUID, appointment: AppointmentRow, settings: Settings
) -> tuple[str, Invitation]:
    """A fresh single-use link for one participant; earlier unused links stop working."""
    token = new_token()
    expires_at = appointment.ends_at + LINK_GRACE
    await queries.revoke_links(conn, participant_id)
    await queries.insert_link(conn, token_hash(token), participant_id=participant_id, expires_at=expires_at)
    return token, Invitation(participant_id=participant_id, url=join_url(settings), expires_at=expires_at)


async def send_code(conn: asyncpg.Connection, appointment: AppointmentRow, settings: Settings) -> None:
    """An identity code for the join page: by SMS when a mobile number is known and text messages
    can be sent (``notify.can_text``), else by e-mail."""
    code = f"{secrets.randbelow(10**6):06d}"
    await queries.set_identity_code(conn, appointment.id, code_hash(appointment.id, code))
    text = f"Your code for your occupational health video appointment is {code[:3]} {code[3:]}."
    phone = appointment.employee_phone if notify.can_text(settings) else None
    await notify.enqueue(
        conn,
        recipient=phone or appointment.employee_email,
        subject="Your appointment code",
        body=text,
        channel="sms" if phone else "email",
        provider_id=appointment.provider_id,
        kind="booking.code",
    )


_SUBJECTS = {
    "booked": "Your occupational health appointment",
    "rescheduled": "Your occupational health appointment has moved",
    "cancelled": "Your occupational health appointment is cancelled",
}


REBOOK = "We will contact you to arrange another."
REFERRAL_CLOSED = "The referral has closed, so you do not need to attend."


def _employee_text(
    event: Event, appointment: AppointmentRow, *, url: str | None, settings: Settings, why: str
) -> str:
    at = f"{when(appointment.starts_at)} (UK time), {KIND_WORDS[appointment.kind]}"
    if event == "cancelled":
        return (
            f"Your occupational health appointment on {at} has been cancelled. {why} "
            "The calendar entry is removed."
        )
    lead = "is now on" if event == "rescheduled" else "is on"
    text = (
        f"Your occupational health appointment with {appointment.clinician_name} {lead} {at}.\n"
        f"{how_to_join(appointment, url=url)}\n"
    )
    if appointment.kind == "video":
        text += (
            f"The waiting room opens {settings.waiting_room_open_minutes} minutes before. You will be asked "
            "for your date of birth (or the code we send you separately) and can test your camera and "
            "microphone first. This link works once; earlier links no longer work.\n"
        )
    return text + "A calendar invitation is attached."


async def tell_employee(
    conn: asyncpg.Connection,
    event: Event,
    appointment: AppointmentRow,
    *,
    settings: Settings,
    url: str | None = None,
    why: str = REBOOK,
) -> None:
    """``why``: for a cancellation, what happens next (rebooking, or the referral has closed)."""
    ics = calendar.appointment_ics(
        appointment,
        method="CANCEL" if event == "cancelled" else "REQUEST",
        how_to_join=how_to_join(appointment, url=url),
    )
    await notify.enqueue(
        conn,
        recipient=appointment.employee_email,
        subject=_SUBJECTS[event],
        body=_employee_text(event, appointment, url=url, settings=settings, why=why),
        provider_id=appointment.provider_id,
        kind=f"booking.{event}",
        calendar_ics=ics,
    )


async def tell_referrer(conn: asyncpg.Connection, event: Event, appointment: AppointmentRow) -> None:
    """The referring manager is told the date and time (domain.md §3.3 row 8), never the reason."""
    if not appointment.referrer_email:
        return
    at = f"{when(appointment.starts_at)} (UK time), {KIND_WORDS[appointment.kind]}"
    who = appointment.employee_name
    words = {
        "booked": f"An occupational health appointment has been booked for {who} on {at}.",
        "rescheduled": f"The occupational health appointment for {who} has moved to {at}.",
        "cancelled": f"The occupational health appointment for {who} on {at} is cancelled.",
    }
    ics = calendar.appointment_ics(
        appointment,
        method="CANCEL" if event == "cancelled" else "REQUEST",
        how_to_join="The employee has been told how to join.",
    )
    await notify.enqueue(
        conn,
        recipient=appointment.referrer_email,
        subject=f"Occupational health appointment {event}",
        body=words[event],
        provider_id=appointment.provider_id,
        kind=f"booking.{event}.referrer",
        calendar_ics=ics,
    )


async def tell_referrer_dna(conn: asyncpg.Connection, appointment: AppointmentRow) -> None:
    if not appointment.referrer_email:
        return
    await notify.enqueue(
        conn,
        recipient=appointment.referrer_email,
        subject="Occupational health appointment not attended",
        body=(
            f"{appointment.employee_name} did not attend the occupational health appointment on "
            f"{when(appointment.starts_at)} (UK time). Occupational health will contact you about "
            f"rebooking or closing the referral."
        ),
        provider_id=appointment.provider_id,
        kind="booking.dna",
    )


async def tell_guest_cancelled(
    conn: asyncpg.Connection, appointment: AppointmentRow, *, name: str, email: str
) -> None:
    """A guest invited by e-mail hears that the appointment will not take place (their link is dead)."""
    await notify.enqueue(
        conn,
        recipient=email,
        subject="An occupational health video appointment is cancelled",
        body=(
            f"{name}, the video appointment with {appointment.clinician_name} on "
            f"{when(appointment.starts_at)} (UK time) you were invited to is cancelled. "
            "Your link no longer works."
        ),
        provider_id=appointment.provider_id,
        kind="booking.guest_cancelled",
    )


async def invite_guest(
    conn: asyncpg.Connection,
    participant_id: UUID,
    *,
    name: str,
    email: str | None,
    appointment: AppointmentRow,
    settings: Settings,
    moved: bool = False,
) -> tuple[str, Invitation]:
    """A fresh link for a guest (earlier ones stop working), e-mailed when an address is known;
    ``moved``: the appointment they were invited to has a new time."""
    token, invitation = await issue_link(conn, participant_id, appointment, settings)
    url = join_url(settings, token)
    at = f"{when(appointment.starts_at)} (UK time)"
    lead = (
        f"{name}, the video appointment with {appointment.clinician_name} you were invited to has moved "
        f"to {at}. Your earlier link no longer works."
        if moved
        else f"{name}, you are invited to join a video appointment with {appointment.clinician_name} on {at}."
    )
    if email:
        await notify.enqueue(
            conn,
            recipient=email,
            subject=(
                "Your occupational health video appointment has moved"
                if moved
                else "Invitation to an occupational health video appointment"
            ),
            body=f"{lead}\nJoin here: {url}\nThis link works once.",
            provider_id=appointment.provider_id,
            kind="booking.guest_moved" if moved else "booking.guest_invited",
        )
    return url, invitation
