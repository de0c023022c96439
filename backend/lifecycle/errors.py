"""Refusals of subject-access, rectification and erasure requests."""

from __future__ import annotations

from backend.core.errors import Conflict, NotFound


class PersonNotFound(NotFound):
    code = "person_not_found"
    title = "No such person"


class EmailTaken(Conflict):
    code = "email_taken"
    title = "Another account has this e-mail address"


class RetentionApplies(Conflict):
    """Erasure refused: records about the person must still be kept (domain.md §4.3, §5.4)."""

    code = "retention_applies"
    title = "Records must be kept"


class NotAnEmployee(Conflict):
    code = "not_an_employee"
    title = "Not an employee"
