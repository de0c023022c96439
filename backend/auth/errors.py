from __future__ import annotations

from backend.core.errors import Conflict, Forbidden, Invalid, RateLimited, Unauthenticated


class BadCredentials(Unauthenticated):
    code = "bad_credentials"
    title = "Email or password not recognised"


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    title = "Missing or wrong CSRF token"


class RoleNotAllowed(Forbidden):
    code = "role_not_allowed"


class TooManyAttempts(RateLimited):
    code = "too_many_attempts"
    title = "Too many failed sign-in attempts"


class EmailTaken(Conflict):
    code = "email_taken"
    title = "A user with this e-mail already exists"


class BadOrganisation(Invalid):
    code = "bad_organisation"


class WeakPassword(Invalid):
    code = "weak_password"
    title = "Password not accepted"
