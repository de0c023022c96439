"""HTTP for the data subject's rights, exercised by the provider admin: subject access (JSON and
PDF), rectification and erasure. The person is named in the request body, never in the address,
so no e-mail address reaches an access log."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response

from backend.auth.deps import require_role
from backend.auth.schemas import Role, User
from backend.core.clock import utc_now
from backend.core.openapi import errors, ok
from backend.db.deps import Conn
from backend.lifecycle import service
from backend.lifecycle.schemas import (
    EXAMPLE_EXPORT,
    EXAMPLE_RECTIFICATION,
    DetailsChange,
    Erasure,
    Rectification,
    SubjectAccessExport,
    SubjectQuery,
)

router = APIRouter(prefix="/api/v1", tags=["data rights"])

ProviderAdmin = Annotated[User, Depends(require_role(Role.provider_admin))]

_PDF: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        "description": "The PDF",
    }
}


@router.post(
    "/subject-access/export.json",
    response_model=SubjectAccessExport,
    responses={**ok(EXAMPLE_EXPORT), **errors(401, 403, 404, 422, 503)},
)
async def export_json(body: SubjectQuery, admin: ProviderAdmin, conn: Conn) -> SubjectAccessExport:
    """Everything held on one person at your client employers (by account id or e-mail address),
    machine-readable: account, referrals with their history, comments and attachment descriptions,
    reports, appointments, surveillance, reading summaries and consents, messages sent to them
    (links removed) and the audit log about them. Each section holds at most 5,000 rows and says
    when it was cut short. `404` for anyone not at your client employers."""
    return await service.export(conn, admin, body, now=utc_now())


@router.post(
    "/subject-access/export.pdf",
    response_class=Response,
    responses={**_PDF, **errors(401, 403, 404, 422, 503)},
)
async def export_pdf(body: SubjectQuery, admin: ProviderAdmin, conn: Conn) -> Response:
    """The same export as a readable PDF, to hand to the person."""
    data = await service.export_pdf(conn, admin, body, now=utc_now())
    return Response(
        data, media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="subject-access-export.pdf"'},
    )  # fmt: skip


@router.patch(
    "/people/{user_id}/personal-details",
    response_model=Rectification,
    responses={**ok(EXAMPLE_RECTIFICATION), **errors(401, 403, 404, 409, 422, 503)},
)
async def rectify(user_id: UUID, body: DetailsChange, admin: ProviderAdmin, conn: Conn) -> Rectification:
    """Correct an employee's name, e-mail, phone or date of birth where they are current (account,
    surveillance register, appointments to come). Each change is kept with its old and new value
    and the reason; referral forms, reports and results stay as they were written.
    `409` when another account has the new e-mail address."""
    return await service.rectify(conn, admin, user_id, body)


@router.post(
    "/people/{user_id}/erasure", response_model=Erasure, responses=errors(401, 403, 404, 409, 422, 503)
)
async def erase(user_id: UUID, admin: ProviderAdmin, conn: Conn) -> Erasure:
    """Erase an employee about whom nothing must be kept (no clinical or health-surveillance
    record): the account is emptied and closed, drafts never submitted are erased. `409`
    (`retention_applies`) names each kind of record that must be kept and until when."""
    return await service.erase(conn, admin, user_id, now=utc_now())
