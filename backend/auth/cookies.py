"""Session cookies for browsers: an HttpOnly session cookie and a readable CSRF cookie."""

from __future__ import annotations

from fastapi import Response

from backend.auth.schemas import IssuedSession
from backend.core.config import Settings

SESSION_COOKIE = "ohc_session"
CSRF_COOKIE = "ohc_csrf"
CSRF_HEADER = "X-CSRF-Token"


def set_session_cookies(response: Response, issued: IssuedSession, settings: Settings) -> None:
    secure = settings.cookies_secure
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
        expires=issued.expires_at,
    )
    response.set_cookie(
        CSRF_COOKIE,
        issued.csrf_token,
        httponly=False,
        samesite="strict",
        secure=secure,
        path="/",
        expires=issued.expires_at,
    )


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
