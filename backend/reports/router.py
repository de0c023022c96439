"""HTTP for issued documents: certificates, results letters, reports and their verification."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from backend.auth.deps import AppSettings, CurrentUser
from backend.core.openapi import errors, ok
from backend.db.deps import Conn
from backend.reports import aggregate, mine, mreport_service, service
from backend.reports.aggregate import AggregateReport
from backend.reports.deps import Signer
from backend.reports.errors import ReportInvalid
from backend.reports.mreport import (
    Addendum,
    ReportConsent,
    ReportContent,
    ReportDraft,
    ReportRead,
    ReportView,
)
from backend.reports.render import file_hash
from backend.reports.schemas import (
    EXAMPLE_AGGREGATE,
    EXAMPLE_DOCUMENT_HEADERS,
    EXAMPLE_REPORT_VIEW,
    AddendumRequest,
    CorrectionRequest,
    DocumentCheck,
    MyReport,
    ReleaseRequest,
    Verification,
)

router = APIRouter(prefix="/api/v1", tags=["reports"])

MAX_VERIFY_BYTES = 1024 * 1024  # the app-wide body limit; certificates are a few kB
_PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The PDF", "headers": EXAMPLE_DOCUMENT_HEADERS}
}
_PDF_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def pdf_response(issued: service.Issued) -> Response:
    return Response(
        issued.data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{issued.filename}"',
            "X-Document-Id": str(issued.document_id),
            "X-Document-SHA256": issued.sha256,
        },
    )


@router.get(
    "/surveillance/results/{result_id}/certificate.pdf",
    response_class=Response,
    responses={**_PDF, **errors(401, 403, 404)},
    tags=["surveillance"],
)
async def certificate(result_id: UUID, user: CurrentUser, conn: Conn, signer: Signer) -> Response:
    """The individual certificate of a signed result: outcome, restrictions, employer actions, next due
    date. No test values, answers, clinical category or readings. Client administrators, managers
    (their department), the employee and clinicians; anything else is 404. PAdES-signed."""
    return pdf_response(await service.certificate_pdf(conn, user, result_id, signer))


@router.get(
    "/surveillance/results/{result_id}/letter.pdf",
    response_class=Response,
    responses={**_PDF, **errors(401, 404)},
    tags=["surveillance"],
)
async def results_letter(result_id: UUID, user: CurrentUser, conn: Conn, signer: Signer) -> Response:
    """The employee's own results letter, their values explained plainly (the employee and
    clinicians). PAdES-signed."""
    return pdf_response(await service.letter_pdf(conn, user, result_id, signer))


_SHA256 = Annotated[
    str,
    Query(
        pattern="^[0-9a-fA-F]{64}$", description="SHA-256 of your copy (or the content SHA-256 printed on it)"
    ),
]


@router.get("/documents/{document_id}/verify", response_model=Verification, responses=errors(401, 404, 422))
async def verify_hash(
    document_id: UUID,
    user: CurrentUser,
    conn: Conn,
    sha256: Annotated[str, Query(pattern="^[0-9a-fA-F]{64}$", description="SHA-256 of your copy")],
) -> Verification:
    """Does a copy match what was issued under this id? Send the file's SHA-256 (or POST the file).
    For users of the organisation the document concerns and of its provider; `404` for anyone else."""
    return await service.verify(conn, user, document_id, sha256)


@router.post(
    "/documents/{document_id}/verify",
    response_model=Verification,
    openapi_extra=_PDF_BODY,
    responses=errors(401, 403, 404, 413, 422),
)
async def verify_file(document_id: UUID, request: Request, user: CurrentUser, conn: Conn) -> Verification:
    """Upload the PDF you hold; the answer says whether it is the document issued under this id."""
    return await service.verify(conn, user, document_id, file_hash(await _pdf_body(request)))


async def _pdf_body(request: Request) -> bytes:
    data = await request.body()
    if not data or len(data) > MAX_VERIFY_BYTES:
        raise ReportInvalid("Send the PDF file as the request body.")
    return data


# Public on purpose: no sign-in, and the answer is only whether the copy is genuine.
_PUBLIC: dict[str, Any] = {"security": []}


@router.get(
    "/documents/{document_id}/check",
    response_model=DocumentCheck,
    responses=errors(422),
    openapi_extra=_PUBLIC,
)
async def check_hash(document_id: UUID, conn: Conn, sha256: _SHA256) -> DocumentCheck:
    """Public, no sign-in: is a copy genuine? Give the document id and SHA-256 printed on it (or the
    file's SHA-256). The answer is only `valid` true or false, the same for an unknown id."""
    return await service.check(conn, document_id, sha256)


@router.post(
    "/documents/{document_id}/check",
    response_model=DocumentCheck,
    openapi_extra={**_PDF_BODY, **_PUBLIC},
    responses=errors(413, 422),
)
async def check_file(document_id: UUID, request: Request, conn: Conn) -> DocumentCheck:
    """Public, no sign-in: upload the PDF you hold; the answer is only `valid` true or false."""
    return await service.check(conn, document_id, file_hash(await _pdf_body(request)))


@router.get(
    "/organisations/{organisation_id}/dashboard",
    response_model=AggregateReport,
    responses={**ok(EXAMPLE_AGGREGATE), **errors(401, 404)},
)
async def dashboard(organisation_id: UUID, user: CurrentUser, conn: Conn) -> AggregateReport:
    """Aggregate surveillance and referral figures for the employer's client administrators and managers,
    with small-number suppression (0 stays 0, 1-7 as *, others rounded to 5; no breakdown under 10)."""
    return await service.aggregate_report(conn, user, organisation_id)


@router.get(
    "/organisations/{organisation_id}/report.pdf",
    response_class=Response,
    responses={**_PDF, **errors(401, 404)},
)
async def aggregate_pdf(organisation_id: UUID, user: CurrentUser, conn: Conn, signer: Signer) -> Response:
    """The same suppressed figures as the dashboard, as a signed PDF with charts."""
    return pdf_response(await service.aggregate_pdf(conn, user, organisation_id, signer))


@router.get(
    "/organisations/{organisation_id}/report.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "CSV"}, **errors(401, 404)},
)
async def aggregate_csv(organisation_id: UUID, user: CurrentUser, conn: Conn) -> Response:
    """The same suppressed figures as the dashboard, one figure per line."""
    report = await service.aggregate_report(conn, user, organisation_id)
    return Response(
        aggregate.to_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="oh-report-{report.as_of.isoformat()}.csv"'},
    )


# ---- Management referral report ----

_STATE_ERRORS = errors(401, 403, 404, 409, 422)


@router.put(
    "/referrals/{referral_id}/report/consent",
    response_model=ReportConsent,
    responses=_STATE_ERRORS,
    tags=["referrals"],
)
async def record_consent(
    referral_id: UUID, body: ReportConsent, user: CurrentUser, conn: Conn
) -> ReportConsent:
    """Record what the employee agreed at the consultation: recipients (C2), optional sections and each
    clinical
    detail that may be shared (C3, off unless listed). Every version is kept."""
    return await mreport_service.record_consent(conn, user, referral_id, body)


@router.get(
    "/referrals/{referral_id}/report/draft",
    response_model=ReportDraft,
    responses=errors(401, 403, 404),
    tags=["referrals"],
)
async def report_draft(referral_id: UUID, user: CurrentUser, conn: Conn) -> ReportDraft:
    """The clinician's working copy: the saved content and consent, and the questions to answer."""
    return await mreport_service.draft(conn, user, referral_id)


@router.put(
    "/referrals/{referral_id}/report", response_model=ReportView, responses=_STATE_ERRORS, tags=["referrals"]
)
async def save_report(referral_id: UUID, body: ReportContent, user: CurrentUser, conn: Conn) -> ReportView:
    """Save the draft (clinicians, while drafting). The answer is what the manager would see."""
    return await mreport_service.save_draft(conn, user, referral_id, body)


@router.get(
    "/referrals/{referral_id}/report",
    response_model=ReportRead,
    responses={**ok(EXAMPLE_REPORT_VIEW), **errors(401, 404)},
    tags=["referrals"],
)
async def read_report(referral_id: UUID, user: CurrentUser, conn: Conn) -> ReportRead:
    """The report as you may see it: clinicians always; the employee from review on (the preview is what the
    manager will see); named recipients only after release. With its addenda."""
    found = await mreport_service.readable(conn, user, referral_id)
    return ReportRead(
        **found.view.model_dump(),
        addenda=[Addendum(on=on, text=text) for on, text in found.addenda],
        released=found.released,
    )


@router.post(
    "/referrals/{referral_id}/report/send-for-review",
    response_model=ReportView,
    responses=_STATE_ERRORS,
    tags=["referrals"],
)
async def send_for_review(
    referral_id: UUID, user: CurrentUser, conn: Conn, settings: AppSettings
) -> ReportView:
    """The employee chose to see the report first: it goes to them, and they are told by e-mail."""
    return await mreport_service.send_for_review(conn, user, referral_id, settings)


@router.get("/me/reports", response_model=list[MyReport], responses=errors(401, 403))
async def my_reports(user: CurrentUser, conn: Conn) -> list[MyReport]:
    """Your own management reports from review onwards (employees): to review, approved, released
    or withheld by you. Read each with GET /referrals/{referral_id}/report (exactly what the manager
    sees or will see)."""
    return await mine.my_reports(conn, user)


@router.post(
    "/referrals/{referral_id}/report/ready",
    response_model=ReportView,
    responses=_STATE_ERRORS,
    tags=["referrals"],
)
async def mark_ready(referral_id: UUID, user: CurrentUser, conn: Conn) -> ReportView:
    """Direct release chosen by the employee: mark the complete report ready for release."""
    return await mreport_service.mark_ready(conn, user, referral_id)


@router.post(
    "/referrals/{referral_id}/report/corrections",
    status_code=204,
    responses=_STATE_ERRORS,
    tags=["referrals"],
)
async def request_correction(
    referral_id: UUID, body: CorrectionRequest, user: CurrentUser, conn: Conn
) -> Response:
    """The employee asks for a factual correction; the report returns to the clinician."""
    await mreport_service.request_correction(conn, user, referral_id, body.section, body.message)
    return Response(status_code=204)


@router.post(
    "/referrals/{referral_id}/report/release",
    response_model=ReportView,
    responses=_STATE_ERRORS,
    tags=["referrals"],
)
async def release_report(
    referral_id: UUID, body: ReleaseRequest, user: CurrentUser, conn: Conn, settings: AppSettings
) -> ReportView:
    """Release (clinicians only) to named recipients the employee agreed to; the employee gets a copy."""
    return await mreport_service.release(conn, user, referral_id, [str(r) for r in body.recipients], settings)


@router.post(
    "/referrals/{referral_id}/report/addenda", status_code=204, responses=_STATE_ERRORS, tags=["referrals"]
)
async def add_addendum(referral_id: UUID, body: AddendumRequest, user: CurrentUser, conn: Conn) -> Response:
    """Answer a clarification request with an addendum (within the existing consent)."""
    await mreport_service.add_addendum(conn, user, referral_id, body.text)
    return Response(status_code=204)


@router.get(
    "/referrals/{referral_id}/report.pdf",
    response_class=Response,
    responses={**_PDF, **errors(401, 404)},
    tags=["referrals"],
)
async def report_pdf(referral_id: UUID, user: CurrentUser, conn: Conn, signer: Signer) -> Response:
    """The management report as PDF, signed once released (the HTML version has the same content
    and is the accessible one)."""
    document_id, data, digest = await mreport_service.document(conn, user, referral_id, "pdf", signer=signer)
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="oh-report-{referral_id}.pdf"',
            "X-Document-Id": str(document_id),
            "X-Document-SHA256": digest,
        },
    )


@router.get(
    "/referrals/{referral_id}/report.html",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}, "description": "HTML"}, **errors(401, 404)},
    tags=["referrals"],
)
async def report_html(referral_id: UUID, user: CurrentUser, conn: Conn, signer: Signer) -> Response:
    document_id, data, digest = await mreport_service.document(conn, user, referral_id, "html", signer=signer)
    return Response(
        data,
        media_type="text/html; charset=utf-8",
        headers={"X-Document-Id": str(document_id), "X-Document-SHA256": digest},
    )
