"""Invitation wording and join links: single-use tokens (only their hash is stored) and identity codes.

Messages go to the outbox in the caller's transaction; they name the time and the clinician,
never the reason for the referral.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from backend.auth.tokens import new_token, token_hash
from backend.clinics import queries
from backend.clinics.schemas import AppointmentRow, Invitation
from backend.core.config import Settings
from backend.notify import service as notify

UK = ZoneInfo("Europe/London")
LINK_GRACE = timedelta(hours=2)  # a join link works until two hours after its slot ends
MAX_IDENTITY_FAILURES = 5


def when(at: datetime) -> str:
    """'Thursday 3 December 2026 at 10:00' in UK time."""
    local = at.astimezone(UK)
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}"


def join_url(settings: Settings, token: str | None = None) -> str:
    base = f"{settings.public_url.rstrip('/')}/join.html"
    return f"{base}#token={token}" if token else base


def code_hash(appointment_id: UUID, code: str) -> bytes:
    return token_hash(f"{appointment_id}:{code.replace(' ', '')}")


async def issue_link(
    conn: asyncpg.Connection, participant_id: UUID, appointment: AppointmentRow, settings: Settings
) -> tuple[str, Invitation]:
    """A fresh single-use link for one participant; earlier unused links stop working."""
    token = new_token()
    expires_at = appointment.ends_at + LINK_GRACE
    await queries.revoke_links(conn, participant_id)
    await queries.insert_link(conn, token_hash(token), participant_id, expires_at)
    return token, Invitation(participant_id=participant_id, url=join_url(settings), expires_at=expires_at)


async def invite_employee(
    conn: asyncpg.Connection, participant_id: UUID, appointment: AppointmentRow, settings: Settings
) -> Invitation:
    """E-mail the employee a join link, and send an identity code (by SMS when a phone is known)."""
    token, invitation = await issue_link(conn, participant_id, appointment, settings)
    code = f"{secrets.randbelow(10**6):06d}"
    await queries.set_identity_code(conn, appointment.id, code_hash(appointment.id, code))
    opens = settings.waiting_room_open_minutes
    await notify.enqueue(
        conn,
        recipient=appointment.employee_email,
        subject="Your occupational health video appointment",
        provider_id=appointment.provider_id,
        kind="appointment.invitation",
        body=(
            f"Your occupational health appointment with {appointment.clinician_name} is on "
            f"{when(appointment.starts_at)} (UK time), by video.\n"
            f"Join here on the day: {join_url(settings, token)}\n"
            f"The waiting room opens {opens} minutes before. You will be asked for your date of birth "
            f"(or the code we send you separately) and can test your camera and microphone first.\n"
            f"This link works once. If you need a new one, reply to this message."
        ),
    )
    code_text = f"Your code for your occupational health video appointment is {code[:3]} {code[3:]}."
    if appointment.employee_phone:
        await notify.enqueue(
            conn,
            recipient=appointment.employee_phone,
            subject="Appointment code",
            body=code_text,
            channel="sms",
            provider_id=appointment.provider_id,
            kind="appointment.code",
        )
    else:
        await notify.enqueue(
            conn,
            recipient=appointment.employee_email,
            subject="Your appointment code",
            body=code_text,
            provider_id=appointment.provider_id,
            kind="appointment.code",
        )
    return invitation


async def notify_manager_booked(conn: asyncpg.Connection, appointment: AppointmentRow) -> None:
    if not appointment.referrer_email:
        return
    await notify.enqueue(
        conn,
        recipient=appointment.referrer_email,
        subject="Occupational health appointment booked",
        provider_id=appointment.provider_id,
        kind="appointment.booked",
        body=(
            f"An occupational health appointment has been booked for {appointment.employee_name} on "
            f"{when(appointment.starts_at)} (UK time), by video."
        ),
    )


async def notify_manager_dna(conn: asyncpg.Connection, appointment: AppointmentRow) -> None:
    if not appointment.referrer_email:
        return
    await notify.enqueue(
        conn,
        recipient=appointment.referrer_email,
        subject="Occupational health appointment not attended",
        provider_id=appointment.provider_id,
        kind="appointment.not_attended",
        body=(
            f"{appointment.employee_name} did not attend the occupational health appointment on "
            f"{when(appointment.starts_at)} (UK time). Occupational health will contact you about "
            f"rebooking or closing the referral."
        ),
    )


async def invite_guest(
    conn: asyncpg.Connection,
    participant_id: UUID,
    name: str,
    email: str | None,
    appointment: AppointmentRow,
    settings: Settings,
) -> tuple[str, Invitation]:
    token, invitation = await issue_link(conn, participant_id, appointment, settings)
    url = join_url(settings, token)
    if email:
        await notify.enqueue(
            conn,
            recipient=email,
            subject="Invitation to an occupational health video appointment",
            provider_id=appointment.provider_id,
            kind="appointment.guest_invitation",
            body=(
                f"{name}, you are invited to join a video appointment with {appointment.clinician_name} on "
                f"{when(appointment.starts_at)} (UK time).\nJoin here: {url}\nThis link works once."
            ),
        )
    return url, invitation
