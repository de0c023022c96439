"""Management report use-cases: consent, drafting, employee preview and corrections, release, addenda.

State changes go through the referral state machine (``referral_service.transition``) inside this
module's transaction, so the report and the referral's state move together or not at all. Who
sees content: OH clinicians always; the employee from review onwards (the preview is exactly what
the manager will see); employer roles only after release, only if named as a recipient.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from backend.audit import service as audit
from backend.audit.schemas import AuditSubject
from backend.auth.schemas import Role, User
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.notify import service as notify
from backend.referrals import service as referral_service
from backend.referrals.form import ReasonCategory
from backend.referrals.schemas import ReferralRead, TransitionRequest
from backend.referrals.transitions import Status
from backend.reports import mine, mreport, mreport_render, offload, queries, signing
from backend.reports.errors import ReportConflict, ReportForbidden, ReportInvalid, ReportNotFound
from backend.reports.mreport import ReferralFacts, ReportConsent, ReportContent, ReportDraft, ReportView
from backend.reports.render import Stamp, content_hash, file_hash
from backend.reports.signing import DocumentSigner

DRAFTING = frozenset({Status.IN_CONSULTATION, Status.REPORT_DRAFTING})
PREVIEW = frozenset({Status.EMPLOYEE_REVIEW, Status.READY_FOR_RELEASE})
RELEASED = frozenset({Status.RELEASED, Status.CLARIFICATION, Status.REVIEW_DUE, Status.CLOSED})
_REASONS = {
    "long_term_absence": "Long-term sickness absence",
    "recurrent_short_term_absence": "Recurrent short-term absence",
    "performance_or_conduct": "Health affecting performance or conduct",
    "work_related_ill_health": "Possible work-related ill health",
    "accident_at_work": "Accident or injury at work",
    "rehabilitation_return_to_work": "Rehabilitation or return to work",
    "adjustments_equality_act": "Adjustments or Equality Act advice",
    "ill_health_retirement": "Ill-health retirement",
    "other": "Other",
}


@dataclass(frozen=True)
class Readable:
    view: ReportView
    addenda: list[tuple[str, str]]
    released: bool
    organisation_id: UUID


def _facts(referral: ReferralRead, author_name: str) -> ReferralFacts:
    form = referral.form
    reasons = [
        _REASONS.get(ReasonCategory(c).value, c) for c in (form.get("reason") or {}).get("categories", [])
    ]
    return ReferralFacts(
        employee_name=referral.employee_name,
        employee_number=(form.get("employee") or {}).get("employee_number", ""),
        organisation_name=referral.organisation_name,
        referrer_name=(form.get("referrer") or {}).get("name", ""),
        reasons=reasons,
        questions=mreport.questions_asked(form),
        modality=referral.modality,
        clinician_name=author_name,
        release_choice=referral.decision.get("release_choice"),
    )


@asynccontextmanager
async def _use_case(
    conn: asyncpg.Connection, user: User, action: str, referral_id: UUID
) -> AsyncIterator[None]:
    """One transaction for one report use-case. A refusal, here or in the referral use-cases called
    inside, is audited under this action once everything has rolled back (the inner use-case
    audits its own refusal as well, on a connection of its own)."""
    async with (
        audit.audited_refusals(conn, user.actor(), action, "referral", referral_id),
        conn.transaction(),
    ):
        yield


async def _audit(conn: asyncpg.Connection, user: User, action: str, referral: ReferralRead) -> None:
    """A report access or change, naming the employee the report is about."""
    subject: AuditSubject = referral_service.subject_of(referral)
    await audit.record(conn, user.actor(), action, "referral", referral.id, subject=subject)


def _clinician(user: User) -> None:
    if user.role != Role.clinician:
        raise ReportForbidden("Only clinicians write and release reports.")


async def _move(conn: asyncpg.Connection, user: User, referral_id: UUID, action: str, **fields: Any) -> None:
    await referral_service.apply_transition(
        conn, user, referral_id, TransitionRequest(action=action, **fields)
    )


async def record_consent(
    conn: asyncpg.Connection, user: User, referral_id: UUID, consent: ReportConsent
) -> ReportConsent:
    """C2/C3 as agreed with the employee at the consultation; every version is kept."""
    async with _use_case(conn, user, "report.consent", referral_id):
        _clinician(user)
        referral = await referral_service.get(conn, user, referral_id)
        if referral.status not in DRAFTING:
            raise ReportConflict("Consent is recorded at the consultation, before the report goes anywhere.")
        data = consent.model_copy(update={"release_choice": None}).model_dump(mode="json")
        version = await queries.save_consent(conn, referral_id, user.id, data)
        await queries.insert_version(
            conn, referral_id, version, "consent", content={}, consent=data, actor_id=user.id
        )
        await _audit(conn, user, "report.consent", referral)
    return consent


async def draft(conn: asyncpg.Connection, user: User, referral_id: UUID) -> ReportDraft:
    """The clinician's working copy (empty until first saved); the read is audited."""
    async with _use_case(conn, user, "report.draft.read", referral_id):
        _clinician(user)
        referral = await referral_service.get(conn, user, referral_id)
        row = await queries.get_report(conn, referral_id, lock=False)
        await _audit(conn, user, "report.draft.read", referral)
    content = ReportContent.model_validate(row["content"] or {}) if row else ReportContent()
    consent = ReportConsent.model_validate(row["consent"]) if row and row["consent"] else None
    return ReportDraft(
        content=content,
        consent=consent,
        questions=mreport.questions_asked(referral.form),
        editable=referral.status in DRAFTING,
    )


