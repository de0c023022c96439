"""Referral use-cases: permissions, the state machine, acknowledgement, comments, attachments.

Each public function owns its transaction; audit rows and referral events are written in it;
notifications are queued in it and delivered after commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg

from backend.audit import service as audit
from backend.audit.schemas import Actor, AuditSubject, NoSubject, Outcome, Subject
from backend.auth import service as auth_service
from backend.auth.schemas import IssuedSession, Role, User
from backend.auth.tokens import new_token, token_hash
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.core.listing import ListParams
from backend.db import pubsub
from backend.notify import service as notify
from backend.referrals import attachments, disclosure, hooks, queries, transitions, validation
from backend.referrals.errors import (
    AttachmentRejected,
    AttachmentTooLarge,
    LinkInvalid,
    ReferralForbidden,
    ReferralInvalid,
    ReferralNotFound,
    ReferralStateConflict,
)
from backend.referrals.queries import Scope
from backend.referrals.schemas import (
    AckLink,
    Acknowledgement,
    Attachment,
    Comment,
    ReferralEvent,
    ReferralFilters,
    ReferralPage,
    ReferralRead,
    SubmitResult,
    TransitionRequest,
)
from backend.referrals.transitions import Party, Status

REFERRER_ROLES = frozenset({Role.manager, Role.client_admin})
EDITABLE = frozenset({Status.DRAFT, Status.INFO_REQUESTED})
_TRIAGE_FIELDS = ("priority", "modality", "clinician_grade")


def scope_for(user: User) -> Scope:
    kind = "provider" if user.role in (Role.clinician, Role.provider_admin) else user.role.value
    return Scope(kind, user.organisation_id, user.id, user.department or "")


def parties_for(user: User, referral: ReferralRead) -> set[Party]:
    parties: set[Party] = set()
    if user.id == referral.referrer_id or (
        user.role == Role.client_admin and user.organisation_id == referral.organisation_id
    ):
        parties.add(Party.referrer)
    if user.role == Role.clinician:
        parties.add(Party.clinician)
    if user.role == Role.provider_admin:
        parties.add(Party.ohadmin)
    if user.role == Role.employee and referral.employee_user_id == user.id:
        parties.add(Party.employee)
    return parties


def _present(user: User, referral: ReferralRead, *, content: bool = True) -> ReferralRead:
    """What this caller is shown (``disclosure.present``), with the actions they may take."""
    shown = disclosure.present(user, referral, content=content)
    shown.allowed_actions = transitions.allowed_actions(
        referral.status, parties_for(user, referral), referral.decision
    )
    if referral.status in EDITABLE and user.id == referral.referrer_id:
        shown.allowed_actions.append("edit")
    if referral.status == Status.DRAFT and user.id == referral.referrer_id:
        shown.allowed_actions.append("delete")
    return shown


def subject_of(referral: ReferralRead) -> AuditSubject:
    """The person a referral is about: their account once they have one, and the referral's e-mail
    (a draft may not name anyone yet)."""
    return _subject(referral.employee_user_id, referral.employee_email)


def _subject(user_id: UUID | None, email: str | None) -> AuditSubject:
    return Subject(user_id=user_id, email=email or None) if user_id or email else NoSubject


async def _audit(
    conn: asyncpg.Connection, user: User, action: str, referral: ReferralRead, outcome: Outcome = "ok"
) -> None:
    await audit.record(
        conn, user.actor(), action, "referral", referral.id, outcome=outcome, subject=subject_of(referral)
    )


async def _load(conn: asyncpg.Connection, user: User, referral_id: UUID, *, lock: bool) -> ReferralRead:
    referral = await queries.get_visible(conn, referral_id, scope_for(user), lock=lock)
    if referral is None:
        raise ReferralNotFound()
    return referral


async def _denied(
    conn: asyncpg.Connection, user: User, action: str, referral_id: UUID, outcome: Outcome
) -> None:
    """Record a refused access so that it outlives every transaction the error rolls back."""
    await audit.refused(
        conn, user.actor(), action, "referral", referral_id, outcome=outcome, subject=NoSubject
    )


_INVALID = (ReferralInvalid, AttachmentRejected, AttachmentTooLarge)  # audited as outcome "invalid"


@asynccontextmanager
async def _use_case(
    conn: asyncpg.Connection, user: User, action: str, referral_id: UUID
) -> AsyncIterator[None]:
    """One transaction for one use-case; refusals are audited after the rollback."""
    try:
        async with conn.transaction():
            yield
    except ReferralNotFound:
        await _denied(conn, user, action, referral_id, "not_found")
        raise
    except (ReferralForbidden, ReferralStateConflict):
        await _denied(conn, user, action, referral_id, "denied")
        raise
    except _INVALID:
        await _denied(conn, user, action, referral_id, "invalid")
        raise


@asynccontextmanager
async def _audited_invalid(
    conn: asyncpg.Connection, user: User, action: str, referral_id: UUID
) -> AsyncIterator[None]:
    """For checks made before a use-case starts: an invalid request is audited, then refused."""
    try:
        yield
    except _INVALID:
        await _denied(conn, user, action, referral_id, "invalid")
        raise


async def create(conn: asyncpg.Connection, user: User, raw: Any) -> ReferralRead:
    if user.role not in REFERRER_ROLES:
        raise ReferralForbidden("Only managers and client administrators can make referrals.")
    form = validation.check(raw, complete=False)
    email, name, department = validation.employee_identity(form)
    async with conn.transaction():
        referral_id = await queries.insert_referral(
            conn,
            organisation_id=user.organisation_id,
            provider_id=user.provider_id,
            referrer_id=user.id,
            employee_email=email,
            employee_name=name,
            department=department,
            form=form,
        )
        await queries.insert_event(conn, referral_id, user.id, user.role.value, "create", None, "DRAFT", {})
        referral = await _load(conn, user, referral_id, lock=False)
        await _audit(conn, user, "referral.create", referral)
    return _present(user, referral)


async def update_form(conn: asyncpg.Connection, user: User, referral_id: UUID, raw: Any) -> ReferralRead:
    async with _use_case(conn, user, "referral.update", referral_id):
        referral = await _load(conn, user, referral_id, lock=True)
        disclosure.require_author(user, referral, "change the referral form")
        if referral.status not in EDITABLE:
            raise ReferralStateConflict(f"A referral in status {referral.status} can no longer be edited.")
        form = validation.check(raw, complete=referral.status != Status.DRAFT)
        email, name, department = validation.employee_identity(form)
        await queries.update_form(conn, referral_id, form, email, name, department)
        await queries.insert_event(
            conn, referral_id, user.id, user.role.value, "edit", referral.status, referral.status, {}
        )
        updated = await _load(conn, user, referral_id, lock=False)
        await _audit(conn, user, "referral.update", updated)
    return _present(user, updated)


async def delete_draft(conn: asyncpg.Connection, user: User, referral_id: UUID) -> None:
    """The referrer deletes a draft nobody else has seen: its content and files are erased."""
    async with _use_case(conn, user, "referral.delete", referral_id):
        referral = await _load(conn, user, referral_id, lock=True)
        if referral.referrer_id != user.id:
            raise ReferralForbidden("Only the person who started a draft can delete it.")
        if referral.status != Status.DRAFT:
            raise ReferralStateConflict(
                f"Only a draft can be deleted; this referral is {referral.status}. Withdraw it instead."
            )
        await queries.insert_event(
            conn, referral_id, user.id, user.role.value, "delete", referral.status, referral.status, {}
        )
        await queries.erase_draft(conn, referral_id)
        await _audit(conn, user, "referral.delete", referral)


async def get(conn: asyncpg.Connection, user: User, referral_id: UUID) -> ReferralRead:
    """The referral for another use-case (released reports, booking): visibility-checked and
    audited, with the whole form; what the HTTP read shows is ``read``."""
    async with _use_case(conn, user, "referral.read", referral_id):
        referral = await _load(conn, user, referral_id, lock=False)
        await _audit(conn, user, "referral.read", referral)
    return _present(user, referral, content=False)


async def read(conn: asyncpg.Connection, user: User, referral_id: UUID) -> ReferralRead:
    """The referral as this caller may see it (``disclosure``). Audited."""
    async with _use_case(conn, user, "referral.read", referral_id):
        referral = await _load(conn, user, referral_id, lock=False)
        await _audit(conn, user, "referral.read", referral)
    return _present(user, referral)


async def list_for(
    conn: asyncpg.Connection, user: User, *, page: ListParams, filters: ReferralFilters
) -> ReferralPage:
    async with conn.transaction():
        items, total = await queries.list_visible(conn, scope_for(user), page=page, filters=filters)
        listed = await queries.subjects(conn, [item.id for item in items])
        await audit.record_each(
            conn, user.actor(), "referral.list", "referral",
            [(rid, _subject(uid, email)) for rid, uid, email in listed],
        )  # fmt: skip
    return ReferralPage.of(items, total, page)


async def _apply(
    conn: asyncpg.Connection,
    user: User | None,
    referral: ReferralRead,
    action: str,
    detail: dict[str, Any],
    target: Status,
    *,
    role: str,
) -> None:
    decision = {k: v for k, v in detail.items() if k not in _TRIAGE_FIELDS and k != "message"}
    triage = {k: detail.get(k) for k in _TRIAGE_FIELDS}
    await queries.update_state(conn, referral.id, target.value, decision, triage)
    await queries.insert_event(
        conn,
        referral.id,
        user.id if user else None,
        role,
        action,
        referral.status.value,
        target.value,
        detail,
    )
    await pubsub.publish(
        conn,
        "referral_status",
        {"id": str(referral.id), "status": target.value, "provider_id": str(referral.provider_id)},
    )


def _rule(user: User, referral: ReferralRead, action: str) -> transitions.Transition:
    """The table's row for this caller taking this action now: 403 if their role never may, else 409."""
    parties = parties_for(user, referral)
    if not any(t.parties & parties for t in transitions.by_action(action)):
        raise ReferralForbidden(f"Your role cannot {action} referrals.")
    rule = transitions.find(referral.status, action)
    if rule is None or not rule.parties & parties:
        raise ReferralStateConflict(f"Cannot {action} a referral in status {referral.status}.")
    return rule


