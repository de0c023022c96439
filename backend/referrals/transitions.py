"""The referral state machine (domain.md §3.3), written once as a table.

Each row: (from states, action, who may act) -> new state, the request fields it needs, and an
optional guard on the referral. The service looks a request up here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    AWAITING_TRIAGE = "AWAITING_TRIAGE"
    INFO_REQUESTED = "INFO_REQUESTED"
    DECLINED = "DECLINED"
    AWAITING_BOOKING = "AWAITING_BOOKING"
    BOOKED = "BOOKED"
    DNA = "DNA"
    CLOSED_DNA = "CLOSED_DNA"
    IN_CONSULTATION = "IN_CONSULTATION"
    CLOSED_NO_CONSENT = "CLOSED_NO_CONSENT"
    REPORT_DRAFTING = "REPORT_DRAFTING"
    AWAITING_FME = "AWAITING_FME"
    EMPLOYEE_REVIEW = "EMPLOYEE_REVIEW"
    READY_FOR_RELEASE = "READY_FOR_RELEASE"
    CLOSED_NOT_RELEASED = "CLOSED_NOT_RELEASED"
    RELEASED = "RELEASED"
    CLARIFICATION = "CLARIFICATION"
    REVIEW_DUE = "REVIEW_DUE"
    CLOSED = "CLOSED"
    WITHDRAWN = "WITHDRAWN"


class Party(StrEnum):
    """Who acts, relative to one referral (a user can be several, e.g. referrer and client admin)."""

    referrer = "referrer"  # the user who made it, or a client admin of the same employer
    clinician = "clinician"
    ohadmin = "ohadmin"  # provider_admin: booking and administration
    employee = "employee"  # the employee the referral is about
    system = "system"


S = Status
PRE_RELEASE = frozenset(
    {
        S.DRAFT,
        S.SUBMITTED,
        S.AWAITING_TRIAGE,
        S.INFO_REQUESTED,
        S.AWAITING_BOOKING,
        S.BOOKED,
        S.DNA,
        S.IN_CONSULTATION,
        S.REPORT_DRAFTING,
        S.AWAITING_FME,
        S.EMPLOYEE_REVIEW,
        S.READY_FOR_RELEASE,
    }
)
TERMINAL = frozenset(
    {S.DECLINED, S.CLOSED_DNA, S.CLOSED_NO_CONSENT, S.CLOSED_NOT_RELEASED, S.CLOSED, S.WITHDRAWN}
)

Guard = Callable[[dict[str, Any]], str | None]


def _release_choice_is(choice: str) -> Guard:
    def guard(decision: dict[str, Any]) -> str | None:
        if decision.get("release_choice") != choice:
            return f"the employee's recorded release choice is not '{choice}'"
        return None

    return guard


@dataclass(frozen=True)
class Transition:
    sources: frozenset[Status]
    action: str
    parties: frozenset[Party]
    target: Status | None  # None: stays in the same state (e.g. reschedule)
    requires: tuple[str, ...] = ()
    guard: Guard | None = field(default=None)


def _t(
    sources: set[Status] | frozenset[Status],
    action: str,
    parties: set[Party],
    target: Status | None,
    requires: tuple[str, ...] = (),
    guard: Guard | None = None,
) -> Transition:
    return Transition(frozenset(sources), action, frozenset(parties), target, requires, guard)


P = Party
TRANSITIONS: tuple[Transition, ...] = (
    _t({S.DRAFT}, "submit", {P.referrer}, S.SUBMITTED),
    _t({S.SUBMITTED}, "queue", {P.system}, S.AWAITING_TRIAGE),
    _t({S.AWAITING_TRIAGE}, "request_info", {P.clinician}, S.INFO_REQUESTED, ("message",)),
    _t({S.INFO_REQUESTED}, "respond_info", {P.referrer}, S.AWAITING_TRIAGE, ("message",)),
    _t({S.AWAITING_TRIAGE}, "decline", {P.clinician}, S.DECLINED, ("reason",)),
    _t(
        {S.AWAITING_TRIAGE},
        "triage",
        {P.clinician},
        S.AWAITING_BOOKING,
        ("modality", "clinician_grade", "priority"),
    ),
    _t({S.AWAITING_BOOKING}, "book", {P.ohadmin, P.clinician, P.employee}, S.BOOKED, ("slot_id",)),
    _t({S.BOOKED}, "reschedule", {P.ohadmin, P.clinician, P.employee}, None, ("slot_id",)),
    # The employee may cancel their own appointment too, within the notice rule that applies to
    # moving it (domain.md §3.3 row 9: cancellation notice per contract); booking checks the notice.
    _t({S.BOOKED}, "cancel_booking", {P.ohadmin, P.clinician, P.employee}, S.AWAITING_BOOKING),
    _t({S.BOOKED}, "mark_dna", {P.system, P.clinician}, S.DNA),
    _t({S.DNA}, "rebook", {P.ohadmin, P.referrer}, S.AWAITING_BOOKING),
    _t({S.DNA}, "close_dna", {P.ohadmin, P.referrer}, S.CLOSED_DNA),
    _t({S.BOOKED}, "start", {P.clinician}, S.IN_CONSULTATION, ("consent_to_assessment",)),
    _t({S.IN_CONSULTATION}, "decline_assessment", {P.clinician}, S.CLOSED_NO_CONSENT),
    _t({S.IN_CONSULTATION}, "finish_consultation", {P.clinician}, S.REPORT_DRAFTING, ("release_choice",)),
    _t({S.REPORT_DRAFTING}, "request_fme", {P.clinician}, S.AWAITING_FME, ("reason",)),
    _t({S.AWAITING_FME}, "fme_received", {P.clinician}, S.REPORT_DRAFTING),
    _t(
        {S.REPORT_DRAFTING},
        "send_for_review",
        {P.clinician},
        S.EMPLOYEE_REVIEW,
        guard=_release_choice_is("see_first"),
    ),
    _t({S.EMPLOYEE_REVIEW}, "flag_error", {P.employee}, S.REPORT_DRAFTING, ("message",)),
    _t({S.EMPLOYEE_REVIEW}, "approve", {P.employee}, S.READY_FOR_RELEASE),
    _t({S.EMPLOYEE_REVIEW, S.READY_FOR_RELEASE}, "withdraw_consent", {P.employee}, S.CLOSED_NOT_RELEASED),
    _t(
        {S.REPORT_DRAFTING},
        "withhold",
        {P.clinician},
        S.CLOSED_NOT_RELEASED,
        guard=_release_choice_is("withhold"),
    ),
    _t(
        {S.REPORT_DRAFTING},
        "ready_for_release",
        {P.clinician},
        S.READY_FOR_RELEASE,
        guard=_release_choice_is("release"),
    ),
    _t({S.READY_FOR_RELEASE}, "release", {P.clinician}, S.RELEASED, ("recipients",)),
    _t({S.RELEASED}, "request_clarification", {P.referrer}, S.CLARIFICATION, ("message",)),
    _t({S.CLARIFICATION}, "add_addendum", {P.clinician}, S.RELEASED, ("message",)),
    _t({S.RELEASED}, "mark_review_due", {P.clinician, P.system}, S.REVIEW_DUE),
    _t({S.RELEASED, S.REVIEW_DUE}, "close", {P.system, P.clinician, P.ohadmin}, S.CLOSED),
    # Not from DRAFT: a draft was never sent, and a withdrawn one would be shown to OH and the employee.
    _t(PRE_RELEASE - {S.DRAFT}, "withdraw", {P.referrer}, S.WITHDRAWN),
)

ACTIONS = frozenset(t.action for t in TRANSITIONS)
# Report steps, each taken through its own endpoint (path after /api/v1/referrals/{id}/), which
# checks the report first: complete, consented, frozen on release.
REPORT_ACTIONS = {
    "send_for_review": "report/send-for-review",
    "ready_for_release": "report/ready",
    "flag_error": "report/corrections",
    "release": "report/release",
    "add_addendum": "report/addenda",
}
# Booking steps, taken through the booking endpoints (which hold the slot, the join links and the
# calendar invitations): action -> the endpoint to use.
BOOKING_ACTIONS = {
    "book": "POST /api/v1/booking/appointments",
    "reschedule": "POST /api/v1/booking/appointments/{appointment_id}/reschedule",
    "cancel_booking": "POST /api/v1/booking/appointments/{appointment_id}/cancel",
    "mark_dna": "POST /api/v1/clinics/appointments/{appointment_id}/dna",
}
# Actions the HTTP API accepts ("submit" at its own endpoint, the rest at /transitions); "queue" is
# the system's and the report steps have their own endpoints.
API_ACTIONS = ACTIONS - {"queue"} - REPORT_ACTIONS.keys() - BOOKING_ACTIONS.keys()


def by_action(action: str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.action == action]


def find(status: Status, action: str) -> Transition | None:
    for transition in TRANSITIONS:
        if transition.action == action and status in transition.sources:
            return transition
    return None


def allowed_actions(status: Status, parties: set[Party], decision: dict[str, Any]) -> list[str]:
    return [
        t.action
        for t in TRANSITIONS
        if status in t.sources and t.parties & parties and (t.guard is None or t.guard(decision) is None)
    ]
