"""Issuing documents: certificates, results letters (and, in other modules, reports); verifying them.

A certificate or results letter is rendered once, the first time anyone allowed asks for it after
the result is signed off, PAdES-signed (backend.reports.signing), stored with the SHA-256 of the
signed file, and the same bytes are served from then on. Rendering and signing happen on a
document thread between the audited read and the short insert, never while holding row locks and
never on the event loop.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from uuid import UUID, uuid4

import asyncpg

from backend.audit import service as audit
from backend.audit.schemas import NoSubject, Subject
from backend.auth.schemas import Role, User
from backend.core.clock import utc_now
from backend.reports import aggregate, certificate, queries, signing
from backend.reports import aggregate_pdf as aggregate_pdf_module
from backend.reports.aggregate import AggregateReport
from backend.reports.errors import DocumentNotFound, ReportNotFound
from backend.reports.render import Stamp, content_hash, file_hash
from backend.reports.schemas import DocumentCheck, DocumentKind, StoredDocument, Verification
from backend.reports.signing import DocumentSigner
from backend.surveillance import results as surveillance_results
from backend.surveillance import service as surveillance_service


@dataclass(frozen=True)
class Issued:
    document_id: UUID
    filename: str
    data: bytes
    sha256: str


async def _issue_once(
    conn: asyncpg.Connection,
    user: User,
    *,
    kind: DocumentKind,
    entity_id: UUID,
    organisation_id: UUID,
    content_sha256: str,
    render: Callable[[Stamp], bytes],
    signer: DocumentSigner,
    subject: Subject,
) -> StoredDocument:
    existing = await queries.stored_for(conn, entity_id, kind)
    if existing is not None:
        return existing
    stamp = Stamp(uuid4(), utc_now().replace(microsecond=0), content_sha256)
    data = await signing.render_signed(signer, lambda: render(stamp))
    async with conn.transaction():
        inserted = await queries.insert_document(
            conn,
            id=stamp.document_id,
            kind=kind,
            entity="hs_result",
            entity_id=entity_id,
            organisation_id=organisation_id,
            issued_at=stamp.issued_at,
            issued_by=user.id,
            sha256=file_hash(data),
            content_sha256=content_sha256,
            data=data,
            store=True,
        )
        if inserted is None:  # issued by a concurrent request first: serve that one
            inserted = await queries.stored_for(conn, entity_id, kind)
        if inserted is None:
            raise RuntimeError("document neither inserted nor found")
        await audit.record(
            conn, user.actor(), f"document.issue.{kind}", "document", inserted.id, subject=subject
        )
    return inserted


def _issued(found: StoredDocument, filename: str) -> Issued:
    if found.data is None:
        raise RuntimeError("a stored certificate has no bytes")
    return Issued(found.id, filename, found.data, found.sha256)


async def certificate_pdf(
    conn: asyncpg.Connection, user: User, result_id: UUID, signer: DocumentSigner
) -> Issued:
    """The certificate for a signed result; the read is audited by the surveillance service."""
    view = await surveillance_results.certificate_view(conn, user, result_id)
    found = await _issue_once(
        conn,
        user,
        kind="hs_certificate",
        entity_id=view.id,
        organisation_id=view.organisation_id,
        content_sha256=certificate.certificate_hash(view),
        render=lambda stamp: certificate.render_certificate(view, stamp),
        signer=signer,
        subject=await surveillance_results.subject_of(conn, view),
    )
    return _issued(found, f"certificate-{view.id}.pdf")


async def letter_pdf(conn: asyncpg.Connection, user: User, result_id: UUID, signer: DocumentSigner) -> Issued:
    letter = await surveillance_results.letter_view(conn, user, result_id)
    found = await _issue_once(
        conn,
        user,
        kind="hs_results_letter",
        entity_id=letter.result.id,
        organisation_id=letter.result.organisation_id,
        content_sha256=content_hash(certificate.letter_content(letter)),
        render=lambda stamp: certificate.render_letter(letter, stamp),
        signer=signer,
        subject=await surveillance_results.subject_of(conn, letter.result),
    )
    return _issued(found, f"results-letter-{letter.result.id}.pdf")


async def verify(conn: asyncpg.Connection, user: User, document_id: UUID, sha256: str) -> Verification:
    """Does a copy (its SHA-256) match what was issued under this id, and what is it? Audited.

    Only for users of the organisation the document concerns and of its provider: anyone else
    gets the same 404 as for an id that was never issued. Outsiders holding a copy use ``check``.
    """
    async with conn.transaction():
        found = await queries.get_document_in_scope(conn, document_id, user.organisation_id)
        if found is None:
            await audit.record(
                conn,
                user.actor(),
                "document.verify",
                "document",
                document_id,
                outcome="not_found",
                subject=NoSubject,
            )
    if found is None:
        raise DocumentNotFound()
    matches = hmac.compare_digest(found.sha256, sha256.lower())
    async with conn.transaction():
        await audit.record(
            conn, user.actor(), "document.verify", "document", document_id,
            outcome="ok" if matches else "invalid", subject=NoSubject,
        )  # fmt: skip
    return Verification(document_id=found.id, matches=matches, kind=found.kind, issued_at=found.issued_at)


async def check(conn: asyncpg.Connection, document_id: UUID, sha256: str) -> DocumentCheck:
    """The public check for anyone holding a copy (no sign-in): valid or not, nothing else.

    ``sha256`` is the file's SHA-256 or the content SHA-256 printed on the document. An unknown id
    and a copy that does not match get the same answer, so the check reveals neither whether a
    document exists nor its kind, date or organisation. Audited without an actor.
    """
    wanted = sha256.lower()
    async with conn.transaction():
        found = await queries.get_document(conn, document_id)
        valid = found is not None and (
            hmac.compare_digest(found.sha256, wanted) or hmac.compare_digest(found.content_sha256, wanted)
        )
        await audit.record(
            conn, None, "document.check", "document", document_id,
            outcome="ok" if valid else "invalid", subject=NoSubject,
        )  # fmt: skip
    return DocumentCheck(valid=valid)


# ---- The employer's aggregate report (dashboard, PDF, CSV) ----

EMPLOYER_REPORT_ROLES = frozenset({Role.client_admin, Role.manager})


async def aggregate_report(conn: asyncpg.Connection, user: User, organisation_id: UUID) -> AggregateReport:
    """Suppressed figures for one employer: its client administrators and managers only (else 404)."""
    today = utc_now().date()
    starts = aggregate.period(today)
    end = today + timedelta(days=1)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        allowed = user.role in EMPLOYER_REPORT_ROLES and user.organisation_id == organisation_id
        name = await queries.organisation_name(conn, organisation_id) if allowed else None
        if name is None:
            found = None
        else:
            hs = await surveillance_service.counts(
                conn, organisation_id, start=starts[0], end=end, today=today
            )
            window = (datetime.combine(starts[0], time(), UTC), datetime.combine(end, time(), UTC))
            referrals = await queries.referral_quarters(conn, organisation_id, *window)
            found = aggregate.build(name, today, hs, referrals)
    async with conn.transaction():
        await audit.record(
            conn,
            user.actor(),
            "report.aggregate.read",
            "organisation",
            organisation_id,
            outcome="ok" if found else "not_found",
            subject=NoSubject,
        )
    if found is None:
        raise ReportNotFound("No such organisation.")
    return found


async def aggregate_pdf(
    conn: asyncpg.Connection, user: User, organisation_id: UUID, signer: DocumentSigner
) -> Issued:
    report = await aggregate_report(conn, user, organisation_id)
    stamp = Stamp(uuid4(), utc_now().replace(microsecond=0), aggregate_pdf_module.aggregate_hash(report))
    data = await signing.render_signed(signer, lambda: aggregate_pdf_module.render_aggregate(report, stamp))
    async with conn.transaction():
        await queries.insert_document(
            conn,
            id=stamp.document_id,
            kind="aggregate_report",
            entity="organisation",
            entity_id=organisation_id,
            organisation_id=organisation_id,
            issued_at=stamp.issued_at,
            issued_by=user.id,
            sha256=file_hash(data),
            content_sha256=stamp.content_sha256,
            data=data,
            store=False,
        )
        await audit.record(
            conn, user.actor(), "document.issue.aggregate_report", "document", stamp.document_id,
            subject=NoSubject,
        )  # fmt: skip
    return Issued(stamp.document_id, f"oh-report-{report.as_of.isoformat()}.pdf", data, file_hash(data))
