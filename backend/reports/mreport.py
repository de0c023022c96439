"""The management referral report (§6.1): what the clinician writes, what the employee consented to,
and one renderer that turns both into what the manager will see. Pure: no DB, no request.

``manager_view`` is the only way to the rendered content: the employee's preview and the released
report both go through it, so they are the same content (and hash to the same content SHA-256).
Sections the employee did not consent to are never placed in the view. Clinical details (C3)
are off unless the employee consented to each one.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from backend.core.types import Email
from backend.referrals.form import STANDARD_QUESTIONS


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Para = Annotated[str, Field(max_length=5000), AfterValidator(_no_nul)]
Short = Annotated[str, Field(max_length=300), AfterValidator(_no_nul)]

OPTIONAL_SECTIONS = ("background", "equality_act", "retirement_redeployment")
SECTION_TITLES: dict[str, str] = {
    "purpose": "Purpose and consent",
    "background": "Background (work-relevant)",
    "functional_capability": "Current functional capability",
    "fitness_opinion": "Fitness for work",
    "answers": "Answers to your questions",
    "adjustments": "Adjustments",
    "return_to_work": "Return to work and rehabilitation",
    "prognosis": "Prognosis, future attendance and performance",
    "equality_act": "Equality Act 2010",
    "retirement_redeployment": "Ill-health retirement or redeployment",
    "review": "Review and follow-up",
    "clinical_details": "Clinical details shared with the employee's consent",
    "advisory": "Advisory statement",
}
FITNESS = {
    "fit": "Fit for their role",
    "fit_with_adjustments": "Fit for their role with adjustments",
    "temporarily_unfit": "Temporarily unfit for their role",
    "unfit": "Unfit for their role",
}
ADVISORY = (
    "Occupational health gives advice; decisions about employment, including whether adjustments are "
    "reasonable, are for management."
)
EQUALITY_CAVEAT = (
    "This is an opinion only: whether someone is disabled under the Act is decided by a tribunal or court."
)


OptionalSection = Literal["background", "equality_act", "retirement_redeployment"]


def _default_sections() -> dict[OptionalSection, bool]:
    """Background is released by default; the Equality Act opinion and retirement advice need a yes."""
    return {"background": True, "equality_act": False, "retirement_redeployment": False}


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: Short
    answer: Para


class ClinicalDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Annotated[str, Field(pattern="^[a-z0-9_]{1,40}$")]
    text: Para
    reason: Short = Field(description="Why sharing it helps the employee")


class ReportContent(BaseModel):
    """What the clinician writes, in structured sections."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "assessment_date": "2026-11-20",
                    "clinician_registration": "NMC 12A3456E",
                    "background": "Works on the warehouse floor; six weeks off work with back pain.",
                    "functional_capability": "Can stand for an hour; cannot lift over 10 kg for now.",
                    "fitness_opinion": "fit_with_adjustments",
                    "fitness_detail": "Fit for a phased return without heavy lifting.",
                    "answers": [{"question": "Can they drive a forklift?", "answer": "Yes, from week two."}],
                    "adjustments": "No lifting over 10 kg for 6 weeks; phased hours.",
                    "return_to_work": "Four-week phased return, starting at 50% hours.",
                    "prognosis": "Likely to return to full duties within 8 weeks.",
                    "review": "Review in 6 weeks.",
                }
            ]
        },
    )

    assessment_date: date | None = None
    clinician_registration: Short = ""
    background: Para = ""
    functional_capability: Para = ""
    fitness_opinion: Literal["fit", "fit_with_adjustments", "temporarily_unfit", "unfit"] | None = None
    fitness_detail: Para = ""
    answers: list[Answer] = Field(default_factory=list, max_length=30)
    adjustments: Para = ""
    return_to_work: Para = ""
    prognosis: Para = ""
    equality_act_opinion: Literal["likely", "unlikely"] | None = None
    equality_act_reasoning: Para = ""
    retirement_redeployment: Para = ""
    review: Para = ""
    clinical_details: list[ClinicalDetail] = Field(default_factory=list, max_length=10)


