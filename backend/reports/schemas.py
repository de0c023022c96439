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


class DocumentCheck(BaseModel):
    """The public answer about a copy of a document: genuine or not, and nothing more."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"valid": True}]})

    valid: bool


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


# Examples of success responses in the OpenAPI document (checked against the models by a test).
EXAMPLE_DOCUMENT_HEADERS = {
    "X-Document-Id": {
        "description": "The id under which this document was issued (for `/documents/{id}/verify`)",
        "schema": {"type": "string", "format": "uuid"},
        "example": "8d7c6b5a-4e3f-4a2b-9c1d-0e9f8a7b6c5d",
    },
    "X-Document-SHA256": {
        "description": "SHA-256 of the file as issued",
        "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "example": "9f2b5c0e8a7d6f4b3c2a1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b",
    },
}
EXAMPLE_REPORT_VIEW = {
    "title": "Occupational health report",
    "header": [
        ["Employee", "Alex Example (EMP-00123)"],
        ["Referred by", "Sam Manager, Example Logistics Ltd"],
        ["Clinician", "Jo Nurse, NMC 12A3456E"],
        ["Assessed", "20 November 2026, by video"],
    ],
    "sections": [
        {
            "key": "fitness",
            "title": "Fitness for work",
            "paragraphs": ["Fit with adjustments: a phased return without heavy lifting."],
            "pairs": [],
        },
        {
            "key": "adjustments",
            "title": "Adjustments",
            "paragraphs": ["No single lifts over 10 kg for six weeks."],
            "pairs": [],
        },
    ],
}
_CELL_STAR = {"shown": "*", "value": None}
EXAMPLE_AGGREGATE = {
    "organisation_name": "Example Logistics Ltd",
    "as_of": "2026-12-01",
    "period": "2025-12-01 to 2026-12-01",
    "coverage": [
        {
            "programme": "Noise: warehouse",
            "kind": "noise",
            "in_scope": {"shown": "25", "value": 25},
            "current": {"shown": "20", "value": 20},
            "overdue": _CELL_STAR,
            "coverage": "80%",
        }
    ],
    "coverage_total": {
        "programme": "All programmes",
        "kind": "all",
        "in_scope": {"shown": "25", "value": 25},
        "current": {"shown": "20", "value": 20},
        "overdue": _CELL_STAR,
        "coverage": "80%",
    },
    "outcome_labels": {"FIT": "Fit", "FIT_WITH_RESTRICTIONS": "Fit with restrictions"},
    "outcomes": [
        {
            "programme": "Noise: warehouse",
            "checks": {"shown": "20", "value": 20},
            "outcomes": {"FIT": {"shown": "15", "value": 15}, "FIT_WITH_RESTRICTIONS": _CELL_STAR},
        }
    ],
    "quarters": [
        {
            "quarter": "2026 Q4",
            "checks": {"shown": "10", "value": 10},
            "referrals": _CELL_STAR,
            "released": _CELL_STAR,
            "median_days_to_triage": "-",
            "median_days_to_release": "-",
        }
    ],
    "rules": ["0 stays 0; 1 to 7 are shown as *; other counts are rounded to the nearest 5."],
}


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
