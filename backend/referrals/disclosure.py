"""What employer roles may see of OH's working record of a referral.

Before a report is released, the employer learns the referral's progress, not OH's clinical
reasoning: event details and decisions are cut to the fields the referrer needs to act on
(domain.md §3.3 invariants, §6.1 "excluded by default").
"""

from __future__ import annotations

from typing import Any

from backend.referrals.transitions import Status

EMPLOYER_EVENT_DETAIL: dict[str, frozenset[str]] = {
    "request_info": frozenset({"message"}),
    "respond_info": frozenset({"message"}),
    "decline": frozenset({"reason"}),
    "triage": frozenset({"modality"}),
    "book": frozenset({"starts_at", "kind"}),
    "reschedule": frozenset({"starts_at", "kind"}),
    "cancel_booking": frozenset({"starts_at"}),
    "withdraw": frozenset({"reason"}),
    "request_clarification": frozenset({"message"}),
    "add_addendum": frozenset({"message"}),
}


def event_detail_for_employer(action: str, detail: dict[str, Any]) -> dict[str, Any]:
    allowed = EMPLOYER_EVENT_DETAIL.get(action, frozenset())
    return {key: value for key, value in detail.items() if key in allowed}


def decision_for_employer(status: Status, decision: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {key: decision[key] for key in ("starts_at", "kind") if key in decision}
    if status == Status.DECLINED and "reason" in decision:
        shown["reason"] = decision["reason"]
    return shown
