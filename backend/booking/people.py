"""The people who may join an appointment: the employee's join link and code (sent again on
request), invited guests, and not attending; and, for the room, who a join link lets in.

Each public use-case owns its transaction; ``open_join_link``, ``spend_link`` and
``count_link_failure`` run in the room's.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from backend.auth.schemas import User
from backend.auth.tokens import token_hash
from backend.booking import invitations, queries
from backend.booking.access import (
    appointment_for_staff,
    appointment_read,
    audit_appointment,
    participant_read,
    reload,
)
from backend.booking.errors import (
    AppointmentClosed,
    BookingConflict,
    JoinLinkInvalid,
)
from backend.booking.schemas import (
    ACTIVE_STATUSES,
    AppointmentRead,
    AppointmentRow,
    BookingResult,
    GuestCreate,
    GuestInvitation,
    Invitation,
    LinkRow,
    ParticipantRow,
)
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.referrals import service as referral_service
from backend.referrals.schemas import TransitionRequest


async def send_join_link(
    conn: asyncpg.Connection, employee: ParticipantRow, appointment: AppointmentRow, settings: Settings
) -> tuple[list[Invitation], str | None]:
    if appointment.kind != "video":
        return [], None
    token, invitation = await invitations.issue_link(conn, employee.id, appointment, settings)
    await invitations.send_code(conn, appointment, settings)
    return [invitation], invitations.join_url(settings, token)


async def resend_invitation(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, settings: Settings
) -> BookingResult:
    """A new link (and code) for the employee; earlier unused links stop working."""
    async with conn.transaction():
        appointment = await appointment_for_staff(conn, user, appointment_id, lock=True)
        if appointment.status not in ACTIVE_STATUSES:
            raise AppointmentClosed()
        if appointment.kind != "video":
            raise BookingConflict("Only video appointments have join links.")
        employee = next(
            p for p in await queries.list_participants(conn, [appointment_id]) if p.kind == "employee"
        )
        sent, url = await send_join_link(conn, employee, appointment, settings)
        await invitations.tell_employee(conn, "booked", appointment, settings=settings, url=url)
        await queries.insert_call_event(
            conn,
            appointment_id,
            kind="invited",
            actor_id=user.id,
            participant_id=employee.id,
            detail={"resent": True},
        )
        await audit_appointment(conn, user, "booking.invitation.resend", appointment)
        read = await appointment_read(conn, appointment, settings)
    return BookingResult(appointment=read, invitations=sent)


async def add_guest(
    conn: asyncpg.Connection, user: User, appointment: AppointmentRow, body: GuestCreate, settings: Settings
) -> tuple[GuestInvitation, Invitation]:
    guest = await queries.insert_participant(
        conn,
        session_id=appointment.session_id,
        appointment_id=appointment.id,
        kind="guest",
        display_name=body.name.strip(),
        guest_role=body.role,
        email=body.email,
    )
    url, invitation = await invitations.invite_guest(
        conn, guest.id, name=guest.display_name, email=body.email, appointment=appointment, settings=settings
    )
    await queries.insert_call_event(
        conn,
        appointment.id,
        kind="invited",
        actor_id=user.id,
        participant_id=guest.id,
        detail={"role": body.role},
    )
    return GuestInvitation(
        participant=participant_read(guest), url=url, expires_at=invitation.expires_at
    ), invitation


async def reinvite_guests(
    conn: asyncpg.Connection, user: User, appointment: AppointmentRow, settings: Settings
) -> list[GuestInvitation]:
    """The appointment moved: each guest still expected gets a new link (e-mailed when they were
    invited by e-mail); their earlier links stop working."""
    found: list[GuestInvitation] = []
    for guest in await queries.list_participants(conn, [appointment.id]):
        if guest.kind != "guest" or guest.state in ("done", "dna"):
            continue
        url, invitation = await invitations.invite_guest(
            conn, guest.id, name=guest.display_name, email=guest.email, appointment=appointment,
            settings=settings, moved=True,
        )  # fmt: skip
        await queries.insert_call_event(
            conn, appointment.id, kind="invited", actor_id=user.id, participant_id=guest.id,
            detail={"resent": True, "emailed": guest.email is not None},
        )  # fmt: skip
        found.append(
            GuestInvitation(participant=participant_read(guest), url=url, expires_at=invitation.expires_at)
        )
    return found


async def invite_guest(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, body: GuestCreate, settings: Settings
) -> tuple[GuestInvitation, ParticipantRow]:
    """Invite an interpreter or companion: a single-use link for them (e-mailed when an address is given).
    The new participant is returned too, for the room to announce."""
    async with conn.transaction():
        appointment = await appointment_for_staff(conn, user, appointment_id, lock=True)
        if appointment.status not in ACTIVE_STATUSES:
            raise AppointmentClosed()
        found, _ = await add_guest(conn, user, appointment, body, settings)
        await audit_appointment(conn, user, "booking.guest.invite", appointment)
        row = await queries.get_participant(conn, found.participant.id)
    if row is None:
        raise RuntimeError("a new guest vanished inside its own transaction")
    return found, row


async def mark_dna(
    conn: asyncpg.Connection, user: User, appointment_id: UUID, settings: Settings
) -> AppointmentRead:
    """Did not attend: referral -> DNA, everyone's place closed, the referrer told the same day."""
    async with conn.transaction():
        appointment = await appointment_for_staff(conn, user, appointment_id, lock=True)
        if appointment.status != "booked":
            raise BookingConflict(
                "Only a booked appointment that has not started can be marked as not attended."
            )
        if utc_now() < appointment.starts_at:
            raise BookingConflict("An appointment can be marked as not attended only once its time has come.")
        if appointment.referral_id is not None:
            await referral_service.apply_transition(
                conn, user, appointment.referral_id, TransitionRequest(action="mark_dna")
            )
        await queries.set_dna(conn, appointment_id)
        for p in await queries.list_participants(conn, [appointment_id]):
            await queries.set_state(conn, p.id, "dna")
        await queries.insert_call_event(conn, appointment_id, kind="dna", actor_id=user.id)
        await invitations.tell_referrer_dna(conn, appointment)
        await audit_appointment(conn, user, "booking.appointment.dna", appointment)
        return await appointment_read(conn, await reload(conn, appointment_id), settings)


