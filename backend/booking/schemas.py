"""Booking request and response bodies, and the typed rows the queries return.

Clinics are planned sessions of one kind (video, phone, face-to-face, or on-site at a client
employer's site) cut into slots; an appointment holds one slot for a referral or a surveillance
recall; participants are the people who may join it (the room in ``backend.clinics`` uses them).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from backend.core.types import Email

ClinicKind = Literal["video", "phone", "face_to_face", "on_site"]
AppointmentStatus = Literal["booked", "in_progress", "completed", "dna", "cancelled"]
ParticipantKind = Literal["clinician", "employee", "guest"]
GuestRole = Literal["interpreter", "companion", "other"]
ParticipantState = Literal["not_arrived", "testing", "waiting", "in_call", "held", "left", "done", "dna"]
ACTIVE_STATUSES = ("booked", "in_progress")
# Which clinic kinds suit a referral's triaged modality (domain.md §3.1: face-to-face is in a
# clinic or on-site).
SUITS: dict[str, frozenset[str]] = {
    "video": frozenset({"video"}),
    "phone": frozenset({"phone"}),
    "face_to_face": frozenset({"face_to_face", "on_site"}),
}
KIND_WORDS = {"video": "by video", "phone": "by telephone", "face_to_face": "in person", "on_site": "on site"}

_NO_CONTROLS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def text_field(max_length: int, **kwargs: Any) -> Any:
    """A text field without control characters."""
    return Field(min_length=1, max_length=max_length, pattern=_NO_CONTROLS, **kwargs)


# --- Rows -----------------------------------------------------------------------------------


class SessionRow(BaseModel):
    id: UUID
    provider_id: UUID
    clinician_id: UUID
    clinician_name: str
    session_date: date
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    kind: ClinicKind
    slot_minutes: int
    location: str | None
    employer_id: UUID | None = None
    employer_name: str | None = None
    active_appointment_id: UUID | None
    cancelled_at: AwareDatetime | None


class SlotRow(BaseModel):
    id: UUID
    session_id: UUID
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class AppointmentRow(BaseModel):
    id: UUID
    session_id: UUID
    slot_id: UUID
    referral_id: UUID | None
    enrolment_id: UUID | None = None
    organisation_id: UUID
    provider_id: UUID
    clinician_id: UUID
    clinician_name: str
    kind: ClinicKind
    location: str | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    employee_email: str
    employee_name: str
    employee_user_id: UUID | None = None
    employee_birth_date: date | None
    employee_phone: str | None
    referrer_email: str | None
    status: AppointmentStatus
    sequence: int = 0
    identity_code_hash: bytes | None
    video_consent_at: AwareDatetime | None
    first_admitted_at: AwareDatetime | None
    ended_at: AwareDatetime | None
    quality: dict[str, Any]

    @property
    def modality(self) -> ClinicKind:
        """The clinic's kind (its older name)."""
        return self.kind


class ParticipantRow(BaseModel):
    id: UUID
    session_id: UUID
    appointment_id: UUID | None
    kind: ParticipantKind
    user_id: UUID | None
    display_name: str
    guest_role: GuestRole | None
    state: ParticipantState
    arrived_at: AwareDatetime | None
    waiting_since: AwareDatetime | None
    state_changed_at: AwareDatetime
    connection_id: UUID | None
    last_seen_at: AwareDatetime | None
    gen: int
    verdict: dict[str, Any] | None
    pass_expires_at: AwareDatetime | None
    email: str | None = None  # a guest's, when they were invited by e-mail


class LinkRow(BaseModel):
    id: UUID
    participant_id: UUID
    expires_at: AwareDatetime
    used_at: AwareDatetime | None
    revoked_at: AwareDatetime | None
    failures: int


class OfferRow(BaseModel):
    id: UUID
    provider_id: UUID
    organisation_id: UUID
    employee_email: str
    referral_id: UUID | None
    enrolment_id: UUID | None
    session_id: UUID | None
    slot_ids: list[UUID]
    created_at: AwareDatetime
    expires_at: AwareDatetime
    appointment_id: UUID | None
    withdrawn_at: AwareDatetime | None


class RecallRow(BaseModel):
    """A surveillance enrolment that is due: who, at which employer, for which provider."""

    id: UUID
    organisation_id: UUID
    email: str
    full_name: str
    date_of_birth: date
    provider_id: UUID
    next_due_date: date
    programme_name: str


# --- Requests -------------------------------------------------------------------------------


