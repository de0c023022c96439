"""The OpenAPI document: every JSON body has a complete example that works unchanged."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests.factories import login, make_referral, make_world


def _json_body(operation: dict[str, Any]) -> dict[str, Any] | None:
    content: dict[str, dict[str, Any]] = operation.get("requestBody", {}).get("content", {})
    return content.get("application/json")


def _example(document: dict[str, Any], body: dict[str, Any]) -> Any:
    if "example" in body:
        return body["example"]
    if body.get("examples"):
        return next(iter(body["examples"].values()))["value"]
    schema = body["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    examples = schema.get("examples")
    return examples[0] if examples else None


async def test_every_operation_documents_errors_and_body_examples(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    missing_examples, missing_errors = [], []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = _json_body(operation)
            if body is not None and _example(document, body) is None:
                missing_examples.append(f"{method.upper()} {path}")
            if path not in ("/healthz",) and not any(
                code.startswith("4") or code == "503" for code in operation["responses"]
            ):
                missing_errors.append(f"{method.upper()} {path}")
    assert not missing_examples, missing_examples
    assert not missing_errors, missing_errors
    assert "ReferralForm" in document["components"]["schemas"]
    assert "Problem" in document["components"]["schemas"]


REFERRAL_PATHS = ("/api/v1/referrals", "/api/v1/auth")


async def test_examples_work_unchanged_against_the_live_api(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """'Try it out' with the documented example is never refused as invalid input."""
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    nurse = await login(client, world.users["clinician"])
    employee = await login(client, world.users["employee"])
    submitted = await make_referral(client, manager)
    draft = await make_referral(client, manager, submit=False)
    document = (await client.get("/openapi.json")).json()
    who = {"transitions": nurse, "acknowledgement": employee, "comments": nurse}
    results = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = _json_body(operation)
            # Referral and sign-in operations here; other features post their examples to real
            # records of their own in their test packages.
            if body is None or not path.startswith(REFERRAL_PATHS):
                continue
            referral_id = draft["id"] if method == "put" else submitted["id"]
            url = path.replace("{referral_id}", referral_id)
            headers = next((h for key, h in who.items() if path.endswith(key)), manager)
            response = await client.request(method, url, json=_example(document, body), headers=headers)
            results[f"{method.upper()} {path}"] = response.status_code
    assert results, "no JSON bodies found"
    invalid = {op: code for op, code in results.items() if code == 422 or code >= 500}
    assert not invalid, invalid
    assert results["POST /api/v1/referrals"] == 201
    assert results["POST /api/v1/referrals/{referral_id}/transitions"] == 200
    assert results["POST /api/v1/auth/login"] == 401  # the example user does not exist


async def test_errors_have_one_shape(client: httpx.AsyncClient) -> None:
    for response in [
        await client.get("/api/v1/me"),
        await client.get("/api/v1/no-such-endpoint"),
        await client.post("/api/v1/auth/login", json={"email": 1}),
        await client.get("/api/v1/referrals/not-a-uuid", headers={"Authorization": "Bearer x" * 3}),
    ]:
        body = response.json()
        assert response.headers["content-type"].startswith("application/problem+json"), response.text
        assert {"type", "title", "status", "detail", "code"} <= body.keys()
        assert body["status"] == response.status_code


async def test_security_headers_on_api_and_pages(client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/me", "/", "/openapi.json"):
        response = await client.get(path)
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Request-ID"]
