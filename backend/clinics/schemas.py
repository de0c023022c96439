"""Clinic request and response bodies, and the typed rows the queries return."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from backend.core.types import Email

Modality = Literal["video", "phone", "face_to_face"]
AppointmentStatus = Literal["booked", "in_progress", "completed", "dna", "cancelled"]
ParticipantKind = Literal["clinician", "employee", "guest"]
GuestRole = Literal["interpreter", "companion", "other"]
ParticipantState = Literal["not_arrived", "testing", "waiting", "in_call", "held", "left", "done", "dna"]
Level = Literal["good", "fair", "poor", "failed"]
ACTIVE_STATUSES = ("booked", "in_progress")


_NO_CONTROLS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def _text(max_length: int, **kwargs: Any) -> Any:
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
    modality: Modality
    slot_minutes: int
    location: str | None
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
    referral_id: UUID
    organisation_id: UUID
    provider_id: UUID
    clinician_id: UUID
    clinician_name: str
    modality: Modality
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    employee_email: str
    employee_name: str
    employee_birth_date: date | None
    employee_phone: str | None
    referrer_email: str | None
    status: AppointmentStatus
    identity_code_hash: bytes | None
    video_consent_at: AwareDatetime | None
    first_admitted_at: AwareDatetime | None
    ended_at: AwareDatetime | None
    quality: dict[str, Any]


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


class LinkRow(BaseModel):
    id: UUID
    participant_id: UUID
    expires_at: AwareDatetime
    used_at: AwareDatetime | None
    revoked_at: AwareDatetime | None
    failures: int


class CallEventRow(BaseModel):
    id: int
    at: AwareDatetime
    kind: str
    participant_id: UUID | None
    display_name: str | None
    actor_id: UUID | None
    detail: dict[str, Any]


class RoomEntry(BaseModel):
    """One person on the clinician's list: their appointment and their place in the room."""

    participant: UUID
    appointment: UUID
    referral: UUID
    kind: ParticipantKind
    name: str
    guest_role: GuestRole | None
    starts_at: AwareDatetime
    appointment_status: str
    state: ParticipantState
    arrived_at: AwareDatetime | None
    waiting_since: AwareDatetime | None
    connected: bool
    verdict: dict[str, Any] | None


class PaceRow(BaseModel):
    """Today's completed consultations of one clinician: how many, and their mean length."""

    completed: int
    mean_seconds: float | None


# --- Requests -------------------------------------------------------------------------------


class SessionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "starts_at": "2026-12-03T09:00:00+00:00",
                    "ends_at": "2026-12-03T12:00:00+00:00",
                    "slot_minutes": 30,
                    "modality": "video",
                    "location": "Video clinic",
                }
            ]
        },
    )

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    slot_minutes: int = Field(ge=5, le=240)
    modality: Modality = "video"
    location: str | None = _text(200, default=None)
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

    name: str = _text(200)
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


class JoinPreviewRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"token": "paste-the-token-from-your-link-here"}]}
    )

    token: str = Field(min_length=16, max_length=200)


class JoinRequest(BaseModel):
    """Redeem a join link: employees confirm their date of birth (or the code sent to them)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"token": "paste-the-token-from-your-link-here", "date_of_birth": "1985-04-12"}]
        },
    )

    token: str = Field(min_length=16, max_length=200)
    date_of_birth: date | None = None
    code: str | None = Field(default=None, min_length=4, max_length=12, pattern=r"^[0-9 ]+$")
    name: str | None = _text(200, default=None)


class VideoConsent(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"video_assessment": True}]})

    video_assessment: Literal[True]


class StartConsultation(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"consent_to_assessment": True}]}
    )

    consent_to_assessment: Literal[True]


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
    referral_id: UUID
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
    modality: Modality
    slot_minutes: int
    location: str | None
    slots: list[SlotRead]


class AppointmentRead(BaseModel):
    """An appointment as OH staff see it, with everyone who may join its call."""

    id: UUID
    session_id: UUID
    slot_id: UUID
    referral_id: UUID
    clinician_id: UUID
    clinician_name: str
    modality: Modality
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    opens_at: AwareDatetime
    status: AppointmentStatus
    employee_name: str
    employee_email: str
    video_consent_at: AwareDatetime | None
    first_admitted_at: AwareDatetime | None
    ended_at: AwareDatetime | None
    quality: dict[str, Any]
    participants: list[ParticipantRead]


class MyAppointment(BaseModel):
    """An appointment as the person joining it sees it (employee or invited third party)."""

    id: UUID
    participant_id: UUID
    kind: ParticipantKind
    display_name: str
    clinician_name: str
    modality: Modality
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    opens_at: AwareDatetime
    status: AppointmentStatus
    state: ParticipantState
    consent_needed: bool
    precall_done: bool


class Invitation(BaseModel):
    """Sent to the person; the address is shown without its secret part unless noted."""

    participant_id: UUID
    url: str
    expires_at: AwareDatetime


class BookingResult(BaseModel):
    appointment: AppointmentRead
    invitations: list[Invitation]


class GuestInvitation(BaseModel):
    """The full single-use link, for the clinician to pass on (also e-mailed when an address is given)."""

    participant: ParticipantRead
    url: str
    expires_at: AwareDatetime


class JoinPreview(BaseModel):
    kind: ParticipantKind
    check: Literal["date_of_birth_or_code", "name"]
    clinician_name: str
    starts_at: AwareDatetime
    opens_at: AwareDatetime
    is_open: bool


class JoinResult(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token type, not a secret
    csrf_token: str | None
    expires_at: AwareDatetime
    appointment_id: UUID
    participant_id: UUID
    kind: ParticipantKind


class IceServer(BaseModel):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class IceConfig(BaseModel):
    ice_servers: list[IceServer]
    ttl_seconds: int


class CallEventRead(BaseModel):
    id: int
    at: AwareDatetime
    kind: str
    participant_id: UUID | None
    who: str | None
    detail: dict[str, Any]
