"""The individual surveillance certificate (§6.2) and the employee's results letter. Pure rendering.

The certificate is built from ``ResultRead``, the employer's health record, so it cannot show
test values, questionnaire answers, the clinical category or readings: they are not in its input.
"""

from __future__ import annotations

from typing import Any

from reportlab.platypus import Flowable

from backend.reports.render import Stamp, build, bullets, content_hash, facts, para, section
from backend.surveillance.result_schemas import (
    INCOMPLETE_LABEL,
    OUTCOME_LABEL,
    REFER_LABEL,
    LetterData,
    ResultRead,
)
from backend.surveillance.schemas import PROGRAMME_LABEL

CONFIDENTIALITY = (
    "The clinical results of this check were explained to the employee and are held in confidence by the "
    "occupational health provider. This certificate gives the employment outcome only."
)
_MODALITY = {"in_person": "in person", "video": "by video", "phone": "by telephone"}


def _date(value: Any) -> str:
    return value.strftime("%d %B %Y") if value else "—"


def _review(duration: str, review_date: Any) -> str:
    return f", review {_date(review_date)}" if duration == "temporary" else ""


def _programme(result: ResultRead) -> str:
    label = PROGRAMME_LABEL[result.programme_kind]
    if result.task_type:
        label += f" ({result.task_type.replace('_', ' ')})"
    return f"{result.programme_name} — {label}"


def certificate_content(result: ResultRead) -> dict[str, Any]:
    """Exactly what the certificate shows, as data (hashed for the content fingerprint)."""
    restrictions = [
        f"{r.text} ({r.duration}{_review(r.duration, result.review_date)})" for r in result.restrictions
    ]
    outcome = OUTCOME_LABEL[result.outcome or "INCOMPLETE"]
    if result.outcome == "FURTHER_ASSESSMENT" and result.refer_to:
        outcome += f": {REFER_LABEL[result.refer_to]} by {_date(result.due_by)}"
    if result.outcome == "INCOMPLETE" and result.incomplete_reason:
        outcome += f" ({INCOMPLETE_LABEL[result.incomplete_reason]})"
    if result.outcome == "TEMPORARILY_UNFIT":
        outcome += f" until review on {_date(result.review_date)}"
    assessor = f"{result.assessor_name}, {result.assessor_role}"
    if result.assessor_registration:
        assessor += f" ({result.assessor_registration})"
    return {
        "employee": [
            ("Name", result.full_name),
            ("Employee number", result.employee_number),
            ("Employer", result.organisation_name),
            ("Department", result.department or "—"),
        ],
        "check": [
            ("Programme", _programme(result)),
            ("Procedure", result.procedure),
            ("Date", f"{_date(result.performed_on)} ({_MODALITY[result.modality]})"),
            ("Assessed by", assessor),
        ],
        "outcome": outcome,
        "restrictions": restrictions,
        "employer_actions": list(result.employer_actions),
        "next_due": _date(result.next_due_date),
        "result_id": str(result.id),
    }


def render_certificate(result: ResultRead, stamp: Stamp) -> bytes:
    content = certificate_content(result)
    story: list[Flowable] = [
        para("Health surveillance certificate", "title"),
        facts(content["employee"]),
        section("Check", facts(content["check"])),
        section("Outcome", para(content["outcome"])),
        section("Restrictions", *bullets(content["restrictions"], "No restrictions.")),
        section("Actions for the employer", *bullets(content["employer_actions"], "No actions.")),
        section("Next check due", para(content["next_due"])),
        section("Confidentiality", para(CONFIDENTIALITY, "small")),
    ]
    return build("Health surveillance certificate", story, stamp, subject=f"Result {result.id}")


def certificate_hash(result: ResultRead) -> str:
    return content_hash(certificate_content(result))


def letter_content(letter: LetterData) -> dict[str, Any]:
    result = letter.result
    return {
        "name": result.full_name,
        "programme": _programme(result),
        "date": _date(result.performed_on),
        "outcome": certificate_content(result)["outcome"],
        "values": [list(pair) for pair in letter.explanations],
        "restrictions": [r.text for r in result.restrictions],
        "next_due": _date(result.next_due_date),
    }


def render_letter(letter: LetterData, stamp: Stamp) -> bytes:
    content = letter_content(letter)
    story: list[Flowable] = [
        para("Your health surveillance results", "title"),
        para(f"Dear {content['name']},"),
        para(
            f"These are your results from your {content['programme']} check on {content['date']}. "
            "This letter is for you: your employer receives only the outcome below, not your results."
        ),
        section("Your outcome", para(content["outcome"])),
        section("Your results explained", facts([(a, b) for a, b in content["values"]])),
        section("Restrictions at work", *bullets(content["restrictions"], "No restrictions.")),
        section("Your next check", para(f"Due by {content['next_due']}.")),
        section(
            "Questions",
            para(
                "If anything here worries you, or you think something is wrong, contact your "
                "occupational health team. You can also ask your GP for advice."
            ),
        ),
    ]
    return build("Your health surveillance results", story, stamp, subject=f"Result {result_id(letter)}")


def result_id(letter: LetterData) -> str:
    return str(letter.result.id)
