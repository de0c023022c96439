from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from backend.core.listing import Page
from backend.core.types import Email
from backend.referrals.form import STANDARD_QUESTIONS
from backend.referrals.transitions import Status

EXAMPLE_FORM: dict[str, Any] = {
    "referral_type": "management",
    "site": "Example Depot",
    "urgency_requested": "routine",
    "employee": {
        "full_name": "Alex Example",
        "date_of_birth": "1985-04-12",
        "employee_number": "EMP-00123",
        "phone": "07700 900123",
        "email": "alex.example@employer.example",
        "correspondence_address": "1 Example Street, Exampletown, EX1 1AA",
        "job_title": "Warehouse operative",
        "department": "Logistics",
        "work_location": "Example Depot",
        "employment_start_date": "2019-03-01",
        "contracted_hours": 37.5,
        "working_pattern": "full_time",
        "shift_patterns": ["days"],
    },
    "role": {
        "main_duties": "Picking and packing orders; forklift driving.",
        "hazards": ["manual_handling", "noise"],
    },
    "referrer": {
        "name": "Sam Manager",
        "job_title": "Shift manager",
        "phone": "07700 900456",
        "email": "sam.manager@employer.example",
    },
    "reason": {
        "categories": ["long_term_absence"],
        "concern": "Absent for six weeks with back pain; wants to return.",
        "advice_sought": "Advice on a phased return and adjustments to lifting duties.",
    },
    "absence": {
        "currently_absent": True,
        "absence_start_date": "2026-10-01",
        "record": [{"start_date": "2026-10-01", "reason": "Back pain"}],
    },
    "questions": {"standard": [1, 2, 3], "additional": ["Can they drive a forklift?"]},
    "attestation": {
        "discussed_with_employee": True,
        "discussed_on": "2026-11-01",
        "copy_given_to_employee": True,
    },
}


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


# Free text that is stored: PostgreSQL text and jsonb cannot hold NUL.
PlainText = Annotated[str, AfterValidator(_no_nul)]


class View(StrEnum):
    """How much of a referral the caller sees (``backend.referrals.disclosure`` has the rule)."""

    full = "full"
    employee = "employee"
    progress = "progress"


class ReferralSummary(BaseModel):
    id: UUID
    status: Status
    organisation_id: UUID
    organisation_name: str
    referrer_id: UUID
    employee_name: str
    department: str
    referral_type: str | None
    urgency_requested: str | None
    priority: Literal["routine", "soon", "urgent"] | None
    modality: Literal["phone", "video", "face_to_face"] | None
    acknowledged_at: AwareDatetime | None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    submitted_at: AwareDatetime | None


class ReferralRead(ReferralSummary):
    provider_id: UUID
    employee_email: str = Field(description="Empty in the progress view")
    employee_user_id: UUID | None
    clinician_grade: Literal["ohn", "ohp"] | None
    form: dict[str, Any]
    decision: dict[str, Any]
    version: int
    allowed_actions: list[str] = Field(default_factory=list)
    standard_questions: dict[int, str] = Field(default_factory=lambda: dict(STANDARD_QUESTIONS))
    view: View = Field(
        default=View.full,
        description=(
            "full: the form, files and comments (occupational health, the referrer); employee: the "
            "employee's own referral; progress: its progress and the work-side identity only "
            "(other managers of the department, client administrators)"
        ),
    )


ReferralPage = Page[ReferralSummary]


class ReferralFilters(BaseModel):
    """GET /referrals filters (besides the list kit's ``q``: employee name or payroll number)."""

    model_config = ConfigDict(frozen=True)

    statuses: list[Status] | None = None
    department: str | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None
    overdue: bool | None = None