async def save_draft(
    conn: asyncpg.Connection, user: User, referral_id: UUID, content: ReportContent
) -> ReportView:
    async with _use_case(conn, user, "report.draft", referral_id):
        _clinician(user)
        referral = await referral_service.get(conn, user, referral_id)
        if referral.status not in DRAFTING:
            raise ReportConflict(f"The report cannot be edited while the referral is {referral.status}.")
        data = content.model_dump(mode="json")
        version = await queries.save_content(conn, referral_id, user.id, data)
        stored = await _stored(conn, referral_id, lock=False)
        await queries.insert_version(
            conn,
            referral_id,
            version,
            "draft",
            content=data,
            consent=stored[2].model_dump(mode="json") if stored[2] else {},
            actor_id=user.id,
        )
        await _audit(conn, user, "report.draft", referral)
        return _view(referral, stored)


async def _stored(
    conn: asyncpg.Connection, referral_id: UUID, *, lock: bool
) -> tuple[str, ReportContent, ReportConsent | None]:
    row = await queries.get_report(conn, referral_id, lock=lock)
    if row is None:
        raise ReportNotFound("No report has been written yet.")
    consent = ReportConsent.model_validate(row["consent"]) if row["consent"] else None
    return row["author_name"], ReportContent.model_validate(row["content"] or {}), consent


def _view(referral: ReferralRead, stored: tuple[str, ReportContent, ReportConsent | None]) -> ReportView:
    author, content, consent = stored
    if consent is None:
        raise ReportInvalid("Record the employee's consent options first.")
    facts = _facts(referral, author)
    if consent.release_choice:  # released: as frozen then (employer roles never see the live decision)
        facts = facts.model_copy(update={"release_choice": consent.release_choice})
    return mreport.manager_view(facts, content, consent)


def _complete(referral: ReferralRead, stored: tuple[str, ReportContent, ReportConsent | None]) -> None:
    gaps = mreport.missing(stored[1], _facts(referral, stored[0]))
    if stored[2] is None:
        gaps.insert(0, "consent")
    if gaps:
        raise ReportInvalid(
            "The report is not complete.",
            errors=[{"field": g.split(":")[0], "message": _gap_message(g), "type": "missing"} for g in gaps],
        )