def _field_problems(request: TransitionRequest, names: tuple[str, ...]) -> list[dict[str, str]]:
    """Fields the action needs but lacks, and fields it does not take (a note, ``message``, is welcome)."""
    missing = [
        {"field": name, "message": f"required for action '{request.action}'", "type": "missing"}
        for name in names
        if getattr(request, name) is None
    ]
    extra = [
        {"field": name, "message": f"not used by action '{request.action}'", "type": "extra_forbidden"}
        for name in sorted(request.model_fields_set - {"action", "message", *names})
        if getattr(request, name) is not None
    ]
    return missing + extra


async def transition(
    conn: asyncpg.Connection, user: User, referral_id: UUID, request: TransitionRequest
) -> ReferralRead:
    """A state change asked for through the transitions endpoint."""
    endpoint = transitions.REPORT_ACTIONS.get(request.action)
    async with _audited_invalid(conn, user, "referral.transition", referral_id):
        if endpoint is not None:
            raise ReferralInvalid(
                f"'{request.action}' is a report step: use POST /api/v1/referrals/{referral_id}/{endpoint}.",
                errors=[{"field": "action", "message": f"use the {endpoint} endpoint", "type": "enum"}],
            )
        if request.action in transitions.BOOKING_ACTIONS:
            use = transitions.BOOKING_ACTIONS[request.action]
            raise ReferralInvalid(
                f"'{request.action}' is a booking step, into a clinic slot: use {use}.",
                errors=[{"field": "action", "message": f"use {use}", "type": "enum"}],
            )
        if request.action not in transitions.API_ACTIONS or request.action == "submit":
            raise ReferralInvalid(
                f"Unknown action {request.action!r}.",
                errors=[
                    {"field": "action", "message": "unknown action; see allowed_actions", "type": "enum"}
                ],
            )
    return await apply_transition(conn, user, referral_id, request)


