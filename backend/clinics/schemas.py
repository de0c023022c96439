"""The virtual room's request and response bodies and rows; booking's (clinics, slots,
appointments, participants, invitations) are re-exported from ``backend.booking.schemas``."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from backend.booking.schemas import (
    ACTIVE_STATUSES,
    AppointmentBrief,
    AppointmentRead,
    AppointmentRow,
    AppointmentStatus,
    BookingCreate,
    BookingResult,
    ClinicKind,
    GuestCreate,
    GuestInvitation,
    GuestRole,
    Invitation,
    LinkRow,
    ParticipantKind,
    ParticipantRead,
    ParticipantRow,
    ParticipantState,
    SessionCreate,
    SessionRead,
    SessionRow,
    SlotRead,
    SlotRow,
    text_field,
)

__all__ = [
    "ACTIVE_STATUSES",
    "AppointmentBrief",
    "AppointmentRead",
    "AppointmentRow",
    "AppointmentStatus",
    "BookingCreate",
    "BookingResult",
    "GuestCreate",
    "GuestInvitation",
    "GuestRole",
    "Invitation",
    "LinkRow",
    "Modality",
    "ParticipantKind",
    "ParticipantRead",
    "ParticipantRow",
    "ParticipantState",
    "SessionCreate",
    "SessionRead",
    "SessionRow",
    "SlotRead",
    "SlotRow",
]

Modality = ClinicKind
Level = Literal["good", "fair", "poor", "failed"]


def _text(max_length: int, **kwargs: Any) -> Any:
    return text_field(max_length, **kwargs)


# --- Rows -----------------------------------------------------------------------------------


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
    referral: UUID | None
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


class MyAppointment(BaseModel):
    """An appointment as the person joining it sees it (employee or invited third party)."""

    id: UUID
    participant_id: UUID
    kind: ParticipantKind
    display_name: str
    clinician_name: str
    modality: ClinicKind
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    opens_at: AwareDatetime
    status: AppointmentStatus
    state: ParticipantState
    consent_needed: bool
    precall_done: bool


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
