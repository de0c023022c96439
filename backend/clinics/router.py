"""HTTP for the virtual room: the clinician's clinics of a day, joining, consent, the start of a
consultation, DNA, guests, ICE servers.

Planning clinics and booking, moving and cancelling appointments are at ``/api/v1/booking``
(``backend.booking.router``); the room's reads of them go through booking's service. The waiting
room and call signalling are on the WebSocket (``backend.clinics.ws``). No SQL here.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from backend.auth.cookies import set_session_cookies
from backend.auth.deps import AppSettings, CurrentUser
from backend.booking import diary as booking_diary
from backend.booking import service as booking_service
from backend.clinics import joining, service, turn
from backend.clinics.deps import GUEST_COOKIE, CurrentCaller
from backend.clinics.schemas import (
    AppointmentRead,
    BookingResult,
    CallEventRead,
    GuestCreate,
    GuestInvitation,
    IceConfig,
    JoinPreview,
    JoinPreviewRequest,
    JoinRequest,
    JoinResult,
    MyAppointment,
    SessionRead,
    StartConsultation,
    VideoConsent,
)
from backend.core.openapi import errors
from backend.db.deps import Conn

router = APIRouter(prefix="/api/v1/clinics", tags=["clinics"])


@router.get("/sessions", response_model=list[SessionRead], responses=errors(401, 403, 422))
async def list_sessions(
    user: CurrentUser,
    conn: Conn,
    day: Annotated[date | None, Query(alias="date", description="Default: today (UK)")] = None,
    clinician_id: UUID | None = None,
) -> list[SessionRead]:
    """Clinics of your organisation on one day, with their slots and bookings (to run them)."""
    return await booking_diary.list_sessions(conn, user, day=day, clinician_id=clinician_id)


@router.get("/sessions/{session_id}", response_model=SessionRead, responses=errors(401, 403, 404))
async def get_session(session_id: UUID, user: CurrentUser, conn: Conn) -> SessionRead:
    return await booking_diary.get_session(conn, user, session_id)


@router.get("/appointments/{appointment_id}", response_model=AppointmentRead, responses=errors(401, 403, 404))
async def get_appointment(
    appointment_id: UUID, user: CurrentUser, conn: Conn, settings: AppSettings
) -> AppointmentRead:
    return await booking_service.get_appointment(conn, user, appointment_id, settings)


@router.get(
    "/appointments/{appointment_id}/activity",
    response_model=list[CallEventRead],
    responses=errors(401, 403, 404),
)
async def activity(appointment_id: UUID, user: CurrentUser, conn: Conn) -> list[CallEventRead]:
    """The call activity log: arrivals, admissions, holds, messages, quality changes, the end."""
    return await service.activity(conn, user, appointment_id)


@router.post(
    "/appointments/{appointment_id}/invitations",
    response_model=BookingResult,
    responses=errors(401, 403, 404, 409),
)
async def resend_invitation(
    appointment_id: UUID, user: CurrentUser, conn: Conn, settings: AppSettings
) -> BookingResult:
    """Send the employee a new join link and code; earlier unused links stop working."""
    return await booking_service.resend_invitation(conn, user, appointment_id, settings)


@router.post(
    "/appointments/{appointment_id}/guests",
    status_code=201,
    response_model=GuestInvitation,
    responses=errors(401, 403, 404, 409, 422),
)
async def invite_guest(
    appointment_id: UUID, body: GuestCreate, user: CurrentUser, conn: Conn, settings: AppSettings
) -> GuestInvitation:
    """Invite an interpreter or companion; the answer holds their single-use link."""
    return await service.invite_guest(conn, user, appointment_id, body, settings)


@router.post(
    "/appointments/{appointment_id}/dna", response_model=AppointmentRead, responses=errors(401, 403, 404, 409)
)
async def mark_dna(
    appointment_id: UUID, user: CurrentUser, conn: Conn, settings: AppSettings
) -> AppointmentRead:
    """Did not attend: the referral moves to DNA and the manager is told the same day."""
    return await service.mark_dna(conn, user, appointment_id, settings)


@router.post(
    "/appointments/{appointment_id}/start",
    response_model=AppointmentRead,
    responses=errors(401, 403, 404, 409, 422),
)
async def start_consultation(
    appointment_id: UUID, body: StartConsultation, user: CurrentUser, conn: Conn, settings: AppSettings
) -> AppointmentRead:
    """Record the employee's consent to assessment: the referral moves to IN_CONSULTATION."""
    return await service.start_consultation(conn, user, appointment_id, settings)


@router.post("/join/preview", response_model=JoinPreview, responses=errors(404, 409, 422))
async def preview_link(body: JoinPreviewRequest, conn: Conn, settings: AppSettings) -> JoinPreview:
    """What a join link is for and when its waiting room opens. The link is not used up."""
    return await joining.preview_link(conn, body.token, settings)


@router.post("/join", response_model=JoinResult, responses=errors(404, 409, 422))
async def join(body: JoinRequest, response: Response, conn: Conn, settings: AppSettings) -> JoinResult:
    """Use a join link (once): employees confirm their date of birth or code; third parties give a name.
    Sets the session cookie (employees) or the guest cookie (third parties)."""
    result, issued = await joining.join(conn, body, settings)
    if issued is not None:
        set_session_cookies(response, issued, settings)
    else:
        response.set_cookie(
            GUEST_COOKIE,
            result.access_token,
            httponly=True,
            samesite="lax",
            secure=settings.cookies_secure,
            path="/",
            expires=result.expires_at,
        )
    return result


@router.get("/appointments/{appointment_id}/mine", response_model=MyAppointment, responses=errors(401, 404))
async def my_appointment(
    appointment_id: UUID, caller: CurrentCaller, conn: Conn, settings: AppSettings
) -> MyAppointment:
    """Your own place in an appointment (as the employee or an invited third party)."""
    return await joining.my_appointment(conn, caller, appointment_id, settings)


@router.post(
    "/appointments/{appointment_id}/consent",
    response_model=MyAppointment,
    responses=errors(401, 403, 404, 409, 422),
)
async def give_video_consent(
    appointment_id: UUID, body: VideoConsent, user: CurrentUser, conn: Conn, settings: AppSettings
) -> MyAppointment:
    """The employee agrees to a video assessment."""
    return await joining.give_video_consent(conn, user, appointment_id, settings)


@router.get("/ice-servers", response_model=IceConfig, responses=errors(401))
async def ice_servers(caller: CurrentCaller, settings: AppSettings) -> IceConfig:
    """STUN/TURN servers for the browser, with short-lived TURN credentials (coturn REST scheme)."""
    who = caller.user.id if caller.user else caller.guest.id if caller.guest else None
    return turn.ice_config(settings, str(who))