class SessionCreate(BaseModel):
    """Plan a clinic: when, what kind, how long each slot is, and where."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "starts_at": "2031-03-04T09:00:00+00:00",
                    "ends_at": "2031-03-04T12:00:00+00:00",
                    "slot_minutes": 30,
                    "kind": "video",
                    "location": "Video clinic",
                }
            ]
        },
    )

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    slot_minutes: int = Field(ge=5, le=240)
    kind: ClinicKind = "video"
    location: str | None = text_field(
        200, default=None, description="The address, for face-to-face and on-site clinics (required there)"
    )
    employer_id: UUID | None = Field(
        default=None, description="The client employer whose site hosts an on-site clinic"
    )
    clinician_id: UUID | None = Field(
        default=None, description="Whose clinic; provider administrators must name a clinician"
    )


class GuestCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Sam Interpreter", "role": "interpreter", "email": "sam@interpreters.example"}
            ]
        },
    )

    name: str = text_field(200)
    role: GuestRole = "interpreter"
    email: Email | None = None


class BookingCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "referral_id": "0b7a6c52-3f0e-4d55-8d39-2f1a9f3c8e11",
                    "slot_id": "5d1c2b7e-8a41-4f3e-9b0c-6e2d4a1f7c90",
                    "interpreter": {
                        "name": "Sam Interpreter",
                        "role": "interpreter",
                        "email": "sam@interpreters.example",
                    },
                }
            ]
        },
    )

    referral_id: UUID
    slot_id: UUID
    interpreter: GuestCreate | None = None


class Reschedule(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"slot_id": "5d1c2b7e-8a41-4f3e-9b0c-6e2d4a1f7c90"}]}
    )

    slot_id: UUID


class Cancellation(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "The employee asked for another day."}]}
    )

    reason: str | None = text_field(500, default=None)


class OfferCreate(BaseModel):
    """Offer an employee slots to choose from: every free slot of one clinic, or a set of slots."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "referral_id": "0b7a6c52-3f0e-4d55-8d39-2f1a9f3c8e11",
                    "session_id": "9a1e4c3b-2d5f-4e6a-8b7c-1d2e3f4a5b6c",
                }
            ]
        },
    )

    referral_id: UUID | None = None
    enrolment_id: UUID | None = Field(default=None, description="A surveillance recall (an enrolment)")
    session_id: UUID | None = None
    slot_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=200)


class OfferBook(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"slot_id": "5d1c2b7e-8a41-4f3e-9b0c-6e2d4a1f7c90"}]}
    )

    slot_id: UUID


# --- Responses ------------------------------------------------------------------------------


class ParticipantRead(BaseModel):
    id: UUID
    appointment_id: UUID | None
    kind: ParticipantKind
    display_name: str
    guest_role: GuestRole | None
    state: ParticipantState
    arrived_at: AwareDatetime | None
    waiting_since: AwareDatetime | None
    connected: bool
    verdict: dict[str, Any] | None


class AppointmentBrief(BaseModel):
    id: UUID
    referral_id: UUID | None
    enrolment_id: UUID | None = None
    employee_name: str
    status: AppointmentStatus


class SlotRead(BaseModel):
    id: UUID
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    appointment: AppointmentBrief | None = None


class SessionRead(BaseModel):
    id: UUID
    clinician_id: UUID
    clinician_name: str
    session_date: date
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    kind: ClinicKind
    slot_minutes: int
    location: str | None
    employer_id: UUID | None = None
    employer_name: str | None = None
    slots: list[SlotRead]


class Choice(BaseModel):
    id: UUID
    name: str


class PlanningChoices(BaseModel):
    """Who can run a clinic (the provider's clinicians) and where on-site clinics can be held."""

    clinicians: list[Choice]
    employers: list[Choice]


class Diary(BaseModel):
    """One week of clinics (Monday to Sunday, UK dates) with their free and booked slots."""

    week_start: date
    days: list[date]
    sessions: list[SessionRead]


class AppointmentRead(BaseModel):
    """An appointment as OH staff see it, with everyone who may join its call."""

    id: UUID
    session_id: UUID
    slot_id: UUID
    referral_id: UUID | None
    enrolment_id: UUID | None = None
    clinician_id: UUID
    clinician_name: str
    kind: ClinicKind
    location: str | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    opens_at: AwareDatetime
    status: AppointmentStatus
    sequence: int = 0
    employee_name: str
    employee_email: str
    video_consent_at: AwareDatetime | None
    first_admitted_at: AwareDatetime | None
    ended_at: AwareDatetime | None
    quality: dict[str, Any]
    participants: list[ParticipantRead]


class Invitation(BaseModel):
    """Sent to the person; the address is shown without its secret part unless noted."""

    participant_id: UUID
    url: str
    expires_at: AwareDatetime


class GuestInvitation(BaseModel):
    """The full single-use link, for the clinician to pass on (also e-mailed when an address is given)."""

    participant: ParticipantRead
    url: str
    expires_at: AwareDatetime


class BookingResult(BaseModel):
    appointment: AppointmentRead
    invitations: list[Invitation]
    guests: list[GuestInvitation] = Field(
        default_factory=list,
        description="Moved: each guest's new single-use link (e-mailed to those invited by e-mail; "
        "pass it on to the others). Their earlier links no longer work.",
    )


class OfferedSlot(BaseModel):
    id: UUID
    starts_at: AwareDatetime
    ends_at: AwareDatetime


OfferStatus = Literal["open", "booked", "expired", "withdrawn"]


class OfferRead(BaseModel):
    """An offer of slots, as OH staff and the employee it was made to see it."""

    id: UUID
    referral_id: UUID | None
    enrolment_id: UUID | None
    kind: ClinicKind | None
    clinician_name: str | None
    location: str | None
    expires_at: AwareDatetime
    status: OfferStatus
    appointment_id: UUID | None
    slots: list[OfferedSlot]


class StaffOfferRead(OfferRead):
    """An offer as OH staff list it: whom it was made to, when, and what came of it."""

    employee_email: str
    employee_name: str
    employer_name: str
    created_at: AwareDatetime


class MyBooking(BaseModel):
    """One of the employee's own appointments: when, what kind, how to join, and what they may do."""

    id: UUID
    referral_id: UUID | None
    enrolment_id: UUID | None
    kind: ClinicKind
    clinician_name: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    status: AppointmentStatus
    how_to_join: str
    location: str | None
    join_url: str | None = Field(
        description="Video: the join page for this appointment (signed in; the e-mailed link works too)"
    )
    calendar_url: str
    can_reschedule: bool
    can_cancel: bool = Field(description="You may cancel it here (until reschedule_until)")
    reschedule_until: AwareDatetime
    offer_id: UUID | None
