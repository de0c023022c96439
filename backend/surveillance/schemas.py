"""Programmes, people, enrolments and recall lists (domain.md §5.1)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from backend.core.types import Email
from backend.surveillance.recall import Interval

ProgrammeKind = Literal["noise", "havs", "respiratory", "skin", "night", "fitness_for_task"]
TaskType = Literal["confined_space", "work_at_height", "rpe", "safety_critical", "driving", "other"]
Sex = Literal["female", "male"]

PROGRAMME_LABEL: dict[str, str] = {
    "noise": "Noise (audiometry)",
    "havs": "Hand-arm vibration (HAVS)",
    "respiratory": "Respiratory",
    "skin": "Skin (dermatitis)",
    "night": "Night work",
    "fitness_for_task": "Fitness for task",
}


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]
OptText = Annotated[str, Field(max_length=200), AfterValidator(_no_nul)]


class Band(BaseModel):
    """A provider standard for one measurement: inside [normal_min, normal_max] is normal;
    outside [refer_below, refer_above] needs a clinician's assessment; in between, a retest."""

    model_config = ConfigDict(extra="forbid")

    normal_min: float | None = None
    normal_max: float | None = None
    refer_below: float | None = None
    refer_above: float | None = None


class FitnessStandards(BaseModel):
    """Pulse and SpO2 bands for fitness-for-task medicals: provider standards, not law (§5.1)."""

    model_config = ConfigDict(extra="forbid")

    pulse_bpm: Band = Field(
        default_factory=lambda: Band(normal_min=50, normal_max=100, refer_below=40, refer_above=120)
    )
    spo2_pct: Band = Field(default_factory=lambda: Band(normal_min=95, refer_below=92))


class ProgrammeCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "name": "Workshop noise",
                    "kind": "noise",
                    "recall": [{"months": 12}, {"months": 12}, {"months": 36}],
                }
            ]
        },
    )

    organisation_id: UUID | None = Field(
        default=None, description="The employer; client administrators may leave it out (their own)"
    )
    name: Text
    kind: ProgrammeKind
    task_type: TaskType | None = Field(default=None, description="Only for fitness_for_task")
    recall: list[Interval] | None = Field(
        default=None, min_length=1, max_length=6, description="Default: the kind's usual schedule"
    )
    standards: FitnessStandards | None = None

    @model_validator(mode="after")
    def _task_type(self) -> ProgrammeCreate:
        if (self.kind == "fitness_for_task") != (self.task_type is not None):
            raise ValueError("task_type: give a task type for fitness_for_task programmes, and only for them")
        if self.standards is not None and self.kind != "fitness_for_task":
            raise ValueError("standards: pulse and SpO2 standards apply to fitness_for_task programmes only")
        return self


class Programme(BaseModel):
    id: UUID
    organisation_id: UUID
    provider_id: UUID
    kind: ProgrammeKind
    task_type: TaskType | None
    name: str
    recall: list[Interval]
    standards: dict[str, Any]
    created_at: AwareDatetime


def _birth_date(value: date) -> date:
    if not date(1900, 1, 1) <= value <= date(2100, 1, 1):
        raise ValueError("not a plausible date of birth")
    return value


class PersonIn(BaseModel):
    """The employee as the employer's health record names them (§5.3)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: Email
    full_name: Text
    employee_number: Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_no_nul)]
    date_of_birth: Annotated[date, AfterValidator(_birth_date)]
    sex: Sex = Field(description="Audiometry norms are by sex (HSE L108)")
    department: OptText = ""
    job_title: OptText = ""


class EnrolmentCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "person": {
                        "email": "alex.example@employer.example",
                        "full_name": "Alex Example",
                        "employee_number": "EMP-00123",
                        "date_of_birth": "1985-04-12",
                        "sex": "male",
                        "department": "Logistics",
                        "job_title": "Warehouse operative",
                    },
                    "exposure": "Forklift and conveyor area, 87 dB(A) LEP,d",
                    "start_date": "2026-11-02",
                }
            ]
        },
    )

    person: PersonIn
    exposure: Annotated[str, Field(max_length=1000), AfterValidator(_no_nul)] = ""
    start_date: date | None = Field(default=None, description="Start of exposure; the baseline is due then")


class Enrolment(BaseModel):
    id: UUID
    programme_id: UUID
    programme_name: str
    programme_kind: ProgrammeKind
    person_id: UUID
    full_name: str
    employee_number: str
    department: str
    exposure: str
    start_date: date
    next_due_date: date
    checks_done: int
    last_check_date: date | None


class ImportRow(BaseModel):
    row: int = Field(description="Line number in the file (the header is line 1)")
    status: Literal["imported", "error"]
    enrolment_id: UUID | None = None
    errors: list[dict[str, str]] = Field(default_factory=list)


class ImportReport(BaseModel):
    """Valid rows are imported; invalid rows are reported and nothing of them is stored."""

    imported: int
    failed: int
    rows: list[ImportRow]


class RecallItem(BaseModel):
    """One line of a named due/overdue list (client administrators and clinicians only)."""

    enrolment_id: UUID
    programme_id: UUID
    programme_name: str
    full_name: str
    employee_number: str
    department: str
    next_due_date: date
    state: Literal["overdue", "due", "current"]


class EnrolmentPerson(BaseModel):
    """What the results service needs to know about the enrolled person and programme."""

    enrolment_id: UUID
    programme_id: UUID
    programme_kind: ProgrammeKind
    programme_name: str
    task_type: TaskType | None
    recall: list[Interval]
    standards: dict[str, Any]
    organisation_id: UUID
    provider_id: UUID
    person_id: UUID
    full_name: str
    email: str
    department: str
    date_of_birth: date
    sex: Sex
    checks_done: int


class ProgrammeCounts(BaseModel):
    """Unsuppressed counts for one programme: for the aggregate report, which suppresses them."""

    programme_id: UUID
    name: str
    kind: ProgrammeKind
    in_scope: int
    current: int
    overdue: int
    outcomes: dict[str, int] = Field(default_factory=dict)


class SurveillanceCounts(BaseModel):
    programmes: list[ProgrammeCounts]
    checks_by_quarter: dict[date, int]
