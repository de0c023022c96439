"""Random tokens; only their SHA-256 is ever stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    """32 random bytes, URL-safe; never starting with "-", so it can follow an option on a command line."""
    token = secrets.token_urlsafe(32)
    while token.startswith("-"):
        token = secrets.token_urlsafe(32)
    return token


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def matches(token: str, stored_hash: bytes) -> bool:
    return hmac.compare_digest(token_hash(token), stored_hash)
