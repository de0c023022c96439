"""Shared field types."""

from __future__ import annotations

from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field


def _email(value: str) -> str:
    try:
        # Reserved documentation domains (e.g. ".example") are accepted: demo and test data use them.
        normalised = validate_email(value, check_deliverability=False, globally_deliverable=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid e-mail address: {exc}") from None
    if "." not in normalised.rsplit("@", 1)[1]:
        raise ValueError("not a valid e-mail address: the domain needs a dot")
    return normalised.lower()


Email = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(_email)]
