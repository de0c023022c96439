"""HTTP for booking: plan clinics, read the week's diary, book, move and cancel appointments
(booking staff and clinicians); offers of slots and the employee's own appointments. No SQL here."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from backend.auth.deps import AppSettings, Clinical, require_role
from backend.auth.schemas import Role, User
from backend.booking import diary, mine, offers, service
from backend.booking.schemas import (
    AppointmentRead,
    BookingCreate,
    BookingResult,
    Cancellation,
    Diary,
    MyBooking,
    OfferBook,
    OfferCreate,
    OfferRead,
    OfferStatus,
    PlanningChoices,
    Reschedule,
    SessionCreate,
    SessionRead,
    StaffOfferRead,
)
from backend.core import listing
from backend.core.listing import ListParams, Page
from backend.core.openapi import errors
from backend.db.deps import Conn

router = APIRouter(prefix="/api/v1/booking", tags=["booking"])
Employee = Annotated[User, Depends(require_role(Role.employee))]


@router.post("/clinics", status_code=201, response_model=SessionRead, responses=errors(401, 403, 409, 422))
async def plan_clinic(body: SessionCreate, user: Clinical, conn: Conn) -> SessionRead:
    """Plan a clinic (video, phone, face-to-face, or on-site at a client's site) on any day; its
    slots are cut from its times and slot length. Booking staff name the clinician."""
    return await diary.plan_clinic(conn, user, body)


@router.get("/clinics", response_model=list[SessionRead], responses=errors(401, 403, 422))
async def list_clinics(
    user: Clinical,
    conn: Conn,
    day: Annotated[date | None, Query(alias="date", description="Default: today (UK)")] = None,
    clinician_id: UUID | None = None,
) -> list[SessionRead]:
    """One day's clinics with their free and booked slots."""
    return await diary.list_sessions(conn, user, day=day, clinician_id=clinician_id)


@router.get("/clinics/{clinic_id}", response_model=SessionRead, responses=errors(401, 403, 404))
async def get_clinic(clinic_id: UUID, user: Clinical, conn: Conn) -> SessionRead:
    return await diary.get_session(conn, user, clinic_id)


@router.get("/choices", response_model=PlanningChoices, responses=errors(401, 403))
async def planning_choices(user: Clinical, conn: Conn) -> PlanningChoices:
    """The provider's clinicians and client employers, for planning a clinic."""
    return await diary.choices(conn, user)


@router.get("/diary", response_model=Diary, responses=errors(401, 403, 422))
async def week_diary(
    user: Clinical,
    conn: Conn,
    week_start: Annotated[
        date | None, Query(description="Any day of the week wanted (default: this week)")
    ] = None,
    clinician_id: UUID | None = None,
) -> Diary:
    """A week of clinics, Monday to Sunday (UK), with free and booked slots."""
    return await diary.week(conn, user, week_start=week_start, clinician_id=clinician_id)


@router.post(
    "/appointments", status_code=201, response_model=BookingResult, responses=errors(401, 403, 404, 409, 422)
)
async def book(body: BookingCreate, user: Clinical, conn: Conn, settings: AppSettings) -> BookingResult:
    """Book a referral awaiting booking into a free slot (referral -> BOOKED). The employee gets the
    time, how to join (a single-use link for video) and a calendar invitation; the referrer the time."""
    return await service.book(conn, user, body, settings)


@router.get("/appointments/mine", response_model=list[MyBooking], responses=errors(401, 403))
async def my_appointments(user: Employee, conn: Conn, settings: AppSettings) -> list[MyBooking]:
    """Your own appointments (employees): when, what kind, how to join, whether you may move them."""
    return await offers.my_appointments(conn, user, settings)


@router.get("/appointments/{appointment_id}", response_model=AppointmentRead, responses=errors(401, 403, 404))
async def get_appointment(
    appointment_id: UUID, user: Clinical, conn: Conn, settings: AppSettings
) -> AppointmentRead:
    return await service.get_appointment(conn, user, appointment_id, settings)


@router.post(
    "/appointments/{appointment_id}/reschedule",
    response_model=BookingResult,
    responses=errors(401, 403, 404, 409, 422),
)
async def reschedule(
    appointment_id: UUID, body: Reschedule, user: Clinical, conn: Conn, settings: AppSettings
) -> BookingResult:
    """Move an appointment to another free slot: old join links stop working, new ones are sent, and
    everyone's calendar entry is updated."""
    return await service.reschedule(conn, user, appointment_id, body, settings)


@router.post(
    "/appointments/{appointment_id}/cancel",
    response_model=AppointmentRead,
    responses=errors(401, 403, 404, 409, 422),
)
async def cancel(
    appointment_id: UUID, body: Cancellation, user: Clinical, conn: Conn, settings: AppSettings
) -> AppointmentRead:
    """Cancel an appointment: the slot is free again, the referral awaits booking, calendars are told."""
    return await service.cancel(conn, user, appointment_id, body, settings)


@router.post(
    "/appointments/{appointment_id}/invitations",
    response_model=BookingResult,
    responses=errors(401, 403, 404, 409),
)
async def resend_invitation(
    appointment_id: UUID, user: Clinical, conn: Conn, settings: AppSettings
) -> BookingResult:
    """Send the employee a new join link and code; earlier unused links stop working."""
    return await service.resend_invitation(conn, user, appointment_id, settings)


@router.get(
    "/appointments/{appointment_id}/calendar.ics",
    response_class=Response,
    responses={**errors(401, 403, 404), 200: {"content": {"text/calendar": {}}}},
)
async def my_calendar(appointment_id: UUID, user: Employee, conn: Conn) -> Response:
    """Your appointment as a calendar invitation (employees: "add to calendar")."""
    text = await offers.my_calendar(conn, user, appointment_id)
    return Response(
        text,
        media_type="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="appointment.ics"'},
    )


@router.post(
    "/appointments/{appointment_id}/mine/reschedule",
    response_model=MyBooking,
    responses=errors(401, 403, 404, 409, 422),
)
async def reschedule_mine(
    appointment_id: UUID, body: OfferBook, user: Employee, conn: Conn, settings: AppSettings
) -> MyBooking:
    """Move your own appointment to another offered time, until the notice limit before it."""
    return await offers.reschedule_mine(conn, user, appointment_id, body, settings)


@router.post(
    "/appointments/{appointment_id}/mine/cancel",
    response_model=MyBooking,
    responses=errors(401, 403, 404, 409, 422),
)
async def cancel_mine(
    appointment_id: UUID, body: Cancellation, user: Employee, conn: Conn, settings: AppSettings
) -> MyBooking:
    """Cancel your own appointment (employees), until the notice limit before it. If you chose it from
    times offered to you, you may choose another of them; otherwise occupational health will contact
    you. Your calendar entry is cancelled and the clinician is told."""
    return await mine.cancel_mine(conn, user, appointment_id, body, settings)


@router.post("/offers", status_code=201, response_model=OfferRead, responses=errors(401, 403, 404, 409, 422))
async def make_offer(body: OfferCreate, user: Clinical, conn: Conn, settings: AppSettings) -> OfferRead:
    """Offer an employee slots to choose from (one clinic's free slots, or a set of slots) for a
    referral awaiting booking or a surveillance recall; they are told by e-mail."""
    return await offers.make_offer(conn, user, body, settings)


OfferList = Annotated[
    ListParams, Depends(listing.query(sorts=("created", "expires"), default="-created", max_limit=100))
]


@router.get("/offers", response_model=Page[StaffOfferRead], responses=errors(401, 403, 422))
async def list_offers(
    page: OfferList,
    user: Clinical,
    conn: Conn,
    status: Annotated[OfferStatus | None, Query(description="open, booked, expired or withdrawn")] = None,
    referral_id: Annotated[UUID | None, Query(description="Only the offers for this referral")] = None,
) -> Page[StaffOfferRead]:
    """The offers of slots your provider has made (OH staff): to whom, for which referral or recall,
    and whether each is open, booked, expired or withdrawn. Search (q) matches the employee's name or
    e-mail address."""
    return await offers.list_offers(conn, user, page=page, status=status, referral_id=referral_id)


@router.get("/offers/mine", response_model=list[OfferRead], responses=errors(401, 403))
async def my_offers(user: Employee, conn: Conn) -> list[OfferRead]:
    """Offers made to you (employees), with the slots still free."""
    return await offers.my_offers(conn, user)


@router.post(
    "/offers/{offer_id}/book",
    status_code=201,
    response_model=MyBooking,
    responses=errors(401, 403, 404, 409, 422),
)
async def book_offer(
    offer_id: UUID, body: OfferBook, user: Employee, conn: Conn, settings: AppSettings
) -> MyBooking:
    """Choose one of the offered slots: you get the time, how to join and a calendar invitation."""
    return await offers.book_offer(conn, user, offer_id, body, settings)
