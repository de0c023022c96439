"""Argon2id password hashing, run off the event loop.

Production uses argon2-cffi's default profile (RFC 9106 low-memory: t=3, m=64 MiB).
Tests may switch to a cheaper profile with ``use_hasher``; verification reads the
parameters from each stored hash, so hashes of either profile keep verifying.
"""

from __future__ import annotations

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12  # long passphrases over complexity rules (NCSC, NIST SP 800-63B)
MAX_LENGTH = 256  # as sign-in accepts

_state: dict[str, PasswordHasher] = {"hasher": PasswordHasher()}
_dummy: dict[str, str] = {}


def password_problem(password: str, email: str) -> str | None:
    """Why this password may not be set for this account, or None when it may."""
    if len(password) < MIN_LENGTH:
        return f"the password must be at least {MIN_LENGTH} characters (a few words make a good one)"
    if len(password) > MAX_LENGTH:
        return f"the password must be at most {MAX_LENGTH} characters"
    if len(set(password)) < 4:
        return "the password must not be one or two characters repeated"
    folded, local = password.strip().lower(), email.strip().lower().partition("@")[0]
    if folded == email.strip().lower() or (len(local) >= 4 and local in folded):
        return "the password must not contain the e-mail address"
    return None


def use_hasher(hasher: PasswordHasher) -> None:
    _state["hasher"] = hasher
    _dummy.clear()


def _dummy_hash() -> str:
    # Verified against when the account does not exist, so both paths cost the same.
    if "hash" not in _dummy:
        _dummy["hash"] = _state["hasher"].hash("not-a-real-password")
    return _dummy["hash"]


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_state["hasher"].hash, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _state["hasher"].verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    return await anyio.to_thread.run_sync(_verify, stored, password)
