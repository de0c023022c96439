"""What each person may see of a referral they can reach: one rule, used by every referral endpoint.

Whether a referral can be reached at all is the SQL visibility predicate (``queries._VISIBLE``);
what is shown of it is decided here, from who the caller is to that referral (domain.md §2, §2.2,
§2.5, §3.3 invariants, §4 and §6.1):

* **Full view** - occupational health (clinicians and booking staff, once submitted) and the
  person who made the referral (the referrer): the whole form, its files, the comments thread and
  the history. The confidential-to-OH note (§2.5) is shown to them alone. Employer roles, the
  referrer included, see OH's decision and event details cut to what the referrer needs to act on
  (appointment time, appointment type, OH's messages to the employer, a decline reason): OH's
  clinical reasoning stays with OH (§3.3 invariants, §6.1 "excluded by default").
* **Employee view** - the employee it is about: the form as it was sent (referral forms are
  disclosable to the employee, §2), without the OH note; its files; the history. Not the comments
  thread, which is between the referrer and OH.
* **Progress view** - every other employer user who may follow the referral: managers of the same
  department who did not make it, and the organisation's client administrators. They learn that
  there is a referral and how it progresses: the summary (employee name, department, type,
  urgency, status, priority, appointment type, dates, whether the employee responded), the
  appointment time and a decline reason, the history of actions with OH's messages to the
  employer and their own, and of the form only the work-side identity (type, site, requested
  urgency, the employee's name, number, job title, department and work location, the referrer's
  name and job title). Never the employee's contact details (phone, e-mail, address: "used only
  by OH, never shown back to other managers", §2.2) or date of birth, the reasons and concern, a
  health condition, actions taken, the absence record, the questions for OH, files or comments.
  Client administrators may still take the referrer's steps that need no content (withdraw,
  answer OH's request for information, ask for clarification); changing the form and attaching
  files are for its author.

The list endpoint returns summaries, which hold only progress-view fields for everyone. Released
management reports follow their own release rules (named recipients, ``backend.reports``).
"""

from __future__ import annotations

from typing import Any

from backend.auth.schemas import Role, User
from backend.referrals.errors import ReferralForbidden
from backend.referrals.schemas import ReferralEvent, ReferralRead, View
from backend.referrals.transitions import Status

OH_ROLES = frozenset({Role.clinician, Role.provider_admin})
EMPLOYER_ROLES = frozenset({Role.manager, Role.client_admin})

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
# Event details that are never free text written by the employer side.
PROGRESS_EVENT_DETAIL = frozenset({"modality", "appointment_at"})

# The only parts of the form shown in the progress view (an allow-list: new fields stay hidden).
PROGRESS_FORM: dict[str, frozenset[str] | None] = {
    "referral_type": None,
    "site": None,
    "urgency_requested": None,
    "employee": frozenset({"full_name", "employee_number", "job_title", "department", "work_location"}),
    "referrer": frozenset({"name", "job_title"}),
}


def view_for(user: User, referral: ReferralRead) -> View:
    """Which view this caller gets of a referral the visibility predicate let them reach."""
    if user.role in OH_ROLES or user.id == referral.referrer_id:
        return View.full
    if user.role == Role.employee:
        return View.employee
    return View.progress


def progress_form(form: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for key, fields in PROGRESS_FORM.items():
        value = form.get(key)
        if value is None:
            continue
        if fields is None:
            shown[key] = value
        elif isinstance(value, dict):
            shown[key] = {k: v for k, v in value.items() if k in fields}
    return shown


def decision_for_employer(status: Status, decision: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {key: decision[key] for key in ("starts_at", "kind") if key in decision}
    if status == Status.DECLINED and "reason" in decision:
        shown["reason"] = decision["reason"]
    return shown


def present(user: User, referral: ReferralRead, *, content: bool = True) -> ReferralRead:
    """The referral as this caller is shown it (``content=False``: the whole form, for another
    use-case such as a released report, which has its own release rules)."""
    view = view_for(user, referral)
    shown = referral.model_copy(deep=True)
    shown.view = view
    if view != View.full:
        reason = shown.form.get("reason")
        if isinstance(reason, dict):
            reason.pop("confidential_note_to_oh", None)
    if user.role in EMPLOYER_ROLES:
        shown.decision = decision_for_employer(referral.status, referral.decision)
    if view == View.progress and content:
        shown.form = progress_form(referral.form)
        shown.employee_email = ""
        shown.employee_user_id = None
    return shown


# The video call's own facts (started, ended) are for occupational health and the employee; the
# employer hears of the appointment's date and of a missed one, not of the call itself.
OH_ONLY_EVENTS = frozenset({"call_started", "call_ended"})


def event_detail_for_employer(action: str, detail: dict[str, Any]) -> dict[str, Any]:
    allowed = EMPLOYER_EVENT_DETAIL.get(action, frozenset())
    return {key: value for key, value in detail.items() if key in allowed}


def events_for(user: User, referral: ReferralRead, events: list[ReferralEvent]) -> list[ReferralEvent]:
    """The history as this caller is shown it."""
    view = view_for(user, referral)
    if user.role not in EMPLOYER_ROLES:
        return events
    events = [e for e in events if e.action not in OH_ONLY_EVENTS]
    for event in events:
        detail = event_detail_for_employer(event.action, event.detail)
        written_by_oh = event.actor_role in {r.value for r in OH_ROLES}
        if view == View.progress and not written_by_oh and event.actor_id != user.id:
            detail = {k: v for k, v in detail.items() if k in PROGRESS_EVENT_DETAIL}
        event.detail = detail
    return events


def require_files(user: User, referral: ReferralRead) -> None:
    """Files are for the full and employee views."""
    if view_for(user, referral) == View.progress:
        raise ReferralForbidden(
            "A referral's files are seen only by the manager who made it, occupational health "
            "and the employee."
        )


def require_thread(user: User, referral: ReferralRead) -> None:
    """The comments thread is between the referrer and occupational health."""
    if view_for(user, referral) != View.full:
        raise ReferralForbidden(
            "The comments thread is between the manager who made the referral and occupational health."
        )


def require_author(user: User, referral: ReferralRead, what: str) -> None:
    """Changing the form and attaching files are for the person who made the referral."""
    if user.id != referral.referrer_id:
        raise ReferralForbidden(f"Only the person who made the referral can {what}.")