async def apply_transition(
    conn: asyncpg.Connection,
    user: User,
    referral_id: UUID,
    request: TransitionRequest,
    *,
    facts: dict[str, Any] | None = None,
) -> ReferralRead:
    """Take a transition from the table (for the report and booking services' steps, after their own
    checks). ``facts`` are recorded with the event and the decision (e.g. the booked time)."""
    async with _use_case(conn, user, f"referral.{request.action}", referral_id):
        referral = await _load(conn, user, referral_id, lock=True)
        rule = _rule(user, referral, request.action)
        problems = _field_problems(request, rule.requires)
        if problems:
            names = ", ".join(p["field"] for p in problems)
            raise ReferralInvalid(f"Please check: {names}", errors=problems)
        refusal = rule.guard(referral.decision) if rule.guard else None
        if refusal:
            raise ReferralStateConflict(f"Cannot {request.action}: {refusal}.")
        detail = request.model_dump(mode="json", exclude_none=True, exclude={"action"}) | (facts or {})
        target = rule.target or referral.status
        await _apply(conn, user, referral, request.action, detail, target, role=user.role.value)
        if target in transitions.TERMINAL:
            await hooks.closed(conn, user, referral, request.action)
        await _notify_parties(conn, referral, request)
        updated = await _load(conn, user, referral_id, lock=False)
        await _audit(conn, user, f"referral.{request.action}", updated)
    return _present(user, updated)