class ReportConsent(BaseModel):
    """C2 (release, to whom) and C3 (clinical details), recorded by the clinician with the employee."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "recipients": ["sam.manager@employer.example"],
                    "sections": {"background": True, "equality_act": False, "retirement_redeployment": False},
                    "clinical_details": [],
                    "method": "verbal_recorded",
                    "information_given": (
                        "Explained what the report covers, who receives it and that they may share it "
                        "on a need-to-know basis; offered to show it first."
                    ),
                }
            ]
        },
    )

    recipients: list[Email] = Field(min_length=1, max_length=10)
    sections: dict[OptionalSection, bool] = Field(default_factory=_default_sections)
    clinical_details: list[Annotated[str, Field(pattern="^[a-z0-9_]{1,40}$")]] = Field(
        default_factory=list,
        max_length=10,
        description="C3: keys of clinical details the employee agreed to share",
    )
    method: Literal["verbal_recorded", "e_signature"]
    release_choice: Literal["release", "see_first", "withhold"] | None = Field(
        default=None,
        description="Frozen by the server at release from the referral's record; ignored on input",
    )
    information_given: Annotated[str, Field(min_length=10, max_length=2000), AfterValidator(_no_nul)]


class ReportDraft(BaseModel):
    """The report as the clinician is writing it: what was saved, and what it must answer."""

    content: ReportContent
    consent: ReportConsent | None
    questions: list[str]  # the referral's questions, each needing an answer
    editable: bool  # only while drafting (consultation or report drafting)


class Section(BaseModel):
    key: str
    title: str
    paragraphs: list[str] = Field(default_factory=list)
    pairs: list[tuple[str, str]] = Field(default_factory=list)


class ReportView(BaseModel):
    """Exactly what the manager will see: the preview and the released report are both this."""

    title: str
    header: list[tuple[str, str]]
    sections: list[Section]


class Addendum(BaseModel):
    on: str  # "20 November 2026", as printed on the report
    text: str


class ReportRead(ReportView):
    """The report as a page shows it: the same view, its addenda, and whether it has been released."""

    addenda: list[Addendum] = Field(default_factory=list)
    released: bool = False


class ReferralFacts(BaseModel):
    """What the renderer needs from the referral itself."""

    employee_name: str
    employee_number: str
    organisation_name: str
    referrer_name: str
    reasons: list[str]
    questions: list[str]
    modality: str | None
    clinician_name: str
    release_choice: str | None


def questions_asked(form: dict[str, Any]) -> list[str]:
    asked = form.get("questions") or {}
    standard = [STANDARD_QUESTIONS[n] for n in asked.get("standard", []) if n in STANDARD_QUESTIONS]
    return [*standard, *asked.get("additional", [])]


def missing(content: ReportContent, facts: ReferralFacts) -> list[str]:
    """Fields a complete report needs: the core sections and an answer to every question asked."""
    gaps = [
        name
        for name in ("functional_capability", "fitness_opinion", "adjustments", "prognosis", "review")
        if not getattr(content, name)
    ]
    if content.assessment_date is None:
        gaps.append("assessment_date")
    answered = {a.question.strip() for a in content.answers if a.answer.strip()}
    gaps += [f"answers: {q}" for q in facts.questions if q.strip() not in answered]
    return gaps


def _purpose(facts: ReferralFacts, consent: ReportConsent) -> Section:
    saw = (
        "Yes"
        if facts.release_choice == "see_first"
        else "No (the employee chose release without seeing it first)"
    )
    return Section(
        key="purpose",
        title=SECTION_TITLES["purpose"],
        pairs=[
            ("Reason for referral", ", ".join(facts.reasons) or "—"),
            (
                "Consent",
                "The employee consented to the assessment and to the release of this report to: "
                + ", ".join(consent.recipients),
            ),
            ("Employee saw the report before release", saw),
        ],
    )


def _optional(content: ReportContent, consent: ReportConsent) -> dict[str, Section | None]:
    allowed = consent.sections
    equality = None
    if allowed.get("equality_act") and content.equality_act_opinion:
        equality = Section(
            key="equality_act",
            title=SECTION_TITLES["equality_act"],
            paragraphs=[
                f"In my opinion the Act is {content.equality_act_opinion} to apply.",
                content.equality_act_reasoning,
                EQUALITY_CAVEAT,
            ],
        )
    return {
        "background": Section(
            key="background", title=SECTION_TITLES["background"], paragraphs=[content.background]
        )
        if allowed.get("background") and content.background
        else None,
        "equality_act": equality,
        "retirement_redeployment": Section(
            key="retirement_redeployment",
            title=SECTION_TITLES["retirement_redeployment"],
            paragraphs=[content.retirement_redeployment],
        )
        if allowed.get("retirement_redeployment") and content.retirement_redeployment
        else None,
    }


def _text(key: str, *paragraphs: str) -> Section | None:
    kept = [p for p in paragraphs if p]
    return Section(key=key, title=SECTION_TITLES[key], paragraphs=kept) if kept else None


def manager_view(facts: ReferralFacts, content: ReportContent, consent: ReportConsent) -> ReportView:
    optional = _optional(content, consent)
    details = [
        (d.key.replace("_", " ").capitalize(), d.text)
        for d in content.clinical_details
        if d.key in consent.clinical_details
    ]
    sections = [
        _purpose(facts, consent),
        optional["background"],
        _text("functional_capability", content.functional_capability),
        _text("fitness_opinion", FITNESS.get(content.fitness_opinion or "", ""), content.fitness_detail),
        Section(
            key="answers",
            title=SECTION_TITLES["answers"],
            pairs=[(a.question, a.answer) for a in content.answers],
        )
        if content.answers
        else None,
        _text("adjustments", content.adjustments),
        _text("return_to_work", content.return_to_work),
        _text("prognosis", content.prognosis),
        optional["equality_act"],
        optional["retirement_redeployment"],
        _text("review", content.review),
        Section(key="clinical_details", title=SECTION_TITLES["clinical_details"], pairs=details)
        if details
        else None,
        _text("advisory", ADVISORY),
    ]
    header = [
        ("Employee", f"{facts.employee_name} ({facts.employee_number or 'no employee number'})"),
        ("Employer", facts.organisation_name),
        ("Referred by", facts.referrer_name),
        (
            "Clinician",
            ", ".join(part for part in (facts.clinician_name, content.clinician_registration) if part),
        ),
        ("Assessment date", content.assessment_date.strftime("%d %B %Y") if content.assessment_date else "—"),
        (
            "Assessment by",
            {"phone": "telephone", "video": "video", "face_to_face": "in person"}.get(
                facts.modality or "", "—"
            ),
        ),
    ]
    return ReportView(title="Occupational health report", header=header, sections=[s for s in sections if s])
