"""Sign-in, sign-out, and the signed-in person's own record and access log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from backend.audit import service as audit
from backend.audit.schemas import AccessLogEntry
from backend.auth import service
from backend.auth.cookies import clear_session_cookies, extend_session_cookies, set_session_cookies
from backend.auth.deps import AppSettings, CurrentSession, CurrentUser, bearer_token
from backend.auth.schemas import (
    EXAMPLE_LOGIN,
    EXAMPLE_USER,
    LoginRequest,
    LoginResponse,
    SessionStatus,
    UserRead,
)
from backend.core.openapi import errors, ok
from backend.db.deps import Conn

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post(
    "/auth/login", response_model=LoginResponse, responses={**ok(EXAMPLE_LOGIN), **errors(401, 422, 429, 503)}
)
async def login(
    body: LoginRequest, request: Request, response: Response, conn: Conn, settings: AppSettings
) -> LoginResponse:
    """Sign in with e-mail and password. Returns a bearer token and sets a session cookie."""
    client_ip = request.client.host if request.client else None
    issued = await service.login(
        conn, email=str(body.email), password=body.password, client_ip=client_ip, settings=settings
    )
    set_session_cookies(response, issued, settings)
    return LoginResponse(
        access_token=issued.token,
        expires_at=issued.expires_at,
        csrf_token=issued.csrf_token,
        user=UserRead.model_validate(issued.user.model_dump()),
    )


@router.post("/auth/logout", status_code=204, responses=errors(401, 403))
async def logout(found: CurrentSession, conn: Conn, response: Response) -> Response:
    """End this session: the token and cookie stop working at once."""
    session, user = found
    await service.logout(conn, session, user)
    response.status_code = 204
    clear_session_cookies(response)
    return response


@router.get("/auth/session", response_model=SessionStatus, responses=errors(401))
async def session_status(found: CurrentSession, settings: AppSettings) -> SessionStatus:
    """When this session ends, and whether it can still be extended (pages warn before the end)."""
    return service.session_status(found[0], settings)


@router.post("/auth/session/extend", response_model=SessionStatus, responses=errors(401, 403))
async def extend_session(
    found: CurrentSession, request: Request, response: Response, conn: Conn, settings: AppSettings
) -> SessionStatus:
    """Stay signed in: the session ends `session_hours` from now, but never later than
    `session_max_hours` after sign-in. A browser's cookies are renewed to match."""
    session, user = found
    status = await service.extend_session(conn, session, user, settings)
    if bearer_token(request) is None:  # signed in by cookie: the browser's cookies get the new end
        extend_session_cookies(request, response, status.expires_at, settings)
    return status


@router.get("/me", response_model=UserRead, responses={**ok(EXAMPLE_USER), **errors(401)})
async def me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user.model_dump())


@router.get("/me/access-log", response_model=list[AccessLogEntry], responses=errors(401))
async def access_log(
    user: CurrentUser,
    conn: Conn,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[AccessLogEntry]:
    """Who read or changed records about me, when, and what (newest first)."""
    return await audit.access_log_for(conn, user.actor(), user.email, limit=limit, offset=offset)