# --- who may join (asked by the room) ---


@dataclass(frozen=True)
class JoinTicket:
    """A valid, unspent join link: whose place it opens, in which appointment."""

    link: LinkRow
    participant: ParticipantRow
    appointment: AppointmentRow


async def open_join_link(conn: asyncpg.Connection, token: str) -> JoinTicket:
    """In the caller's transaction (locks the link): who this link lets in, else 404/409."""
    link = await queries.lock_link(conn, token_hash(token))
    if (
        link is None
        or link.used_at
        or link.revoked_at
        or link.expires_at <= utc_now()
        or link.failures >= invitations.MAX_IDENTITY_FAILURES
    ):
        raise JoinLinkInvalid("This link has already been used or has expired. Ask for a new one.")
    participant = await queries.get_participant(conn, link.participant_id)
    appointment = None
    if participant is not None and participant.appointment_id is not None:
        appointment = await queries.get_appointment(conn, participant.appointment_id)
    if participant is None or appointment is None:
        raise JoinLinkInvalid("This link has already been used or has expired. Ask for a new one.")
    if appointment.status not in ACTIVE_STATUSES:
        raise AppointmentClosed("This appointment has ended or was cancelled.")
    return JoinTicket(link, participant, appointment)


async def spend_link(conn: asyncpg.Connection, ticket: JoinTicket, *, user_id: UUID | None) -> None:
    """The link is used up (in the caller's transaction); the employee's account is remembered."""
    await queries.use_link(conn, ticket.link.id)
    if user_id is not None and ticket.participant.kind == "employee":
        await queries.set_employee_user(conn, ticket.appointment.id, user_id)


async def count_link_failure(conn: asyncpg.Connection, ticket: JoinTicket) -> int:
    """One more wrong identity answer on this link; how many tries are left."""
    return invitations.MAX_IDENTITY_FAILURES - await queries.link_failure(conn, ticket.link.id)


def identity_code_matches(appointment: AppointmentRow, code: str) -> bool:
    if appointment.identity_code_hash is None:
        return False
    return hmac.compare_digest(invitations.code_hash(appointment.id, code), appointment.identity_code_hash)
