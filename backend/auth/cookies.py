"""Session cookies for browsers: an HttpOnly session cookie and a readable CSRF cookie."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request, Response

from backend.auth.schemas import IssuedSession
from backend.core.config import Settings

SESSION_COOKIE = "ohc_session"
CSRF_COOKIE = "ohc_csrf"
CSRF_HEADER = "X-CSRF-Token"


def set_session_cookies(response: Response, issued: IssuedSession, settings: Settings) -> None:
    _set(response, issued.token, issued.csrf_token, issued.expires_at, settings)


def extend_session_cookies(
    request: Request, response: Response, expires_at: datetime, settings: Settings
) -> None:
    """Give the browser's session cookies (the ones this request carried) the session's new end."""
    token, csrf = request.cookies.get(SESSION_COOKIE), request.cookies.get(CSRF_COOKIE)
    if token and csrf:
        _set(response, token, csrf, expires_at, settings)


def _set(response: Response, token: str, csrf: str, expires_at: datetime, settings: Settings) -> None:
    secure = settings.cookies_secure
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/", expires=expires_at
    )
    response.set_cookie(
        CSRF_COOKIE, csrf, httponly=False, samesite="strict", secure=secure, path="/", expires=expires_at
    )


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