class TransitionRequest(BaseModel):
    """One state change. Which fields are needed depends on the action (see the state table)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"action": "triage", "modality": "video", "clinician_grade": "ohn", "priority": "routine"}
            ]
        },
    )

    action: str = Field(min_length=1, max_length=40)
    message: PlainText | None = Field(default=None, min_length=1, max_length=5000)
    reason: PlainText | None = Field(default=None, min_length=1, max_length=2000)
    modality: Literal["phone", "video", "face_to_face"] | None = None
    clinician_grade: Literal["ohn", "ohp"] | None = None
    priority: Literal["routine", "soon", "urgent"] | None = None
    slot_id: UUID | None = Field(
        default=None, description="book/reschedule: the clinic slot (only through the booking endpoints)"
    )
    consent_to_assessment: Literal[True] | None = None
    release_choice: Literal["release", "see_first", "withhold"] | None = None
    recipients: list[Email] | None = Field(default=None, min_length=1, max_length=10)


class ReferralEvent(BaseModel):
    id: int
    at: AwareDatetime
    actor_id: UUID | None
    actor_role: str
    action: str
    from_status: Status | None
    to_status: Status
    detail: dict[str, Any]


class CommentCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"body": "Could you send the latest absence record?"}]},
    )

    body: PlainText = Field(min_length=1, max_length=5000)


class Comment(BaseModel):
    id: UUID
    author_id: UUID
    author_name: str
    author_role: str
    body: str
    created_at: AwareDatetime


AttachmentKind = Literal[
    "job_description",
    "absence_record",
    "fit_note",
    "risk_assessment",
    "accident_report",
    "previous_oh_report",
    "meeting_notes",
    "other",
]


class Attachment(BaseModel):
    id: UUID
    kind: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    created_at: AwareDatetime


class Acknowledgement(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"discussed": True, "comment": "Yes, we talked on Monday."}]},
    )

    discussed: bool
    comment: PlainText | None = Field(default=None, max_length=2000)


class LinkRedeem(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"token": "paste-the-token-from-your-link-here"}]}
    )

    token: str = Field(min_length=16, max_length=200)


class AckLink(BaseModel):
    """Returned to the referrer on submission: the single-use link to give the employee."""

    url: str
    expires_at: AwareDatetime


class SubmitResult(BaseModel):
    referral: ReferralRead
    employee_link: AckLink


class LinkSession(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token type, not a secret
    csrf_token: str
    expires_at: AwareDatetime
    referral_id: UUID


# Examples of success responses in the OpenAPI document (checked against these models by a test).
EXAMPLE_SUMMARY: dict[str, Any] = {
    "id": "3f1c9a52-7b6e-4d2a-9c8b-1e0f2a3b4c5d",
    "status": "AWAITING_TRIAGE",
    "organisation_id": "5c9e7a10-2b4d-4e6f-8a1c-3d5e7f9a1b2c",
    "organisation_name": "Example Logistics Ltd",
    "referrer_id": "0b7d2c1e-5f3a-4c8e-9d21-6a4f1e2b3c4d",
    "employee_name": "Alex Example",
    "department": "Logistics",
    "referral_type": "management",
    "urgency_requested": "routine",
    "priority": None,
    "modality": None,
    "acknowledged_at": None,
    "created_at": "2026-11-02T09:14:00Z",
    "updated_at": "2026-11-02T09:20:00Z",
    "submitted_at": "2026-11-02T09:20:00Z",
}
EXAMPLE_REFERRAL: dict[str, Any] = {
    **EXAMPLE_SUMMARY,
    "provider_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    "employee_email": "alex.example@employer.example",
    "employee_user_id": None,
    "clinician_grade": None,
    "form": EXAMPLE_FORM,
    "decision": {},
    "version": 2,
    "allowed_actions": ["withdraw"],
    "standard_questions": {str(k): v for k, v in STANDARD_QUESTIONS.items() if k <= 3},
}
EXAMPLE_PAGE: dict[str, Any] = {
    "items": [EXAMPLE_SUMMARY],
    "total": 1,
    "limit": 50,
    "offset": 0,
    "sort": "-updated",
}