CALL_EVENTS = ("call_started", "call_ended")


async def record_call(
    conn: asyncpg.Connection,
    referral_id: UUID,
    *,
    actor: Actor | None,
    event: str,
    detail: dict[str, Any],
) -> None:
    """In the caller's transaction (the room's): the video call of the referral's appointment began
    (the employee admitted) or ended. A fact in the history, not a state change: starting and ending
    the consultation stay the clinician's recorded steps (domain.md §3.3 rows 12 and 14)."""
    if event not in CALL_EVENTS:
        raise ValueError(f"unknown call event {event!r}")
    status = await queries.lock_status(conn, referral_id)
    if status is None:
        return
    role = actor.role if actor else "system"
    actor_id = actor.id if actor else None
    await queries.insert_event(conn, referral_id, actor_id, role, event, status, status, detail)


_REFERRER_NOTICES = {
    "request_info": "Occupational health needs more information about a referral you made.",
    "decline": "Occupational health cannot accept a referral you made; the reason is in the referral.",
}


async def _notify_parties(
    conn: asyncpg.Connection, referral: ReferralRead, request: TransitionRequest
) -> None:
    """Queue the messages a state change owes people (sent after commit; no clinical content)."""
    link = "Sign in to ohconnect to see it."
    if request.action in _REFERRER_NOTICES:
        referrer = await auth_service.get_user(conn, referral.referrer_id)
        if referrer is not None:
            await notify.enqueue(
                conn,
                recipient=referrer.email,
                subject="Occupational health referral update",
                provider_id=referral.provider_id,
                kind=f"referral.{request.action}",
                body=f"{_REFERRER_NOTICES[request.action]} {link}",
            )
    if request.action == "withdraw" and referral.employee_email:
        body = "The occupational health referral about you has been withdrawn by your employer."
        await notify.enqueue(
            conn,
            recipient=referral.employee_email,
            subject="Your occupational health referral",
            body=body,
            provider_id=referral.provider_id,
            kind=f"referral.{request.action}",
        )


async def _check_attachment_rules(
    conn: asyncpg.Connection, referral: ReferralRead, form: dict[str, Any]
) -> None:
    if "accident_at_work" in form.get("reason", {}).get("categories", []):
        kinds = {a.kind for a in await queries.list_attachments(conn, referral.id)}
        if "accident_report" not in kinds:
            raise ReferralInvalid(
                "An accident-at-work referral needs the accident report attached.",
                errors=[
                    {
                        "field": "attachments",
                        "message": "attach the accident report (kind accident_report)",
                        "type": "missing",
                    }
                ],
            )


