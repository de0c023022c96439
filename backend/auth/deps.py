"""Who is calling: bearer token or session cookie (with CSRF for cookie-authenticated writes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from backend.auth import service
from backend.auth.cookies import CSRF_HEADER, SESSION_COOKIE
from backend.auth.errors import CsrfFailed, RoleNotAllowed
from backend.auth.schemas import Role, Session, User
from backend.auth.tokens import matches
from backend.core.config import Settings
from backend.core.errors import Unauthenticated
from backend.core.openapi import BEARER_SCHEME, SESSION_COOKIE_SCHEME
from backend.db.deps import Conn

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_settings(request: Request) -> Settings:
    """The app's settings (async: a plain function dependency would run in the thread pool)."""
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(get_settings)]


# How to sign in, as OpenAPI security schemes. They never refuse anything themselves (the
# dependencies below do); declaring them puts the requirement on every operation that needs sign-in.
BEARER = HTTPBearer(
    scheme_name=BEARER_SCHEME,
    bearerFormat="opaque",
    description="The `access_token` from `POST /api/v1/auth/login` (or a measurement's device token "
    "for readings batches).",
    auto_error=False,
)
SESSION = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name=SESSION_COOKIE_SCHEME,
    description="The session cookie set by sign-in (browsers); writes also need the `X-CSRF-Token` header.",
    auto_error=False,
)


async def sign_in_schemes(
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
    _cookie: Annotated[str | None, Security(SESSION)],
) -> None:
    """Documents the ways to sign in; the credentials are checked by ``get_session``."""


SignInSchemes = Annotated[None, Depends(sign_in_schemes)]


def has_credentials(request: HTTPConnection) -> bool:
    """Whether the request carries a bearer token or a session cookie (valid or not)."""
    return bearer_token(request) is not None or bool(request.cookies.get(SESSION_COOKIE))


def bearer_token(request: HTTPConnection) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, if the request has one."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def get_session(request: Request, conn: Conn, _schemes: SignInSchemes = None) -> tuple[Session, User]:
    token = bearer_token(request)
    via_cookie = token is None
    if token is None:
        token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        raise Unauthenticated("Sign in to continue.")
    found = await service.authenticate(conn, token)
    if found is None:
        raise Unauthenticated("Your session has ended. Sign in again.")
    session, _user = found
    if via_cookie and request.method not in _SAFE_METHODS:
        csrf = request.headers.get(CSRF_HEADER, "")
        if not csrf or len(csrf) > 200 or not matches(csrf, session.csrf_hash):
            raise CsrfFailed("This request needs the X-CSRF-Token header from sign-in.")
    return found


CurrentSession = Annotated[tuple[Session, User], Depends(get_session)]


async def get_current_user(found: CurrentSession) -> User:
    return found[1]


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_role(*roles: Role) -> Callable[[User], Awaitable[User]]:
    async def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise RoleNotAllowed(f"This needs one of the roles: {', '.join(r.value for r in roles)}.")
        return user

    return check


Clinical = Annotated[User, Depends(require_role(Role.clinician, Role.provider_admin))]
