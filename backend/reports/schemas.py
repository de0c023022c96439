from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from backend.core.types import Email

DocumentKind = Literal[
    "hs_certificate",
    "hs_results_letter",
    "aggregate_report",
    "management_report",
    "management_report_preview",
]


class StoredDocument(BaseModel):
    id: UUID
    kind: DocumentKind
    issued_at: AwareDatetime
    sha256: str
    content_sha256: str
    data: bytes | None


class VerifyRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}]
        },
    )

    sha256: str = Field(pattern="^[0-9a-fA-F]{64}$", description="SHA-256 of the PDF file, in hex")


class Verification(BaseModel):
    """Whether a copy matches what was issued. Holds no personal data."""

    document_id: UUID
    matches: bool
    kind: DocumentKind
    issued_at: AwareDatetime


class ReleaseRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"recipients": ["sam.manager@employer.example"]}]}
    )

    recipients: list[Email] = Field(min_length=1, max_length=10)


class CorrectionRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"section": "background", "message": "I started in 2019, not 2017."}]
        },
    )

    section: str = Field(min_length=1, max_length=60, pattern="^[a-z_]+$")
    message: str = Field(min_length=1, max_length=5000)


class AddendumRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "Clarification: the 10 kg limit applies to single lifts."}]},
    )

    text: str = Field(min_length=1, max_length=5000)


class MyReport(BaseModel):
    """One of the signed-in employee's management reports: where it stands, and what they can do."""

    referral_id: UUID
    organisation_name: str
    submitted_at: AwareDatetime | None
    stage: Literal["to_review", "approved", "released", "not_released"] = Field(
        description="to_review: waiting for you to approve, ask for corrections or withhold it; "
        "approved: you approved it, release to come; released: sent to the named recipients; "
        "not_released: you withheld it"
    )
    review_since: AwareDatetime | None = Field(description="When it was sent to you for review")
    released_at: AwareDatetime | None