async def submit(conn: asyncpg.Connection, user: User, referral_id: UUID, settings: Settings) -> SubmitResult:
    async with _use_case(conn, user, "referral.submit", referral_id):
        referral = await _load(conn, user, referral_id, lock=True)
        _rule(user, referral, "submit")  # a draft is visible to its author only
        form = validation.check(referral.form, complete=True)
        await _check_attachment_rules(conn, referral, form)
        email, name, department = validation.employee_identity(form)
        await queries.update_form(conn, referral_id, form, email, name, department)
        await _apply(conn, user, referral, "submit", {}, Status.SUBMITTED, role=user.role.value)
        submitted = await _load(conn, user, referral_id, lock=False)
        await _apply(conn, None, submitted, "queue", {}, Status.AWAITING_TRIAGE, role="system")
        link = await _issue_ack_link(conn, submitted, settings)
        final = await _load(conn, user, referral_id, lock=False)
        await _audit(conn, user, "referral.submit", final)
    return SubmitResult(referral=_present(user, final), employee_link=link)


async def _issue_ack_link(conn: asyncpg.Connection, referral: ReferralRead, settings: Settings) -> AckLink:
    """A single-use link for the employee, sent to them (never shown to the employer)."""
    token = new_token()
    expires_at = utc_now() + timedelta(days=settings.employee_link_days)
    await queries.insert_link(
        conn, token_hash(token), referral.employee_email, referral.organisation_id, referral.id, expires_at
    )
    url = f"{settings.public_url.rstrip('/')}/acknowledge.html#token={token}"
    await notify.enqueue(
        conn,
        recipient=referral.employee_email,
        subject="Your occupational health referral",
        provider_id=referral.provider_id,
        kind="referral.acknowledgement_link",
        body=(
            f"Your manager has referred you to occupational health. Please confirm it was discussed with you "
            f"and see exactly what was sent: {url}\nThis link works once and expires on "
            f"{expires_at:%d %B %Y}."
        ),
    )
    return AckLink(url=f"{settings.public_url.rstrip('/')}/acknowledge.html", expires_at=expires_at)


async def redeem_link(conn: asyncpg.Connection, token: str, settings: Settings) -> tuple[IssuedSession, UUID]:
    """Exchange a single-use employee link for a session: spending the link and issuing the session
    commit together, so a failure leaves the link usable and a success can never be replayed."""
    async with conn.transaction():
        found = await queries.redeem_link(conn, token_hash(token))
        if found is None:
            raise LinkInvalid("This link has already been used or has expired. Ask for a new one.")
        email, organisation_id, referral_id = found
        user = await auth_service.ensure_employee(
            conn, email=email, organisation_id=organisation_id, full_name=""
        )
        issued = await auth_service.issue_link_session(conn, user, settings)
    return issued, referral_id


async def acknowledge(
    conn: asyncpg.Connection, user: User, referral_id: UUID, ack: Acknowledgement
) -> ReferralRead:
    async with _use_case(conn, user, "referral.acknowledge", referral_id):
        referral = await _load(conn, user, referral_id, lock=True)
        if Party.employee not in parties_for(user, referral):
            raise ReferralForbidden("Only the employee can acknowledge their referral.")
        if referral.acknowledged_at is not None:
            raise ReferralStateConflict("You have already responded to this referral.")
        await queries.set_acknowledged(conn, referral_id)
        detail = ack.model_dump(exclude_none=True)
        await queries.insert_event(
            conn,
            referral_id,
            user.id,
            user.role.value,
            "acknowledge",
            referral.status,
            referral.status,
            detail,
        )
        updated = await _load(conn, user, referral_id, lock=False)
        await _audit(conn, user, "referral.acknowledge", updated)
    return _present(user, updated)


