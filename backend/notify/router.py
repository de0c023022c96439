"""HTTP for provider admins: their provider's messages, failed deliveries and resending."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from backend.auth.deps import require_role
from backend.auth.schemas import Role, User
from backend.core.openapi import errors
from backend.db.deps import Conn
from backend.notify import service
from backend.notify.schemas import MessagePage, MessageSummary, Status

router = APIRouter(prefix="/api/v1", tags=["messages"])

ProviderAdmin = Annotated[User, Depends(require_role(Role.provider_admin))]


@router.get("/messages", response_model=MessagePage, responses=errors(401, 403, 422))
async def list_messages(
    user: ProviderAdmin,
    conn: Conn,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> MessagePage:
    """Messages sent for your provider, newest first (`status=failed`: deliveries that failed for
    good, each with its last error). Bodies are never listed."""
    return await service.list_messages(
        conn, user.actor(), user.provider_id, status=status, limit=limit, offset=offset
    )


@router.post(
    "/messages/{message_id}/resend", response_model=MessageSummary, responses=errors(401, 403, 404, 409)
)
async def resend_message(message_id: UUID, user: ProviderAdmin, conn: Conn) -> MessageSummary:
    """Queue a failed message again; it is delivered within seconds (`409` unless it failed)."""
    return await service.resend(conn, user.actor(), user.provider_id, message_id)