def _gap_message(gap: str) -> str:
    """A missing part of the report in words (``answers: <question>`` names the question)."""
    name, _, question = gap.partition(": ")
    if question:
        return f"No answer yet to the question: {question}"
    if name == "consent":
        return "The employee's consent to the report (recipients and sections) is not recorded yet."
    if name == "assessment_date":
        return "The assessment date is missing."
    return f"The section '{mreport.SECTION_TITLES.get(name, name)}' is empty."


async def _ready_step(
    conn: asyncpg.Connection, user: User, referral_id: UUID, action: str, settings: Settings | None = None
) -> ReportView:
    async with _use_case(conn, user, f"report.{action}", referral_id):
        _clinician(user)
        referral = await referral_service.get(conn, user, referral_id)
        stored = await _stored(conn, referral_id, lock=True)
        _complete(referral, stored)
        await _move(conn, user, referral_id, action)
        if settings is not None:  # sent for the employee's review: tell them
            await mine.tell_review_requested(conn, referral, settings)
        await _audit(conn, user, f"report.{action}", referral)
        return _view(referral, stored)


async def send_for_review(
    conn: asyncpg.Connection, user: User, referral_id: UUID, settings: Settings
) -> ReportView:
    """The employee chose to see it first: they get exactly what the manager would see, and a
    message that it waits for them."""
    return await _ready_step(conn, user, referral_id, "send_for_review", settings)


async def mark_ready(conn: asyncpg.Connection, user: User, referral_id: UUID) -> ReportView:
    """The employee chose release without seeing it first."""
    return await _ready_step(conn, user, referral_id, "ready_for_release")


async def request_correction(
    conn: asyncpg.Connection, user: User, referral_id: UUID, section: str, message: str
) -> None:
    """The employee flags a factual error; the report goes back to the clinician (opinion may stand)."""
    async with _use_case(conn, user, "report.correction", referral_id):
        referral = await referral_service.get(conn, user, referral_id)
        if user.role != Role.employee or referral.employee_user_id != user.id:
            raise ReportNotFound()
        await queries.insert_correction(conn, referral_id, user.id, section, message)
        await _move(conn, user, referral_id, "flag_error", message=f"[{section}] {message}")
        await _audit(conn, user, "report.correction", referral)


async def release(
    conn: asyncpg.Connection, user: User, referral_id: UUID, recipients: list[str], settings: Settings
) -> ReportView:
    """Release the report, frozen as it is now, to named recipients the employee agreed to."""
    async with _use_case(conn, user, "report.release", referral_id):
        _clinician(user)
        referral = await referral_service.get(conn, user, referral_id)
        stored = await _stored(conn, referral_id, lock=True)
        _complete(referral, stored)
        consent = stored[2]
        if consent is None:  # _complete has refused this already
            raise ReportInvalid("Record the employee's consent options first.")
        outside = sorted(set(recipients) - set(consent.recipients))
        if outside:
            raise ReportInvalid(
                "Release only to recipients the employee agreed to.",
                errors=[
                    {
                        "field": "recipients",
                        "message": f"not in the employee's consent: {', '.join(outside)}",
                        "type": "consent",
                    }
                ],
            )
        await _move(conn, user, referral_id, "release", recipients=recipients)
        row = await queries.get_report(conn, referral_id)
        version = int(row["version"]) if row else 0
        frozen = consent.model_copy(update={"release_choice": referral.decision.get("release_choice")})
        await queries.insert_version(
            conn,
            referral_id,
            version,
            "released",
            content=stored[1].model_dump(mode="json"),
            consent=frozen.model_dump(mode="json"),
            recipients=recipients,
            actor_id=user.id,
        )
        await _tell_released(conn, referral, recipients, settings)
        await _audit(conn, user, "report.release", referral)
        return _view(referral, stored)