async def events(conn: asyncpg.Connection, user: User, referral_id: UUID) -> list[ReferralEvent]:
    async with _use_case(conn, user, "referral.events.read", referral_id):
        referral = await _load(conn, user, referral_id, lock=False)
        found = await queries.list_events(conn, referral_id)
        await _audit(conn, user, "referral.events.read", referral)
    return disclosure.events_for(user, referral, found)


async def comments(conn: asyncpg.Connection, user: User, referral_id: UUID) -> list[Comment]:
    async with _use_case(conn, user, "referral.comments.read", referral_id):
        referral = await _load(conn, user, referral_id, lock=False)
        disclosure.require_thread(user, referral)
        found = await queries.list_comments(conn, referral_id)
        await _audit(conn, user, "referral.comments.read", referral)
    return found


async def add_comment(conn: asyncpg.Connection, user: User, referral_id: UUID, body: str) -> list[Comment]:
    async with _use_case(conn, user, "referral.comment", referral_id):
        referral = await _load(conn, user, referral_id, lock=False)
        disclosure.require_thread(user, referral)
        if referral.status == Status.DRAFT:
            raise ReferralStateConflict("Submit the referral before starting a conversation about it.")
        await queries.insert_comment(conn, referral_id, user.id, user.role.value, body)
        await _audit(conn, user, "referral.comment", referral)
        found = await queries.list_comments(conn, referral_id)
    return found


async def add_attachment(
    conn: asyncpg.Connection,
    user: User,
    referral_id: UUID,
    *,
    kind: str,
    filename: str,
    data: bytes,
    settings: Settings,
) -> Attachment:
    async with _audited_invalid(conn, user, "referral.attachment.add", referral_id):
        if len(data) > settings.attachment_max_bytes:
            raise AttachmentTooLarge(
                f"Each file may be at most {settings.attachment_max_bytes // (1024 * 1024)} MB."
            )
        checked = await attachments.check(data, settings.attachment_scan_command)
    async with _use_case(conn, user, "referral.attachment.add", referral_id):
        # Locked: concurrent uploads to one referral are counted against its total one after another.
        referral = await _load(conn, user, referral_id, lock=True)
        disclosure.require_author(user, referral, "attach files")
        if referral.status not in EDITABLE:
            raise ReferralStateConflict(f"Files cannot be added to a referral in status {referral.status}.")
        total = await queries.attachment_total(conn, referral_id)
        if total + len(data) > settings.referral_attachments_max_bytes:
            total_mb = settings.referral_attachments_max_bytes // (1024 * 1024)
            raise AttachmentTooLarge(f"A referral's files may total at most {total_mb} MB.")
        saved = await queries.insert_attachment(
            conn,
            referral_id=referral_id,
            kind=kind,
            filename=attachments.clean_filename(filename),
            content_type=checked.content_type,
            size_bytes=len(data),
            sha256=checked.sha256,
            scan_status=checked.scan_status,
            data=data,
            uploaded_by=user.id,
        )
        await _audit(conn, user, "referral.attachment.add", referral)
    return saved


async def list_attachments(conn: asyncpg.Connection, user: User, referral_id: UUID) -> list[Attachment]:
    async with _use_case(conn, user, "referral.attachments.read", referral_id):
        referral = await _load(conn, user, referral_id, lock=False)
        disclosure.require_files(user, referral)
        found = await queries.list_attachments(conn, referral_id)
        await _audit(conn, user, "referral.attachments.read", referral)
    return found


async def get_attachment(
    conn: asyncpg.Connection, user: User, referral_id: UUID, attachment_id: UUID
) -> tuple[str, str, bytes]:
    async with _use_case(conn, user, "referral.attachment.read", referral_id):
        referral = await _load(conn, user, referral_id, lock=False)
        disclosure.require_files(user, referral)
        found = await queries.get_attachment_data(conn, referral_id, attachment_id)
        await _audit(conn, user, "referral.attachment.read", referral, "ok" if found else "not_found")
    if found is None:
        raise ReferralNotFound("No such attachment.")
    return found
