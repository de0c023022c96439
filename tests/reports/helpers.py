"""Bodies for the management-report endpoints, shared by the report and referral tests."""

from __future__ import annotations

from typing import Any

QUESTIONS = [
    "Is the employee currently fit to carry out their role (all duties)? Are there tasks they cannot do?",
    "If absent: when is a return likely; full or phased return; what should a phased return look like?",
    "What adjustments (temporary or permanent) would help attendance, performance or return?",
    "Can they drive a forklift?",
]


def content(**overrides: Any) -> dict[str, Any]:
    body = {
        "assessment_date": "2026-11-20",
        "clinician_registration": "NMC 12A3456E",
        "background": "Warehouse operative for seven years; off work six weeks.",
        "functional_capability": "Can stand and walk for an hour; cannot lift over 10 kg yet.",
        "fitness_opinion": "fit_with_adjustments",
        "fitness_detail": "Fit for a phased return without heavy lifting.",
        "answers": [{"question": q, "answer": f"Answer {i}."} for i, q in enumerate(QUESTIONS, 1)],
        "adjustments": "No single lifts over 10 kg for six weeks.",
        "return_to_work": "Phased return over four weeks from 50% hours.",
        "prognosis": "Likely back to full duties within eight weeks.",
        "equality_act_opinion": "likely",
        "equality_act_reasoning": "EQUALITY-REASONING-MARKER long-term effect on lifting.",
        "review": "Review in six weeks.",
        "clinical_details": [
            {"key": "diagnosis", "text": "Lumbar disc prolapse", "reason": "Explains the limits"}
        ],
    }
    body.update(overrides)
    return body


def consent(recipient: str, **overrides: Any) -> dict[str, Any]:
    """C2/C3 consent naming one recipient (the manager's e-mail)."""
    body = {
        "recipients": [recipient],
        "sections": {"background": True, "equality_act": False, "retirement_redeployment": False},
        "clinical_details": [],
        "method": "verbal_recorded",
        "information_given": "Explained recipients, content and need-to-know sharing; offered it first.",
    }
    body.update(overrides)
    return body
