"""OpenAPI helpers: every endpoint lists its error responses in the one problem shape."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

_DESCRIPTIONS = {
    400: "Bad request",
    401: "Not signed in",
    403: "Signed in but not allowed (or CSRF token missing)",
    404: "Not found, or outside your organisation",
    409: "Not allowed in the record's current state",
    413: "Too large",
    422: "Invalid input; `errors` names each bad field",
    429: "Rate limited",
    503: "Database unavailable; retry",
}


class FieldProblem(BaseModel):
    field: str
    message: str
    type: str


class Problem(BaseModel):
    """application/problem+json"""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldProblem] | None = Field(default=None)


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "model": Problem,
            "description": _DESCRIPTIONS[status],
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
