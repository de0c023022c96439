"""E-mailed account links: forgotten password, one-time sign-in, setting a password from a link,
and whether this browser is signed in."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from backend.accounts import service
from backend.accounts.schemas import (
    LinkRequested,
    PasswordFromLink,
    PasswordResetRequest,
    PasswordSet,
    PasswordWithToken,
    SignInLinkRequest,
    SignInState,
    TokenRedeem,
)
from backend.auth.cookies import SESSION_COOKIE, set_session_cookies
from backend.auth.deps import AppSettings, CurrentSession, bearer_token
from backend.auth.schemas import LoginResponse, UserRead
from backend.core.openapi import errors
from backend.db.deps import Conn

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

_SENT = (
    "If this address belongs to an active account, we have sent it an e-mail with a link. "
    "Check your inbox (and spam folder); the link works once and for a limited time."
)


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post(
    "/password/forgotten", status_code=202, response_model=LinkRequested, responses=errors(422, 429, 503)
)
async def forgotten_password(
    body: PasswordResetRequest, request: Request, conn: Conn, settings: AppSettings
) -> LinkRequested:
    """E-mail a single-use password-reset link. The same answer whether or not the address has an
    account; throttled per address and per client address (`429`)."""
    await service.request_link(
        conn, purpose="reset_password", email=body.email, client_ip=_ip(request), settings=settings
    )
    return LinkRequested(detail=_SENT)


@router.post("/sign-in-link", status_code=202, response_model=LinkRequested, responses=errors(422, 429, 503))
async def sign_in_link(
    body: SignInLinkRequest, request: Request, conn: Conn, settings: AppSettings
) -> LinkRequested:
    """E-mail a single-use sign-in link (returning to `next`, a page of this site, once signed in).
    The same answer whether or not the address has an account; throttled (`429`)."""
    await service.request_link(
        conn, purpose="sign_in", email=body.email, client_ip=_ip(request),
        next_path=body.next, settings=settings,
    )  # fmt: skip
    return LinkRequested(detail=_SENT)


@router.post("/sign-in-link/redeem", response_model=LoginResponse, responses=errors(404, 422, 429, 503))
async def redeem_sign_in_link(
    body: TokenRedeem, request: Request, response: Response, conn: Conn, settings: AppSettings
) -> LoginResponse:
    """Spend a one-time sign-in link for a normal session (bearer token and session cookie).
    `404` when the link is unknown, used, expired or its account deactivated."""
    issued = await service.redeem_sign_in(conn, token=body.token, client_ip=_ip(request), settings=settings)
    set_session_cookies(response, issued, settings)
    return LoginResponse(
        access_token=issued.token,
        expires_at=issued.expires_at,
        csrf_token=issued.csrf_token,
        user=UserRead.model_validate(issued.user.model_dump()),
    )


@router.post("/password", response_model=PasswordSet, responses=errors(404, 422, 429, 503))
async def set_password(
    body: PasswordWithToken, request: Request, conn: Conn, settings: AppSettings
) -> PasswordSet:
    """Set a password with an invitation or password-reset link (`weak_password` when the password
    policy refuses it; the link stays usable then). Every session of the account ends."""
    return await service.set_password_with_token(
        conn, token=body.token, password=body.password, client_ip=_ip(request), settings=settings
    )


@router.post("/password/from-link", response_model=PasswordSet, responses=errors(401, 403, 409, 422, 503))
async def set_password_from_link(body: PasswordFromLink, found: CurrentSession, conn: Conn) -> PasswordSet:
    """An employee signed in by their referral link sets a first password, to sign in later."""
    session, user = found
    return await service.set_password_from_link(conn, session=session, user=user, password=body.password)


@router.get("/status", response_model=SignInState, responses=errors(503))
async def sign_in_state(request: Request, conn: Conn) -> SignInState:
    """Whether this browser (cookie) or token is signed in, and as whom. Always `200`, so pages
    open to everyone can check without an error."""
    user = await service.signed_in(conn, bearer_token(request) or request.cookies.get(SESSION_COOKIE))
    if user is None:
        return SignInState(signed_in=False)
    return SignInState(signed_in=True, user=UserRead.model_validate(user.model_dump()))
