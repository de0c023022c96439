"""The demo mailbox: every message "sent" by the development ``log`` sender, newest first, with
working links and downloadable calendar invitations.

It exists only when the sender is ``log`` and the environment is not production (otherwise its
routes are not mounted: 404). It reads the outbox table, so it survives restarts. Only fictional
demo or development data ever passes through the ``log`` sender, and anyone who can reach a
development server can read its log, so the mailbox asks no one to sign in.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from backend.core.config import Settings
from backend.core.openapi import errors
from backend.db.deps import Conn
from backend.notify import queries
from backend.notify.errors import MessageNotFound
from backend.notify.schemas import MailboxPage

router = APIRouter(tags=["development"])
PATH = "/mailbox"


def enabled(settings: Settings) -> bool:
    return settings.demo_mailbox and settings.mail_sender == "log" and settings.environment != "production"


@router.get(PATH, response_class=HTMLResponse, include_in_schema=False)
async def mailbox_page() -> HTMLResponse:
    page = resources.files("backend.notify").joinpath("mailbox.html").read_text("utf-8")
    return HTMLResponse(page)


@router.get("/api/v1/mailbox", response_model=MailboxPage, responses=errors(422))
async def mailbox_messages(
    conn: Conn,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> MailboxPage:
    """Development and demo only (absent in production): every message sent, newest first."""
    items, total = await queries.mailbox(conn, limit=limit, offset=offset)
    return MailboxPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/api/v1/mailbox/{message_id}/invite.ics", responses=errors(404))
async def mailbox_invite(message_id: UUID, conn: Conn) -> Response:
    """Development and demo only: a message's calendar invitation, as an .ics download."""
    text = await queries.calendar(conn, message_id)
    if text is None:
        raise MessageNotFound("No such message, or it has no calendar invitation.")
    return Response(
        text,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="invite.ics"'},
    )
