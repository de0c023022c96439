"""Check a referral form: completely (to submit) or as a draft (required fields may be missing)."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from backend.referrals.errors import ReferralInvalid
from backend.referrals.form import ReferralForm

MAX_FORM_BYTES = 200_000
_PREFIXED = re.compile(r"^(?:Value error, )?([a-z_]+(?:\.[a-z_]+)*): (.+)$", re.DOTALL)
# Problems a draft may still have: something not filled in yet.
_DRAFT_TOLERATED = {"missing"}


def _problem(err: Any) -> dict[str, str]:
    loc = [str(p) for p in err["loc"]]
    message = str(err["msg"])
    match = _PREFIXED.match(message)
    if err["type"] == "value_error" and match:
        loc.extend(match.group(1).split("."))
        message = match.group(2)
    elif message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return {"field": ".".join(loc) or "form", "message": message, "type": str(err["type"])}


def _tolerated_in_draft(err: Any) -> bool:
    if err["type"] in _DRAFT_TOLERATED:
        return True
    loc = err["loc"]
    # Attestation ticks and whole-section rules (e.g. "ask at least one question") are
    # completeness checks: they bind at submission.
    if loc and loc[0] == "attestation" and err["type"] == "literal_error":
        return True
    return err["type"] == "value_error" and len(loc) <= 1


def check(raw: Any, *, complete: bool) -> dict[str, Any]:
    """Return the form as stored (normalised when complete); raise ReferralInvalid naming each field."""
    if not isinstance(raw, dict):
        raise ReferralInvalid(
            "The referral must be a JSON object.",
            errors=[{"field": "form", "message": "must be a JSON object", "type": "dict_type"}],
        )
    try:
        encoded = json.dumps(raw)
    except RecursionError:
        raise ReferralInvalid(
            "The referral form is nested too deeply.",
            errors=[{"field": "form", "message": "nested too deeply", "type": "too_deep"}],
        ) from None
    if len(encoded) > MAX_FORM_BYTES:
        raise ReferralInvalid(
            "The referral form is too large.",
            errors=[{"field": "form", "message": f"larger than {MAX_FORM_BYTES} bytes", "type": "too_long"}],
        )
    nul = [
        {"field": path, "message": "must not contain NUL characters", "type": "string_nul"}
        for path in (_nul_paths(raw) if "\\u0000" in encoded else ())
    ]  # PostgreSQL cannot store NUL
    if nul:
        raise ReferralInvalid(f"Please check: {', '.join(p['field'] for p in nul)}", errors=nul)
    try:
        form = ReferralForm.model_validate(raw)
    except ValidationError as exc:
        problems = [e for e in exc.errors() if complete or not _tolerated_in_draft(e)]
        if problems:
            described = [_problem(e) for e in problems]
            names = ", ".join(dict.fromkeys(p["field"] for p in described))
            raise ReferralInvalid(f"Please check: {names}", errors=described) from None
        return raw
    return form.model_dump(mode="json", exclude_none=True)


def _nul_paths(raw: Any) -> list[str]:
    """Dotted paths of the strings (values or keys) holding a NUL character; iterative, any depth."""
    found: list[str] = []
    stack: list[tuple[tuple[str, ...], Any]] = [((), raw)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str) and "\x00" in value:
            found.append(".".join(path) or "form")
        elif isinstance(value, dict):
            stack.extend(((*path, str(k)), k) for k in value)
            stack.extend(((*path, str(k)), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend(((*path, str(i)), v) for i, v in enumerate(value))
    return sorted(set(found))


def employee_identity(form: dict[str, Any]) -> tuple[str, str, str]:
    """(e-mail, name, department) of the employee, as far as the (draft) form says."""
    found = form.get("employee")
    employee: dict[str, Any] = found if isinstance(found, dict) else {}

    def text(key: str) -> str:
        value = employee.get(key)
        return value.strip() if isinstance(value, str) else ""

    return text("email").lower(), text("full_name"), text("department")
