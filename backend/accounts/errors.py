from __future__ import annotations

from backend.core.errors import Conflict, Forbidden, NotFound, RateLimited


class LinkNotValid(NotFound):
    code = "link_not_valid"
    title = "This link has already been used or has expired"


class TooManyLinkRequests(RateLimited):
    code = "too_many_requests"
    title = "Too many requests for e-mailed links"


class NotLinkSession(Forbidden):
    code = "not_link_session"
    title = "Only a session started from an e-mailed link can do this"


class PasswordAlreadySet(Conflict):
    code = "password_already_set"
    title = "This account already has a password"
