"""E-mailed account links: invitations (set a first password), password resets and one-time
sign-in links. Tokens are random, stored only as SHA-256, single-use, expiring and throttled per
address and per client address (rows in PostgreSQL, so the limits hold across processes).

Asking for a link answers the same, in about the same time, whether or not the address has an
account; a deactivated account is sent nothing and its links stop working.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import quote
from uuid import UUID

import asyncpg

from backend.accounts import queries
from backend.accounts.errors import LinkNotValid, NotLinkSession, PasswordAlreadySet, TooManyLinkRequests
from backend.accounts.schemas import PASSWORD_PURPOSES, AccountUser, NewToken, PasswordSet, Purpose
from backend.audit import service as audit
from backend.audit.schemas import NoSubject, Outcome
from backend.auth import service as auth_service
from backend.auth.errors import WeakPassword
from backend.auth.passwords import password_problem
from backend.auth.schemas import IssuedSession, Session, User
from backend.auth.tokens import new_token, token_hash
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.core.errors import AppError
from backend.notify import service as notify

RESPONSE_FLOOR_S = 0.25  # link requests answer no sooner, so timing does not tell if an account exists
ALL_PURPOSES: tuple[Purpose, ...] = ("set_password", "reset_password", "sign_in")
KIND: dict[Purpose, str] = {
    "set_password": "auth.invitation",
    "reset_password": "auth.reset_password",
    "sign_in": "auth.sign_in_link",
}
_USED = "This link has already been used or has expired. Ask for a new one."


def _lifetime(purpose: Purpose, settings: Settings) -> timedelta:
    if purpose == "set_password":
        return timedelta(days=settings.invitation_days)
    if purpose == "reset_password":
        return timedelta(minutes=settings.password_reset_minutes)
    return timedelta(minutes=settings.sign_in_link_minutes)


def _page_url(purpose: Purpose, token: str, next_path: str | None, settings: Settings) -> str:
    """The page (never an API address) that the e-mailed link opens; the token travels in the
    fragment, which browsers do not send to servers or in Referer headers."""
    base = settings.public_url.rstrip("/")
    if purpose == "sign_in":
        query = f"?next={quote(next_path, safe='/')}" if next_path else ""
        return f"{base}/{query}#sign-in={token}"
    which = "invite" if purpose == "set_password" else "reset"
    return f"{base}/set-password.html#token={token}&for={which}"


def _message(purpose: Purpose, *, url: str, expires_at: datetime, inviter: User | None) -> tuple[str, str]:
    if purpose == "set_password":
        who = inviter.full_name or inviter.email if inviter else "Your organisation"
        return "Your ohconnect account", (
            f"{who} has created an ohconnect account for you (occupational health).\n"
            f"Choose your password here: {url}\n"
            f"This link works once and expires on {expires_at:%d %B %Y}."
        )
    minutes = round((expires_at - utc_now()).total_seconds() / 60)
    if purpose == "reset_password":
        return "Reset your ohconnect password", (
            f"Someone, hopefully you, asked to reset the password for this address.\n"
            f"Choose a new password here: {url}\n"
            f"This link works once and expires in {minutes} minutes. If you did not ask, ignore this "
            f"e-mail: your password has not changed."
        )
    return "Your ohconnect sign-in link", (
        f"Sign in to ohconnect with this link: {url}\n"
        f"It works once and expires in {minutes} minutes. If you did not ask for it, ignore this e-mail."
    )


async def _send(
    conn: asyncpg.Connection,
    account: AccountUser,
    *,
    purpose: Purpose,
    inviter: User | None = None,
    next_path: str | None = None,
    settings: Settings,
) -> None:
    """Issue a link of this purpose (earlier unused ones stop working) and queue its e-mail."""
    token = new_token()
    expires_at = utc_now() + _lifetime(purpose, settings)
    await queries.spend_outstanding(conn, account.id, (purpose,))
    created_by = inviter.id if inviter else None
    await queries.insert_token(
        conn,
        NewToken(
            token_hash=token_hash(token), purpose=purpose, user_id=account.id,
            created_by=created_by, expires_at=expires_at,
        ),
    )  # fmt: skip
    url = _page_url(purpose, token, next_path, settings)
    subject, body = _message(purpose, url=url, expires_at=expires_at, inviter=inviter)
    await notify.enqueue(
        conn, recipient=account.email, subject=subject, body=body,
        provider_id=account.provider_id, kind=KIND[purpose],
    )  # fmt: skip


async def _throttled(
    conn: asyncpg.Connection, *, email: str | None, client_ip: str | None, settings: Settings
) -> bool:
    """Whether this address or client address has asked too often (caller's transaction; the
    advisory locks make concurrent requests count one after another, always address first)."""
    window = timedelta(minutes=settings.account_link_window_minutes)
    if email is not None:
        await queries.lock_key(conn, f"account-link:{email}")
    if client_ip:
        await queries.lock_key(conn, f"account-link-ip:{client_ip}")
    if email is not None and (
        await queries.count_for_email(conn, kind="request", email=email, window=window)
        >= settings.account_link_max_per_address
    ):
        return True
    return bool(
        client_ip
        and await queries.count_for_ip(conn, client_ip=client_ip, window=window)
        >= settings.account_link_max_per_ip
    )


def _too_many(settings: Settings) -> TooManyLinkRequests:
    return TooManyLinkRequests(
        "Too many requests for e-mailed links. Wait a while and try again.",
        retry_after_s=settings.account_link_window_minutes * 60,
    )


async def request_link(
    conn: asyncpg.Connection,
    *,
    purpose: Literal["reset_password", "sign_in"],
    email: str,
    client_ip: str | None,
    next_path: str | None = None,
    settings: Settings,
) -> None:
    """E-mail a password-reset or sign-in link to this address if it has an active account."""
    started = time.monotonic()
    email = email.strip().lower()
    async with conn.transaction():
        throttled = await _throttled(conn, email=email, client_ip=client_ip, settings=settings)
        account = await queries.get_account_by_email(conn, email)
        if not throttled:
            await queries.insert_attempt(conn, kind="request", email=email, client_ip=client_ip)
            if account is not None and account.active:
                await _send(conn, account, purpose=purpose, next_path=next_path, settings=settings)
        outcome: Outcome = "denied" if throttled else "ok"
        await audit.record(
            conn, None, f"auth.{purpose}.request", "app_user", account.id if account else None,
            outcome=outcome, subject_user_id=account.id if account else None,
            subject_email=None if account else email,
        )  # fmt: skip
    if throttled:
        raise _too_many(settings)
    await asyncio.sleep(max(0.0, RESPONSE_FLOOR_S - (time.monotonic() - started)))


async def _refuse_link(
    conn: asyncpg.Connection, *, action: str, client_ip: str | None, settings: Settings
) -> AppError:
    """Record a failed redemption (it counts towards the client address's limit) and say why."""
    async with conn.transaction():
        throttled = await _throttled(conn, email=None, client_ip=client_ip, settings=settings)
        await queries.insert_attempt(conn, kind="redeem_failed", email=None, client_ip=client_ip)
        await audit.record(conn, None, action, "account_token", None, outcome="not_found", subject=NoSubject)
    return _too_many(settings) if throttled else LinkNotValid(_USED)


async def _check_ip(conn: asyncpg.Connection, client_ip: str | None, settings: Settings) -> None:
    async with conn.transaction():
        throttled = await _throttled(conn, email=None, client_ip=client_ip, settings=settings)
    if throttled:
        raise _too_many(settings)


async def redeem_sign_in(
    conn: asyncpg.Connection, *, token: str, client_ip: str | None, settings: Settings
) -> IssuedSession:
    """Spend a one-time sign-in link for a normal session (spending and issuing commit together)."""
    await _check_ip(conn, client_ip, settings)
    async with conn.transaction():
        found = await queries.redeem(conn, token_hash(token), ("sign_in",))
        user = await auth_service.get_user(conn, found.user_id) if found else None
        if user is not None:
            issued = await auth_service.issue_session(conn, user, via="sign_in_link", settings=settings)
            await audit.record(
                conn, user.actor(), "auth.sign_in_link.redeem", "app_user", user.id, subject_user_id=user.id
            )
            return issued
    raise await _refuse_link(conn, action="auth.sign_in_link.redeem", client_ip=client_ip, settings=settings)


async def _check_password(conn: asyncpg.Connection, user: User, password: str, *, action: str) -> None:
    """Refuse a password the policy does not accept (the refusal is audited, never the password)."""
    problem = password_problem(password, user.email)
    if problem is None:
        return
    async with conn.transaction():
        await audit.record(
            conn, user.actor(), action, "app_user", user.id, outcome="invalid", subject_user_id=user.id
        )
    raise WeakPassword(problem.capitalize() + ".")


async def set_password_with_token(
    conn: asyncpg.Connection, *, token: str, password: str, client_ip: str | None, settings: Settings
) -> PasswordSet:
    """Set a password from an invitation or reset link. The link is spent only when the password
    is accepted; then every other link of the account stops working and every session ends."""
    await _check_ip(conn, client_ip, settings)
    digest = token_hash(token)
    found = await queries.peek(conn, digest, PASSWORD_PURPOSES)
    user = await auth_service.get_user(conn, found.user_id) if found else None
    if user is None:
        raise await _refuse_link(conn, action="auth.password.set", client_ip=client_ip, settings=settings)
    await _check_password(conn, user, password, action="auth.password.set")
    async with conn.transaction():
        spent = await queries.redeem(conn, digest, PASSWORD_PURPOSES)
        if spent is not None and spent.user_id == user.id:
            await auth_service.set_password(conn, user.id, password)
            await queries.spend_outstanding(conn, user.id, ALL_PURPOSES)
            await auth_service.revoke_sessions(conn, user.id)
            await audit.record(
                conn, user.actor(), f"auth.password.{spent.purpose}", "app_user", user.id,
                subject_user_id=user.id,
            )  # fmt: skip
            return PasswordSet(email=user.email)
    raise await _refuse_link(conn, action="auth.password.set", client_ip=client_ip, settings=settings)


async def set_password_from_link(
    conn: asyncpg.Connection, *, session: Session, user: User, password: str
) -> PasswordSet:
    """An employee who arrived by their referral link sets a first password (once)."""
    refusal: AppError | None = None
    if await queries.session_via(conn, session.id) != "link":
        refusal = NotLinkSession(
            "Set a password from the link in your e-mail, or use 'Forgotten your password?'."
        )
    else:
        account = await queries.get_account(conn, user.id)
        if account is None or account.has_password:
            refusal = PasswordAlreadySet(
                "You already have a password. Use 'Forgotten your password?' to change it."
            )
    if refusal is not None:
        async with conn.transaction():
            await audit.record(
                conn, user.actor(), "auth.password.from_link", "app_user", user.id,
                outcome="denied", subject_user_id=user.id,
            )  # fmt: skip
        raise refusal
    await _check_password(conn, user, password, action="auth.password.from_link")
    async with conn.transaction():
        await auth_service.set_password(conn, user.id, password)
        await queries.spend_outstanding(conn, user.id, PASSWORD_PURPOSES)
        await audit.record(
            conn, user.actor(), "auth.password.from_link", "app_user", user.id, subject_user_id=user.id
        )
    return PasswordSet(email=user.email)


async def send_invitation(
    conn: asyncpg.Connection, user_id: UUID, *, inviter: User, settings: Settings
) -> None:
    """E-mail a set-password link to a newly invited person (caller's transaction)."""
    account = await queries.get_account(conn, user_id)
    if account is None:
        raise RuntimeError(f"user {user_id} vanished inside its own transaction")
    await _send(conn, account, purpose="set_password", inviter=inviter, settings=settings)
    await audit.record(
        conn, inviter.actor(), "auth.invitation.send", "app_user", user_id, subject_user_id=user_id
    )


async def revoke_links(conn: asyncpg.Connection, user_id: UUID) -> None:
    """Every unused link of this account stops working (caller's transaction)."""
    await queries.spend_outstanding(conn, user_id, ALL_PURPOSES)


async def signed_in(conn: asyncpg.Connection, token: str | None) -> User | None:
    """The person a session token belongs to, or None (no token, ended or unknown)."""
    if not token or len(token) > 200:
        return None
    found = await auth_service.authenticate(conn, token)
    return found[1] if found else None
