"""OpenAPI helpers: every endpoint lists its error responses in the one problem shape.

``errors(...)`` documents error statuses on a route; ``ok(example)`` gives a success response an
example; ``finish(document)`` runs once over the generated document: every 422 (including the ones
FastAPI adds by itself) becomes the problem body, and operations that need sign-in say how
(bearer token, or the session cookie plus the CSRF header for writes).
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"

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

# Security scheme names (components.securitySchemes); the schemes themselves are declared by the
# dependencies that read the credentials (backend.auth.deps, backend.clinics.deps).
BEARER_SCHEME = "bearer"
SESSION_COOKIE_SCHEME = "session_cookie"
CSRF_HEADER_SCHEME = "csrf_header"
_SAFE_METHODS = frozenset({"get", "head", "options"})
# The API description's groups, with what each holds, in the order its readers meet them.
TAGS: list[dict[str, Any]] = [
    {"name": "auth", "description": "Signing in and out, sessions, passwords and accounts."},
    {"name": "users", "description": "People of an organisation and their roles."},
    {"name": "referrals", "description": "Management referrals, from the employer's form to the report."},
    {"name": "readings", "description": "Pulse measurements: streams, batches from phones, summaries."},
    {"name": "booking", "description": "Clinic sessions, offers and appointments."},
    {"name": "clinics", "description": "Virtual clinics: the waiting room and video calls."},
    {"name": "surveillance", "description": "Health surveillance checks, outcomes and certificates."},
    {"name": "reports", "description": "Employer dashboards and aggregate reports."},
    {"name": "messages", "description": "E-mail and other messages the platform sends."},
    {"name": "data rights", "description": "Subject access exports, correcting personal details, erasure."},
    {"name": "ops", "description": "Health, readiness and metrics."},
]
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


class FieldProblem(BaseModel):
    field: str = Field(description="Dotted path of the bad field, e.g. `employee.date_of_birth`")
    message: str
    type: str = Field(description="Machine-readable kind of problem, e.g. `missing`, `string_too_long`")


class Problem(BaseModel):
    """application/problem+json (RFC 9457): one body for every error."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "https://ohconnect.invalid/problems/invalid",
                    "title": "Invalid input",
                    "status": 422,
                    "detail": "Please check: employee.date_of_birth",
                    "code": "invalid",
                    "errors": [
                        {"field": "employee.date_of_birth", "message": "Field required", "type": "missing"}
                    ],
                }
            ]
        }
    )

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable code, e.g. `not_found`, `invalid`")
    errors: list[FieldProblem] = Field(
        default_factory=list, description="Present for invalid input: each bad field"
    )


def problem_response(status: int) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS[status],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}},
    }


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: problem_response(status) for status in statuses}


# Examples given to ok(), by key. FastAPI drops every null from the document it generates, so an
# example (whose nullable fields are required) is put in by finish(), after that.
_EXAMPLES: dict[str, Any] = {}
_EXAMPLE_KEY = "x-example-key"


def ok(example: Any, *, status: int = 200, media_type: str = "application/json") -> dict[int | str, Any]:
    """A success response's example (the schema still comes from the route's response model)."""
    key = str(len(_EXAMPLES))
    _EXAMPLES[key] = example
    return {status: {"content": {media_type: {_EXAMPLE_KEY: key}}}}


def finish(document: dict[str, Any]) -> dict[str, Any]:
    """Problem bodies for every 422, the CSRF header beside the cookie on writes, no FastAPI 422 body."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for model in (Problem, FieldProblem):
        generated = model.model_json_schema(ref_template="#/components/schemas/{model}")
        generated.pop("$defs", None)
        schemas[model.__name__] = generated
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if "422" in operation["responses"]:
                operation["responses"]["422"] = problem_response(422)
            _put_examples(operation)
            _require_csrf_for_cookie_writes(method, operation)
    if "securitySchemes" in components:
        components["securitySchemes"][CSRF_HEADER_SCHEME] = {
            "type": "apiKey",
            "in": "header",
            "name": "X-CSRF-Token",
            "description": "The `csrf_token` from sign-in; needed with the session cookie for every "
            "request that changes something (not with a bearer token).",
        }
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    return document


def _put_examples(operation: dict[str, Any]) -> None:
    for response in operation["responses"].values():
        for content in response.get("content", {}).values():
            if _EXAMPLE_KEY in content:
                content["example"] = copy.deepcopy(_EXAMPLES[content.pop(_EXAMPLE_KEY)])


def _require_csrf_for_cookie_writes(method: str, operation: dict[str, Any]) -> None:
    if method in _SAFE_METHODS:
        return
    for requirement in operation.get("security", []):
        if SESSION_COOKIE_SCHEME in requirement:
            requirement[CSRF_HEADER_SCHEME] = []
