"""The management referral form (domain.md §2), validated with Pydantic.

One strict model describes a complete, submittable referral. Drafts are checked against the
same model but may leave required fields out: every other problem (wrong type, bad e-mail,
unknown field, too long) is refused even in a draft.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

import phonenumbers
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from backend.core.clock import utc_now
from backend.core.types import Email

Text = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(min_length=1, max_length=5000)]


def _uk_phone(value: str) -> str:
    try:
        parsed = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError("not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _not_future(value: date) -> date:
    if value > utc_now().date():
        raise ValueError("must not be in the future")
    return value


def _birth_date(value: date) -> date:
    age = (utc_now().date() - value).days / 365.25
    if not 14 <= age <= 100:
        raise ValueError("gives an age outside 14 to 100 years")
    return value


Phone = Annotated[str, Field(max_length=40), AfterValidator(_uk_phone)]
PastDate = Annotated[date, AfterValidator(_not_future)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReferralType(StrEnum):
    management = "management"
    health_surveillance = "health_surveillance"
    workplace_assessment = "workplace_assessment"
    other = "other"


class ShiftPattern(StrEnum):
    days = "days"
    nights = "nights"
    twelve_hour = "twelve_hour"
    rotating = "rotating"
    on_call = "on_call"
    weekends = "weekends"


class Hazard(StrEnum):
    manual_handling = "manual_handling"
    vibrating_tools = "vibrating_tools"
    noise = "noise"
    driving_car_van = "driving_car_van"
    driving_lgv_pcv = "driving_lgv_pcv"
    work_at_height = "work_at_height"
    confined_spaces = "confined_spaces"
    rpe = "rpe"
    dusts_fumes_sensitisers = "dusts_fumes_sensitisers"
    skin_exposure = "skin_exposure"
    night_lone_unsociable = "night_lone_unsociable"
    dse = "dse"
    food_handling = "food_handling"
    vulnerable_clients = "vulnerable_clients"
    psychological_stress = "psychological_stress"
    other = "other"


SAFETY_CRITICAL = frozenset(
    {Hazard.driving_lgv_pcv, Hazard.work_at_height, Hazard.confined_spaces, Hazard.driving_car_van}
)


class ReasonCategory(StrEnum):
    long_term_absence = "long_term_absence"
    recurrent_short_term_absence = "recurrent_short_term_absence"
    performance_or_conduct = "performance_or_conduct"
    work_related_ill_health = "work_related_ill_health"
    accident_at_work = "accident_at_work"
    rehabilitation_return_to_work = "rehabilitation_return_to_work"
    adjustments_equality_act = "adjustments_equality_act"
    ill_health_retirement = "ill_health_retirement"
    other = "other"


ABSENCE_REASONS = frozenset({ReasonCategory.long_term_absence, ReasonCategory.recurrent_short_term_absence})

STANDARD_QUESTIONS: dict[int, str] = {
    1: "Is the employee currently fit to carry out their role (all duties)? Are there tasks they cannot do?",
    2: "If absent: when is a return likely; full or phased return; what should a phased return look like?",
    3: "What adjustments (temporary or permanent) would help attendance, performance or return?",
    4: "Is there an underlying health condition likely to affect future attendance or performance?",
    5: "Is the condition caused or made worse by work?",
    6: "Could medication side effects affect safe performance of the role?",
    7: "Is the employee likely to be considered disabled under the Equality Act 2010?",
    8: "What is the prognosis or timescale for improvement, in functional terms?",
    9: "Should redeployment be considered; what type of role or hours would suit?",
    10: "Should ill-health retirement be considered?",
    11: "Are further supports or interventions (e.g. EAP, physiotherapy) recommended?",
    12: "Is a review appointment recommended, and when?",
}


class Employee(Strict):
    full_name: Text
    date_of_birth: Annotated[date, AfterValidator(_birth_date)]
    employee_number: Annotated[str, Field(min_length=1, max_length=40)]
    phone: Phone
    email: Email
    correspondence_address: Annotated[str, Field(min_length=5, max_length=500)]
    job_title: Text
    department: Text
    work_location: Text
    employment_start_date: PastDate
    role_start_date: PastDate | None = None
    contracted_hours: float = Field(gt=0, le=80)
    working_pattern: Literal["full_time", "part_time"]
    shift_patterns: list[ShiftPattern] = Field(min_length=1, max_length=6)
    access_needs: str | None = Field(default=None, max_length=1000)


class RoleAndHazards(Strict):
    main_duties: LongText
    hazards: list[Hazard] = Field(default_factory=list, max_length=16)
    hazard_other: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _other_described(self) -> RoleAndHazards:
        if Hazard.other in self.hazards and not self.hazard_other:
            raise ValueError("hazard_other: describe the 'other' hazard")
        return self


class Contact(Strict):
    name: Text
    job_title: Text | None = None
    phone: Phone | None = None
    email: Email | None = None


class Referrer(Strict):
    name: Text
    job_title: Text
    phone: Phone
    email: Email
    hr_contact: Contact | None = None
    second_line_manager: Contact | None = None


class Reason(Strict):
    categories: list[ReasonCategory] = Field(min_length=1, max_length=9)
    concern: Annotated[str, Field(min_length=10, max_length=5000)]
    advice_sought: Annotated[str, Field(min_length=10, max_length=5000)]
    health_condition_reported_by_employee: str | None = Field(default=None, max_length=2000)
    actions_taken: str | None = Field(default=None, max_length=5000)
    confidential_note_to_oh: str | None = Field(default=None, max_length=5000)


class AbsencePeriod(Strict):
    start_date: PastDate
    end_date: date | None = None
    reason: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _ordered(self) -> AbsencePeriod:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class Absence(Strict):
    currently_absent: bool
    absence_start_date: PastDate | None = None
    expected_return_date: date | None = None
    record: list[AbsencePeriod] = Field(default_factory=list, max_length=100)
    trigger_reached: bool | None = None

    @model_validator(mode="after")
    def _start_when_absent(self) -> Absence:
        if self.currently_absent and self.absence_start_date is None:
            raise ValueError("absence_start_date: required when the employee is currently absent")
        return self


def _no_repeats(value: list[int]) -> list[int]:
    if len(set(value)) != len(value):
        raise ValueError("a question is listed twice")
    return value


class Questions(Strict):
    # Checked field by field (not in the section rule below), so that drafts are refused them too.
    standard: Annotated[
        list[Annotated[int, Field(ge=min(STANDARD_QUESTIONS), le=max(STANDARD_QUESTIONS))]],
        Field(max_length=12),
        AfterValidator(_no_repeats),
    ] = Field(default_factory=list)
    additional: list[Annotated[str, Field(min_length=1, max_length=1000)]] = Field(
        default_factory=list, max_length=10
    )

    @model_validator(mode="after")
    def _some_question(self) -> Questions:
        if not self.standard and not self.additional:
            raise ValueError("ask at least one standard or additional question")
        return self


class Attestation(Strict):
    discussed_with_employee: Literal[True] = Field(
        description=(
            "I have discussed this referral, its reasons and all information provided with the employee"
        )
    )
    discussed_on: PastDate
    copy_given_to_employee: Literal[True]
    employee_agrees_to_attend: bool | None = None


class ReferralForm(Strict):
    """Everything a complete management referral holds (domain.md §2)."""

    referral_type: ReferralType
    site: str | None = Field(default=None, max_length=200)
    purchase_order: str | None = Field(default=None, max_length=100)
    urgency_requested: Literal["routine", "urgent"] = "routine"
    urgency_reason: str | None = Field(default=None, max_length=1000)
    employee: Employee
    role: RoleAndHazards
    referrer: Referrer
    reason: Reason
    absence: Absence
    questions: Questions
    attestation: Attestation

    @model_validator(mode="after")
    def _cross_checks(self) -> ReferralForm:
        if self.urgency_requested == "urgent" and not self.urgency_reason:
            raise ValueError("urgency_reason: say why the referral is urgent")
        if set(self.reason.categories) & ABSENCE_REASONS and not self.absence.record:
            raise ValueError("absence.record: give the absence record for an absence-related referral")
        return self