async def _tell_released(
    conn: asyncpg.Connection, referral: ReferralRead, recipients: list[str], settings: Settings
) -> None:
    """Each recipient gets a link to the referral's page (which shows the report once signed in);
    the employee a link to their own page. Never an API address."""
    base = settings.public_url.rstrip("/")
    pages = dict.fromkeys(recipients, f"{base}/referrals.html#view={referral.id}")
    pages.setdefault(referral.employee_email, f"{base}/me.html")
    for recipient, link in pages.items():
        await notify.enqueue(
            conn,
            recipient=recipient,
            subject="Occupational health report released",
            provider_id=referral.provider_id,
            kind="report.released",
            body=f"The occupational health report for {referral.employee_name} has been released. "
            f"Sign in to read it: {link}",
        )


async def add_addendum(conn: asyncpg.Connection, user: User, referral_id: UUID, text: str) -> None:
    async with _use_case(conn, user, "report.addendum", referral_id):
        _clinician(user)
        referral = await referral_service.get(conn, user, referral_id)
        row = await queries.get_report(conn, referral_id, lock=True)
        if row is None:
            raise ReportNotFound()
        await _move(conn, user, referral_id, "add_addendum", message=text)
        await queries.insert_version(
            conn,
            referral_id,
            int(row["version"]),
            "addendum",
            content={"text": text},
            consent=row["consent"] or {},
            actor_id=user.id,
        )
        await _audit(conn, user, "report.addendum", referral)


async def readable(conn: asyncpg.Connection, user: User, referral_id: UUID) -> Readable:
    """The report as this caller may see it, or ReportNotFound (404). Audited."""
    async with _use_case(conn, user, "report.read", referral_id):
        referral = await referral_service.get(conn, user, referral_id)
        found = await _readable(conn, user, referral)
        await _audit(conn, user, "report.read", referral)
    return found


async def _readable(conn: asyncpg.Connection, user: User, referral: ReferralRead) -> Readable:
    addenda = [(at.strftime("%d %B %Y"), text) for text, at in await queries.addenda(conn, referral.id)]
    released = await queries.latest_released(conn, referral.id)
    if referral.status in RELEASED and released is not None:
        if user.role in (Role.manager, Role.client_admin) and user.email not in released["recipients"]:
            raise ReportNotFound()
        if user.role == Role.provider_admin:
            raise ReportNotFound()
        stored = (
            (await _stored(conn, referral.id, lock=False))[0],
            ReportContent.model_validate(released["content"]),
            ReportConsent.model_validate(released["consent"]),
        )
        return Readable(_view(referral, stored), addenda, True, referral.organisation_id)
    employee_preview = user.role == Role.employee and referral.status in PREVIEW
    if user.role == Role.clinician or employee_preview:
        return Readable(
            _view(referral, await _stored(conn, referral.id, lock=False)),
            addenda,
            False,
            referral.organisation_id,
        )
    raise ReportNotFound()


async def document(
    conn: asyncpg.Connection, user: User, referral_id: UUID, fmt: str, *, signer: DocumentSigner
) -> tuple[UUID, bytes, str]:
    """The report as PDF (rendered on a document thread; signed once released) or HTML, registered
    as an issued document (preview or released)."""
    found = await readable(conn, user, referral_id)
    content = content_hash({"view": found.view.model_dump(mode="json"), "addenda": found.addenda})
    stamp = Stamp(uuid4(), utc_now().replace(microsecond=0), content)
    if fmt == "pdf":
        render = functools.partial(mreport_render.render_pdf, found.view, stamp, found.addenda)
        data = await (signing.render_signed(signer, render) if found.released else offload.run(render))
    else:
        data = mreport_render.render_html(found.view, stamp, found.addenda).encode()
    kind = "management_report" if found.released else "management_report_preview"
    async with conn.transaction():
        await queries.insert_document(
            conn,
            id=stamp.document_id,
            kind=kind,
            entity="referral",
            entity_id=referral_id,
            organisation_id=found.organisation_id,
            issued_at=stamp.issued_at,
            issued_by=user.id,
            sha256=file_hash(data),
            content_sha256=stamp.content_sha256,
            data=data,
            store=False,
        )
    return stamp.document_id, data, file_hash(data)
