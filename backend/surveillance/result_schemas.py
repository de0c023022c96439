"""Surveillance checks: what the clinician records, what the rules propose, the signed outcome (§5.2).

Two read models keep the split of §5.3: ``ResultRead`` is the employer's health record (outcome,
restrictions, actions, next due date), ``ResultClinical`` adds the confidential clinical record
(answers, measurements, category) and is only ever built for clinicians.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from backend.core.listing import Page
from backend.surveillance.schemas import ProgrammeKind, TaskType, _no_nul

Outcome = Literal[
    "FIT", "FIT_WITH_RESTRICTIONS", "TEMPORARILY_UNFIT", "UNFIT", "FURTHER_ASSESSMENT", "INCOMPLETE"
]
ReferTo = Literal["OHA", "OHP", "specialist", "HAVS_T3", "HAVS_T4", "retest"]
IncompleteReason = Literal["DNA", "declined", "consent_withheld", "equipment"]
Modality = Literal["in_person", "video", "phone"]
Note = Annotated[str, Field(max_length=5000), AfterValidator(_no_nul)]
Line = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(_no_nul)]

OUTCOME_LABEL: dict[str, str] = {
    "FIT": "Fit",
    "FIT_WITH_RESTRICTIONS": "Fit with restrictions",
    "TEMPORARILY_UNFIT": "Temporarily unfit",
    "UNFIT": "Unfit",
    "FURTHER_ASSESSMENT": "Further assessment needed",
    "INCOMPLETE": "Surveillance could not be completed",
}
REFER_LABEL: dict[str, str] = {
    "OHA": "occupational health adviser",
    "OHP": "occupational health physician",
    "specialist": "specialist",
    "HAVS_T3": "HAVS tier 3 assessment",
    "HAVS_T4": "HAVS tier 4 assessment",
    "retest": "repeat test",
}
INCOMPLETE_LABEL: dict[str, str] = {
    "DNA": "did not attend",
    "declined": "declined",
    "consent_withheld": "consent withheld",
    "equipment": "equipment problem",
}


class ReadingValues(BaseModel):
    """Pulse and SpO2 as measured by a readings stream (or a device in the room)."""

    model_config = ConfigDict(extra="forbid")

    stream_id: UUID | None = None
    pulse_bpm: float | None = Field(default=None, ge=20, le=250)
    spo2_pct: float | None = Field(default=None, ge=50, le=100)
    quality: float | None = Field(default=None, ge=0, le=1, description="Signal quality 0..1")


QUESTIONNAIRE_DOC = (
    "Checked against the programme kind's closed questionnaire (backend/surveillance/rules): "
    "noise, respiratory, skin and night take `symptoms` (named yes/no answers) and an optional "
    "`other_symptoms` note of at most 500 characters; HAVS takes `tier` and its findings; fitness "
    "for task the declared conditions. Anything else is refused (422 naming the field)."
)


class ResultCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "enrolment_id": "00000000-0000-4000-8000-000000000000",
                    "performed_on": "2026-11-20",
                    "modality": "in_person",
                    "questionnaire": {"symptoms": {"tinnitus": False, "ear_infection": False}},
                    "measurements": {
                        "audiogram": {
                            "left": {"1000": 10, "2000": 10, "3000": 15, "4000": 20, "6000": 20},
                            "right": {"1000": 10, "2000": 15, "3000": 15, "4000": 20, "6000": 25},
                        }
                    },
                }
            ]
        },
    )

    enrolment_id: UUID
    performed_on: date
    modality: Modality = "in_person"
    procedure: Line | None = Field(default=None, description="Default: the programme's usual procedure")
    questionnaire: dict[str, Any] = Field(default_factory=dict, max_length=40, description=QUESTIONNAIRE_DOC)
    measurements: dict[str, Any] = Field(default_factory=dict, max_length=40)
    readings: ReadingValues | None = None
    clinical_notes: Note = ""


class ResultUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "questionnaire": {"symptoms": {"tinnitus": True}},
                    "clinical_notes": "Reports tinnitus after shifts.",
                }
            ]
        },
    )

    performed_on: date | None = None
    modality: Modality | None = None
    questionnaire: dict[str, Any] | None = Field(default=None, max_length=40, description=QUESTIONNAIRE_DOC)
    measurements: dict[str, Any] | None = Field(default=None, max_length=40)
    readings: ReadingValues | None = None
    clinical_notes: Note | None = None


class FiredRule(BaseModel):
    rule: str
    explanation: str


class Proposal(BaseModel):
    """What the rule set suggests; the clinician confirms or overrides it with a reason."""

    clinical_category: str | None
    outcome: Outcome
    refer_to: ReferTo | None = None
    employer_actions: list[str] = Field(default_factory=list)
    next_due_in_months: int | None = None
    rules: list[FiredRule]


class Restriction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Line
    duration: Literal["temporary", "permanent"]


class OutcomeSign(BaseModel):
    """The outcome a clinician signs. Differing from the proposal needs ``override_reason``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "outcome": "FIT",
                    "employer_actions": ["Continue the hearing protection programme"],
                    "next_due_date": "2027-11-20",
                    "outcome_consent": True,
                }
            ]
        },
    )

    outcome: Outcome
    clinical_category: Annotated[str, Field(max_length=100)] | None = None
    restrictions: list[Restriction] = Field(default_factory=list, max_length=20)
    review_date: date | None = None
    refer_to: ReferTo | None = None
    due_by: date | None = None
    incomplete_reason: IncompleteReason | None = None
    employer_actions: list[Line] = Field(default_factory=list, max_length=20)
    next_due_date: date
    override_reason: Annotated[str, Field(min_length=5, max_length=2000), AfterValidator(_no_nul)] | None = (
        None
    )
    outcome_consent: bool = Field(
        description="C5: the employee agreed the employer receives the outcome (not health details)"
    )
    assessor_registration: Annotated[str, Field(max_length=60), AfterValidator(_no_nul)] = Field(
        default="", description="The signing clinician's professional registration, e.g. NMC 12A3456E"
    )

    @model_validator(mode="after")
    def _outcome_fields(self) -> OutcomeSign:
        problems = outcome_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def outcome_problems(sign: OutcomeSign) -> list[str]:
    """The fields each outcome needs (§5.2), as messages starting with the field name."""
    problems: list[str] = []
    if sign.outcome == "FIT_WITH_RESTRICTIONS" and not sign.restrictions:
        problems.append("restrictions: give at least one restriction")
    if (
        sign.outcome in ("FIT_WITH_RESTRICTIONS", "TEMPORARILY_UNFIT")
        and sign.review_date is None
        and (sign.outcome == "TEMPORARILY_UNFIT" or any(r.duration == "temporary" for r in sign.restrictions))
    ):
        problems.append("review_date: needed for temporary restrictions or temporary unfitness")
    if sign.outcome == "FURTHER_ASSESSMENT" and (sign.refer_to is None or sign.due_by is None):
        problems.append("refer_to: say who assesses further and by when (due_by)")
    if sign.outcome == "INCOMPLETE" and sign.incomplete_reason is None:
        problems.append("incomplete_reason: say why surveillance could not be completed")
    if not sign.outcome_consent and not (
        sign.outcome == "INCOMPLETE" and sign.incomplete_reason == "consent_withheld"
    ):
        problems.append(
            "outcome_consent: without the employee's consent the only outcome is INCOMPLETE "
            "(consent_withheld)"
        )
    return problems


