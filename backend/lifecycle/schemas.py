"""Retention reports, subject-access requests and exports, rectification and erasure."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from backend.core.types import Email
from backend.referrals.form import Phone
from backend.referrals.schemas import PlainText

# -- retention ---------------------------------------------------------------------------------


class ClassCount(BaseModel):
    record_class: str
    action: Literal["delete", "erase", "drop_partition", "review"]
    cutoff: AwareDatetime
    affected: int = Field(description="Rows deleted or erased (a dry run: rows due); partitions dropped")
    pass_id: UUID = Field(description="The retention_pass row, named by this pass's audit row")


class RetentionReport(BaseModel):
    run_id: UUID
    now: AwareDatetime
    dry_run: bool
    classes: list[ClassCount]

    def lines(self) -> list[str]:
        mode = "dry run: due" if self.dry_run else "done"
        return [
            f"{c.record_class:<24} {c.action:<15} {c.affected:>9}"
            f"  ({mode}; before {c.cutoff:%Y-%m-%d %H:%M}Z)"
            for c in self.classes
        ]


# -- the person --------------------------------------------------------------------------------


class PersonRow(BaseModel):
    id: UUID
    email: str
    full_name: str
    role: str
    organisation_id: UUID
    disabled_at: datetime | None


class SubjectQuery(BaseModel):
    """Whose records: an account id, or an e-mail address (people referred or under surveillance
    may have no account)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"email": "alex.example@employer.example"}]},
    )
    user_id: UUID | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _one_of(self) -> SubjectQuery:
        if (self.user_id is None) == (self.email is None):
            raise ValueError("give either user_id or email")
        return self


class Section(BaseModel):
    """One kind of record in an export: its rows, and whether the row limit cut it short."""

    name: str
    rows: list[dict[str, Any]]
    truncated: bool = False


class SubjectAccessExport(BaseModel):
    """Everything held on one person at the provider's client employers (UK GDPR Art. 15)."""

    produced_at: AwareDatetime
    produced_by: UUID
    provider_id: UUID
    subject_user_id: UUID | None
    subject_email: str
    sections: list[Section]


EXAMPLE_EXPORT: dict[str, Any] = {
    "produced_at": "2026-12-02T10:00:00Z",
    "produced_by": "4b7a2a7e-59d5-4d8e-9a3b-3c1b7c6f2a10",
    "provider_id": "0d5c8c3e-3c7e-4d3a-8c55-7d8a7f3e9b21",
    "subject_user_id": "9f1c6e1e-6a55-4a59-9c3c-1b7a2d5e8f40",
    "subject_email": "alex.example@employer.example",
    "sections": [
        {
            "name": "account",
            "rows": [
                {"email": "alex.example@employer.example", "full_name": "Alex Example", "role": "employee"}
            ],
            "truncated": False,
        }
    ],
}

# -- rectification and erasure -----------------------------------------------------------------

Field_ = Literal["full_name", "email", "phone", "date_of_birth"]


class DetailsChange(BaseModel):
    """New values for the fields to correct (others are left as they are) and why."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "full_name": "Alex Exampleton",
                    "date_of_birth": "1985-04-21",
                    "reason": "Employee's written request: surname and date of birth were recorded wrongly.",
                }
            ]
        },
    )
    full_name: PlainText | None = Field(default=None, min_length=1, max_length=200)
    email: Email | None = None
    phone: Phone | None = None
    date_of_birth: date | None = None
    reason: PlainText = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _something(self) -> DetailsChange:
        if not any(v is not None for v in (self.full_name, self.email, self.phone, self.date_of_birth)):
            raise ValueError("name at least one of full_name, email, phone, date_of_birth")
        return self


class DetailChange(BaseModel):
    field: Field_
    old_value: str | None
    new_value: str | None


class Rectification(BaseModel):
    user_id: UUID
    changes: list[DetailChange] = Field(
        description="Each field changed, old and new (unchanged fields omitted)"
    )


class Erasure(BaseModel):
    user_id: UUID
    erased_at: AwareDatetime
    draft_referrals_erased: int


EXAMPLE_RECTIFICATION: dict[str, Any] = {
    "user_id": "9f1c6e1e-6a55-4a59-9c3c-1b7a2d5e8f40",
    "changes": [{"field": "full_name", "old_value": "Alex Example", "new_value": "Alex Exampleton"}],
}
