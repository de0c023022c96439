"""The OpenAPI document over every operation (new endpoints included): how to sign in, one error body,
and success examples that match their schemas."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import jsonschema_rs

METHODS = ("get", "put", "post", "delete", "patch")
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
# Operations anyone may call: sign-in, the employee's link, joining a call, probes.
PUBLIC = {
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/link",
    "POST /api/v1/clinics/join/preview",
    "POST /api/v1/clinics/join",
    "GET /healthz",
    "GET /readyz",
    "GET /api/v1/auth/status",
    "POST /api/v1/auth/password",
    "POST /api/v1/auth/password/forgotten",
    "POST /api/v1/auth/sign-in-link",
    "POST /api/v1/auth/sign-in-link/redeem",
    "GET /api/v1/documents/{document_id}/check",
    "POST /api/v1/documents/{document_id}/check",
}
# The public document check answers "not valid" for an unknown id: it never says whether one exists.
NO_404 = {"GET /api/v1/documents/{document_id}/check", "POST /api/v1/documents/{document_id}/check"}
# Success responses that must carry an example (the main endpoints).
EXAMPLES = {
    ("POST /api/v1/auth/login", "200"),
    ("GET /api/v1/me", "200"),
    ("GET /api/v1/referrals", "200"),
    ("GET /api/v1/referrals/{referral_id}", "200"),
    ("GET /api/v1/readings/streams/{stream_id}", "200"),
    ("GET /api/v1/referrals/{referral_id}/report", "200"),
    ("GET /api/v1/organisations/{organisation_id}/dashboard", "200"),
}
# Issued documents carry their id and hash in headers, with examples.
DOCUMENT_HEADERS = (
    "GET /api/v1/surveillance/results/{result_id}/certificate.pdf",
    "GET /api/v1/referrals/{referral_id}/report.pdf",
    "GET /api/v1/organisations/{organisation_id}/report.pdf",
)


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def url_of(name: str) -> str:
    path = name.split(" ", 1)[1]
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + str(uuid.uuid4()) + path[end + 1 :]
    return path


def validator(document: dict[str, Any], schema: dict[str, Any]) -> jsonschema_rs.Draft202012Validator:
    """A validator whose `#/components/...` references resolve in the document."""
    root = {**schema, "components": document["components"]}
    return jsonschema_rs.Draft202012Validator(root, validate_formats=True)


async def test_security_schemes_are_declared_and_applied_where_sign_in_is_needed(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert schemes["session_cookie"] == {
        **schemes["session_cookie"],
        "type": "apiKey",
        "in": "cookie",
        "name": "ohc_session",
    }
    assert schemes["csrf_header"] == {**schemes["csrf_header"], "type": "apiKey", "in": "header"}
    problems = []
    ops = operations(document)
    assert set(ops) >= PUBLIC, PUBLIC - set(ops)
    for name, operation in ops.items():
        security = operation.get("security", [])
        if name in PUBLIC:
            if security:
                problems.append(f"{name}: public but declares {security}")
            continue
        if {"bearer"} not in [set(r) for r in security]:
            problems.append(f"{name}: no bearer requirement ({security})")
        cookie = next((set(r) for r in security if "session_cookie" in r), None)
        wanted = {"session_cookie"} if name.startswith("GET ") else {"session_cookie", "csrf_header"}
        if cookie != wanted:
            problems.append(f"{name}: cookie requirement {cookie}, expected {wanted}")
        if "401" not in operation["responses"]:
            problems.append(f"{name}: needs sign-in but does not document 401")
    assert not problems, "\n".join(problems)


async def test_operations_declaring_security_refuse_anonymous_callers_and_only_those(
    client: httpx.AsyncClient,
) -> None:
    """Called without credentials, an operation answers 401 exactly when it declares security."""
    document = (await client.get("/openapi.json")).json()
    problems = []
    for name, operation in operations(document).items():
        method = name.split(" ", 1)[0]
        response = await client.request(method, url_of(name))
        secured = bool(operation.get("security"))
        if secured != (response.status_code == 401):
            problems.append(f"{name}: security {secured}, anonymous call answered {response.status_code}")
    assert not problems, "\n".join(problems)


async def test_every_error_response_is_the_problem_body(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in str(document)
    assert "ValidationError" not in document["components"]["schemas"]
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])
    assert "errors" not in problem["required"]
    assert problem["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/FieldProblem"}
    assert set(document["components"]["schemas"]["FieldProblem"]["required"]) == {"field", "message", "type"}
    problems = []
    for name, operation in operations(document).items():
        for status, response in operation["responses"].items():
            is_error = status.startswith(("4", "5")) and name != "GET /readyz"
            if is_error and response.get("content") != PROBLEM:
                problems.append(f"{name} {status}: {response.get('content')}")
        has_input = operation.get("parameters") or operation.get("requestBody")
        if has_input and "422" not in operation["responses"]:
            problems.append(f"{name}: takes input but does not document 422")
        if "{" in name and "404" not in operation["responses"] and name not in NO_404:
            problems.append(f"{name}: has a path parameter but does not document 404")
    assert not problems, "\n".join(problems)


async def test_error_bodies_the_server_sends_match_the_problem_schema(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    check = validator(document, {"$ref": "#/components/schemas/Problem"})
    for response in [
        await client.get("/api/v1/me"),
        await client.post("/api/v1/auth/login", json={"email": "not-an-address"}),
        await client.post("/api/v1/auth/login", content=b"{", headers={"content-type": "application/json"}),
        await client.post("/api/v1/clinics/join", json={"token": "x" * 20, "name": "A Guest"}),
    ]:
        assert response.headers["content-type"] == "application/problem+json", response.text
        errors = [e.message for e in check.iter_errors(response.json())]
        assert not errors, (response.text, errors)
    invalid = await client.post("/api/v1/auth/login", json={"email": "not-an-address"})
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["field"] in ("email", "password")


async def test_success_examples_exist_for_the_main_endpoints_and_match_their_schemas(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    ops = operations(document)
    problems, checked = [], 0
    for name, operation in ops.items():
        for status, response in operation["responses"].items():
            for media_type, content in response.get("content", {}).items():
                if "example" not in content:
                    if (name, status) in EXAMPLES and media_type == "application/json":
                        problems.append(f"{name} {status}: no example")
                    continue
                if "schema" not in content:
                    problems.append(f"{name} {status} {media_type}: example without a schema")
                    continue
                checked += 1
                for error in validator(document, content["schema"]).iter_errors(content["example"]):
                    problems.append(f"{name} {status}: {list(error.instance_path)}: {error.message}")
    for name in DOCUMENT_HEADERS:
        headers = ops[name]["responses"]["200"].get("headers", {})
        for header in ("X-Document-Id", "X-Document-SHA256"):
            if "example" not in headers.get(header, {}):
                problems.append(f"{name}: header {header} undocumented or without an example")
    assert checked >= len(EXAMPLES)
    assert not problems, "\n".join(problems)
