"""Organisations, users, passwords and sessions. Each use-case owns its transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from backend.audit import service as audit
from backend.audit.schemas import Outcome
from backend.auth import queries
from backend.auth.errors import BadCredentials, BadOrganisation, EmailTaken, TooManyAttempts, WeakPassword
from backend.auth.passwords import hash_password, password_problem, verify_password
from backend.auth.schemas import (
    EMPLOYER_ROLES,
    PROVIDER_ROLES,
    IssuedSession,
    Organisation,
    OrgKind,
    Role,
    Session,
    SessionStatus,
    User,
)
from backend.auth.tokens import new_token, token_hash
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.core.errors import NotFound, Unauthenticated
from backend.db import scope

IP_FAILURE_LIMIT = 100


async def create_organisation(
    conn: asyncpg.Connection, *, name: str, kind: OrgKind, provider_id: UUID | None = None
) -> Organisation:
    name = name.strip()
    if not name or len(name) > 200:
        raise BadOrganisation("Organisation name must be 1 to 200 characters.")
    async with conn.transaction():
        if kind == "employer":
            provider = await queries.get_organisation(conn, provider_id) if provider_id else None
            if provider is None or provider.kind != "provider":
                raise BadOrganisation("An employer must name an existing provider organisation (--provider).")
        elif provider_id is not None:
            raise BadOrganisation("A provider organisation cannot have a provider.")
        if await queries.get_organisation_by_name(conn, name):
            raise BadOrganisation(f"An organisation named {name!r} already exists.")
        return await queries.insert_organisation(conn, name, kind, provider_id)


async def get_organisation(conn: asyncpg.Connection, org_id: UUID) -> Organisation | None:
    return await queries.get_organisation(conn, org_id)


async def find_organisation(conn: asyncpg.Connection, name: str) -> Organisation | None:
    return await queries.get_organisation_by_name(conn, name)


async def create_user(
    conn: asyncpg.Connection,
    *,
    organisation_id: UUID,
    role: Role,
    email: str,
    password: str | None,
    full_name: str = "",
    department: str | None = None,
) -> User:
    email = email.strip().lower()
    problem = password_problem(password, email) if password is not None else None
    if problem is not None:
        raise WeakPassword(problem.capitalize() + ".")
    password_hash = await hash_password(password) if password else None
    async with conn.transaction():
        org = await queries.get_organisation(conn, organisation_id)
        if org is None:
            raise BadOrganisation("No such organisation.")
        allowed = PROVIDER_ROLES if org.kind == "provider" else EMPLOYER_ROLES
        if role not in allowed:
            raise BadOrganisation(f"Role {role.value} does not belong in an organisation of kind {org.kind}.")
        if await queries.get_user_by_email(conn, email):
            raise EmailTaken()
        user_id = await queries.insert_user(
            conn,
            organisation_id=organisation_id,
            role=role.value,
            email=email,
            full_name=full_name.strip(),
            department=department,
            password_hash=password_hash,
        )
        user = await _reload(conn, user_id)
        await audit.record(conn, None, "user.create", "app_user", user_id, subject_user_id=user_id)
    return user


async def _reload(conn: asyncpg.Connection, user_id: UUID) -> User:
    user = await queries.get_user(conn, user_id)
    if user is None:
        raise RuntimeError(f"user {user_id} vanished inside its own transaction")
    return user


async def get_user(conn: asyncpg.Connection, user_id: UUID) -> User | None:
    return await queries.get_user(conn, user_id)


async def get_user_by_email(conn: asyncpg.Connection, email: str) -> User | None:
    return await queries.get_user_by_email(conn, email.strip().lower())


async def set_password(conn: asyncpg.Connection, user_id: UUID, password: str) -> None:
    await queries.set_password(conn, user_id, await hash_password(password))


async def _issue(conn: asyncpg.Connection, user: User, via: str, settings: Settings) -> IssuedSession:
    token, csrf = new_token(), new_token()
    expires_at = utc_now() + timedelta(hours=settings.session_hours)
    await queries.insert_session(conn, user.id, token_hash(token), token_hash(csrf), via, expires_at)
    return IssuedSession(token=token, csrf_token=csrf, expires_at=expires_at, user=user)


async def login(
    conn: asyncpg.Connection, *, email: str, password: str, client_ip: str | None, settings: Settings
) -> IssuedSession:
    """Check the password, throttled per account (and per client address) across processes.

    Throttling cannot be raced: under a per-account lock held in PostgreSQL, the recent failures
    are counted and this attempt is recorded as a failure before its password is checked (and
    marked succeeded afterwards if it was), so at most ``login_max_failures`` checks happen for
    one account in a window however many requests arrive at once, in however many processes.
    """
    email = email.strip().lower()
    attempt_id = await _reserve_attempt(conn, email, client_ip, settings)
    found = await queries.get_user_for_login(conn, email)
    ok = await verify_password(found[1] if found else None, password)
    async with conn.transaction():
        if ok:
            await queries.mark_login_succeeded(conn, attempt_id)
        if found is not None:
            user = found[0]
            outcome: Outcome = "ok" if ok else "denied"
            await audit.record(
                conn,
                user.actor(),
                "auth.login",
                "app_user",
                user.id,
                outcome=outcome,
                subject_user_id=user.id,
            )
        issued = await _issue(conn, found[0], "password", settings) if ok and found else None
    # The failed attempt was committed before the check, so it counts towards throttling.
    if issued is None:
        raise BadCredentials()
    return issued


async def _reserve_attempt(
    conn: asyncpg.Connection, email: str, client_ip: str | None, settings: Settings
) -> int:
    """Count recent failures and record this attempt, one request per account at a time (429 if over)."""
    window = timedelta(minutes=settings.login_window_minutes)
    async with conn.transaction():
        await queries.lock_login(conn, email)
        if await queries.recent_failures(conn, email, window) >= settings.login_max_failures or (
            client_ip and await queries.recent_ip_failures(conn, client_ip, window) >= IP_FAILURE_LIMIT
        ):
            raise TooManyAttempts(
                "Too many failed sign-in attempts. Wait a few minutes and try again.",
                retry_after_s=settings.login_window_minutes * 60,
            )
        return await queries.reserve_login_attempt(conn, email, client_ip)


async def issue_link_session(conn: asyncpg.Connection, user: User, settings: Settings) -> IssuedSession:
    """A session for someone who arrived through a verified single-use link (caller's transaction)."""
    issued = await _issue(conn, user, "link", settings)
    await audit.record(conn, user.actor(), "auth.link_login", "app_user", user.id, subject_user_id=user.id)
    return issued


async def issue_session(
    conn: asyncpg.Connection, user: User, *, via: str, settings: Settings
) -> IssuedSession:
    """A session for someone whose identity another use-case has just verified (caller's transaction),
    e.g. by an e-mailed one-time sign-in link (``via="sign_in_link"``)."""
    return await _issue(conn, user, via, settings)


async def revoke_sessions(conn: asyncpg.Connection, user_id: UUID) -> None:
    """End every session of this person at once (caller's transaction): after a password reset or
    when the account is deactivated."""
    await queries.revoke_user_sessions(conn, user_id)


async def ensure_employee(
    conn: asyncpg.Connection, *, email: str, organisation_id: UUID, full_name: str
) -> User:
    """The employee account for this e-mail in this employer, created (without password) if missing."""
    existing = await queries.get_user_by_email(conn, email)
    if existing is not None:
        if existing.role != Role.employee or existing.organisation_id != organisation_id:
            raise NotFound("This link is not valid.")
        return existing
    user_id = await queries.insert_user(
        conn,
        organisation_id=organisation_id,
        role=Role.employee.value,
        email=email,
        full_name=full_name,
        department=None,
        password_hash=None,
    )
    user = await _reload(conn, user_id)
    await audit.record(conn, None, "user.create", "app_user", user_id, subject_user_id=user_id)
    return user


async def authenticate(conn: asyncpg.Connection, token: str) -> tuple[Session, User] | None:
    """The live session a token belongs to, and its user; from then on ``conn`` sees only the
    organisations that user may see (row-level security, ``narrow_scope``)."""
    found = await queries.get_session(conn, token_hash(token))
    if found is not None:
        await narrow_scope(conn, found[1])
    return found


async def narrow_scope(conn: asyncpg.Connection, user: User) -> None:
    """Row-level security for the rest of the request: an employer's people see their own
    organisation; a provider's staff see the provider and every employer it serves."""
    if user.role in PROVIDER_ROLES:
        await scope.narrow_to_provider(conn, user.organisation_id)
    else:
        await scope.narrow_to_organisation(conn, user.organisation_id)


def _latest_expiry(session: Session, settings: Settings) -> datetime:
    return session.created_at + timedelta(hours=settings.session_max_hours)


def session_status(session: Session, settings: Settings) -> SessionStatus:
    return _status(session.expires_at, _latest_expiry(session, settings))


def _status(expires_at: datetime, latest: datetime) -> SessionStatus:
    return SessionStatus(expires_at=expires_at, latest_expiry=latest, can_extend=expires_at < latest)


async def extend_session(
    conn: asyncpg.Connection, session: Session, user: User, settings: Settings
) -> SessionStatus:
    """Move the session's end to ``session_hours`` from now, never past ``session_max_hours`` after
    sign-in (a stolen token cannot be kept alive for ever); audited."""
    latest = _latest_expiry(session, settings)
    until = min(utc_now() + timedelta(hours=settings.session_hours), latest)
    async with conn.transaction():
        expires_at = await queries.extend_session(conn, session.id, until)
        if expires_at is None:
            raise Unauthenticated("Your session has ended. Sign in again.")
        await audit.record(
            conn, user.actor(), "auth.session.extend", "app_user", user.id, subject_user_id=user.id
        )
    return _status(expires_at, latest)


async def logout(conn: asyncpg.Connection, session: Session, user: User) -> None:
    async with conn.transaction():
        await queries.revoke_session(conn, session.id)
        await audit.record(conn, user.actor(), "auth.logout", "app_user", user.id, subject_user_id=user.id)