class ResultRead(BaseModel):
    """The employer's health record of one check: no test data, answers or clinical category."""

    id: UUID
    status: Literal["draft", "signed"]
    enrolment_id: UUID
    programme_id: UUID
    programme_name: str
    programme_kind: ProgrammeKind
    task_type: TaskType | None
    organisation_id: UUID
    organisation_name: str
    person_id: UUID
    full_name: str
    employee_number: str
    department: str
    performed_on: date
    modality: Modality
    procedure: str
    outcome: Outcome | None
    restrictions: list[Restriction]
    review_date: date | None
    refer_to: ReferTo | None
    due_by: date | None
    incomplete_reason: IncompleteReason | None
    employer_actions: list[str]
    next_due_date: date | None
    assessor_name: str
    assessor_role: str
    assessor_registration: str
    signed_at: AwareDatetime | None


class ClinicalRecord(BaseModel):
    questionnaire: dict[str, Any]
    measurements: dict[str, Any]
    readings_stream_id: UUID | None
    proposal: Proposal | None
    clinical_category: str | None
    override_reason: str | None
    clinical_notes: str


class ResultClinical(ResultRead):
    """The whole record, for clinicians only."""

    clinical: ClinicalRecord


ResultPage = Page[ResultRead]


class LetterData(BaseModel):
    """The employee's own results letter: their outcome and their values, explained plainly."""

    result: ResultRead
    date_of_birth: date
    clinical: ClinicalRecord
    explanations: list[tuple[str, str]]
