"""HTTP for referrals: parse, call the service, return schemas. No SQL here."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile

from backend.auth.cookies import set_session_cookies
from backend.auth.deps import AppSettings, CurrentUser
from backend.core import listing
from backend.core.listing import ListParams
from backend.core.openapi import errors, ok
from backend.db.deps import Conn
from backend.referrals import service
from backend.referrals.errors import AttachmentTooLarge, ReferralInvalid
from backend.referrals.form import ReferralForm
from backend.referrals.schemas import (
    EXAMPLE_FORM,
    EXAMPLE_PAGE,
    EXAMPLE_REFERRAL,
    Acknowledgement,
    Attachment,
    AttachmentKind,
    Comment,
    CommentCreate,
    LinkRedeem,
    LinkSession,
    ReferralEvent,
    ReferralFilters,
    ReferralPage,
    ReferralRead,
    SubmitResult,
    TransitionRequest,
)
from backend.referrals.transitions import Status
from backend.referrals.validation import MAX_FORM_BYTES

router = APIRouter(prefix="/api/v1", tags=["referrals"])

_FORM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ReferralForm"},
                "example": EXAMPLE_FORM,
            }
        },
    }
}
# Models referenced only from hand-written request bodies; main adds them to the OpenAPI components.
OPENAPI_MODELS = [ReferralForm]
_MULTIPART_OVERHEAD = 64 * 1024


@router.post(
    "/referrals",
    status_code=201,
    response_model=ReferralRead,
    openapi_extra=_FORM_BODY,
    responses=errors(401, 403, 422),
)
async def create_referral(request: Request, user: CurrentUser, conn: Conn) -> ReferralRead:
    """Create a referral as a draft. Drafts may leave required fields empty; everything given is checked."""
    return await service.create(conn, user, await _json(request))


@router.put(
    "/referrals/{referral_id}",
    response_model=ReferralRead,
    openapi_extra=_FORM_BODY,
    responses=errors(401, 403, 404, 409, 422),
)
async def update_referral(referral_id: UUID, request: Request, user: CurrentUser, conn: Conn) -> ReferralRead:
    """Replace the form of a draft (or of a referral awaiting more information)."""
    return await service.update_form(conn, user, referral_id, await _json(request))


async def _json(request: Request) -> Any:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES * 2:
        raise ReferralInvalid("The referral form is too large.")
    try:
        return json.loads(body or b"null")
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser follows
        raise ReferralInvalid(
            "The body is not valid JSON.",
            errors=[{"field": "body", "message": "invalid JSON", "type": "json_invalid"}],
        ) from None


@router.post(
    "/referrals/{referral_id}/submit", response_model=SubmitResult, responses=errors(401, 403, 404, 409, 422)
)
async def submit_referral(
    referral_id: UUID, user: CurrentUser, conn: Conn, settings: AppSettings
) -> SubmitResult:
    """Submit a complete draft (needs the "employee informed" attestation). The employee is sent a link."""
    return await service.submit(conn, user, referral_id, settings)


ReferralList = Annotated[
    ListParams,
    Depends(listing.query(sorts=("submitted", "updated", "priority", "status"), default="-updated")),
]


def referral_filters(
    status: Annotated[list[Status] | None, Query(max_length=25, description="One or more states.")] = None,
    department: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    submitted_from: Annotated[date | None, Query(description="Submitted on or after (UK date).")] = None,
    submitted_to: Annotated[date | None, Query(description="Submitted on or before (UK date).")] = None,
    overdue: Annotated[bool | None, Query(description="Past the time target for its state.")] = None,
) -> ReferralFilters:
    if submitted_from and submitted_to and submitted_from > submitted_to:
        raise ReferralInvalid(
            "Please check: submitted_to",
            errors=[{"field": "submitted_to", "message": "is before submitted_from", "type": "date_range"}],
        )
    return ReferralFilters(
        statuses=status,
        department=department,
        submitted_from=submitted_from,
        submitted_to=submitted_to,
        overdue=overdue,
    )


@router.get("/referrals", response_model=ReferralPage, responses={**ok(EXAMPLE_PAGE), **errors(401, 422)})
async def list_referrals(
    user: CurrentUser,
    conn: Conn,
    page: ReferralList,
    filters: Annotated[ReferralFilters, Depends(referral_filters)],
) -> ReferralPage:
    """Referrals you may see, one page at a time. `q` searches the employee's name and payroll number;
    `sort=priority` puts the most urgent, then the longest waiting, first."""
    return await service.list_for(conn, user, page=page, filters=filters)


@router.get(
    "/referrals/{referral_id}",
    response_model=ReferralRead,
    responses={**ok(EXAMPLE_REFERRAL), **errors(401, 404)},
)
async def get_referral(referral_id: UUID, user: CurrentUser, conn: Conn) -> ReferralRead:
    """The referral as you may see it: `view` says which (the progress view leaves out the
    employee's contact details and every health detail; see `backend/referrals/disclosure.py`)."""
    return await service.read(conn, user, referral_id)


@router.delete("/referrals/{referral_id}", status_code=204, responses=errors(401, 403, 404, 409))
async def delete_referral(referral_id: UUID, user: CurrentUser, conn: Conn) -> Response:
    """Delete a draft (its referrer only): its content and files are erased; a submitted referral is
    withdrawn instead (`409`)."""
    await service.delete_draft(conn, user, referral_id)
    return Response(status_code=204)


@router.post(
    "/referrals/{referral_id}/transitions",
    response_model=ReferralRead,
    responses=errors(401, 403, 404, 409, 422),
)
async def transition_referral(
    referral_id: UUID, body: TransitionRequest, user: CurrentUser, conn: Conn
) -> ReferralRead:
    """Every state change other than submit; `409` when the current state does not allow it."""
    return await service.transition(conn, user, referral_id, body)


@router.get("/referrals/{referral_id}/events", response_model=list[ReferralEvent], responses=errors(401, 404))
async def referral_events(referral_id: UUID, user: CurrentUser, conn: Conn) -> list[ReferralEvent]:
    """The append-only history of the referral."""
    return await service.events(conn, user, referral_id)


@router.get(
    "/referrals/{referral_id}/comments", response_model=list[Comment], responses=errors(401, 403, 404)
)
async def list_comments(referral_id: UUID, user: CurrentUser, conn: Conn) -> list[Comment]:
    return await service.comments(conn, user, referral_id)


@router.post(
    "/referrals/{referral_id}/comments",
    status_code=201,
    response_model=list[Comment],
    responses=errors(401, 403, 404, 409, 422),
)
async def add_comment(referral_id: UUID, body: CommentCreate, user: CurrentUser, conn: Conn) -> list[Comment]:
    """Add to the conversation between the referrer and occupational health."""
    return await service.add_comment(conn, user, referral_id, body.body)


@router.post(
    "/referrals/{referral_id}/attachments",
    status_code=201,
    response_model=Attachment,
    responses=errors(401, 403, 404, 409, 413, 422),
)
async def add_attachment(
    referral_id: UUID,
    request: Request,
    user: CurrentUser,
    conn: Conn,
    settings: AppSettings,
    file: Annotated[UploadFile, File(description="PDF, JPEG, PNG or DOCX; at most 10 MB")],
    kind: Annotated[AttachmentKind, Form()] = "other",
) -> Attachment:
    """Attach a file. Its type is checked from its content; nothing is stored if any check fails."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > settings.attachment_max_bytes + _MULTIPART_OVERHEAD:
        raise AttachmentTooLarge(
            f"Each file may be at most {settings.attachment_max_bytes // (1024 * 1024)} MB."
        )
    data = await file.read(settings.attachment_max_bytes + 1)
    return await service.add_attachment(
        conn, user, referral_id, kind=kind, filename=file.filename or "file", data=data, settings=settings
    )


@router.get(
    "/referrals/{referral_id}/attachments", response_model=list[Attachment], responses=errors(401, 403, 404)
)
async def list_attachments(referral_id: UUID, user: CurrentUser, conn: Conn) -> list[Attachment]:
    return await service.list_attachments(conn, user, referral_id)


@router.get(
    "/referrals/{referral_id}/attachments/{attachment_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, **errors(401, 403, 404)},
)
async def download_attachment(
    referral_id: UUID, attachment_id: UUID, user: CurrentUser, conn: Conn
) -> Response:
    filename, content_type, data = await service.get_attachment(conn, user, referral_id, attachment_id)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename)[:100] or "file"
    return Response(
        data, media_type=content_type, headers={"Content-Disposition": f'attachment; filename="{safe}"'}
    )


@router.post(
    "/referrals/{referral_id}/acknowledgement",
    response_model=ReferralRead,
    responses=errors(401, 403, 404, 409, 422),
)
async def acknowledge(
    referral_id: UUID, body: Acknowledgement, user: CurrentUser, conn: Conn
) -> ReferralRead:
    """The employee confirms the referral was (or was not) discussed with them."""
    return await service.acknowledge(conn, user, referral_id, body)


@router.post("/auth/link", response_model=LinkSession, tags=["auth"], responses=errors(404, 422))
async def redeem_link(body: LinkRedeem, response: Response, conn: Conn, settings: AppSettings) -> LinkSession:
    """Exchange an employee's single-use link for a session (sets the session cookie)."""
    issued, referral_id = await service.redeem_link(conn, body.token, settings)
    set_session_cookies(response, issued, settings)
    return LinkSession(
        access_token=issued.token,
        csrf_token=issued.csrf_token,
        expires_at=issued.expires_at,
        referral_id=referral_id,
    )
