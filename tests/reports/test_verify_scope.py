"""Document verification answers only inside the document's organisation and its provider; the
public check tells anyone holding a copy whether it is genuine, and nothing else."""

from __future__ import annotations

import hashlib
import io
import re
from typing import Any

import asyncpg
import httpx
from pypdf import PdfReader

from tests.factories import login
from tests.reports.test_certificate import signed_with_restrictions

INSIDE = ("client_admin", "manager", "employee", "clinician", "provider_admin")
OUTSIDE = (
    "other_client_admin",
    "other_manager",
    "other_employee_org",
    "other_clinician",
    "other_provider_admin",
    "far_client_admin",
)
UNKNOWN = "00000000-0000-4000-8000-000000000000"


async def _certificate(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> tuple[dict[str, Any], str, bytes]:
    world, signed = await signed_with_restrictions(client, conn)
    headers = await login(client, world.users["client_admin"])
    pdf = await client.get(f"/api/v1/surveillance/results/{signed['id']}/certificate.pdf", headers=headers)
    assert pdf.status_code == 200, pdf.text
    return world.users, pdf.headers["X-Document-Id"], pdf.content


async def test_verify_answers_only_the_documents_organisation_and_provider(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    users, document_id, data = await _certificate(client, conn)
    digest = hashlib.sha256(data).hexdigest()
    problems = []
    for name in (*INSIDE, *OUTSIDE):
        headers = await login(client, users[name])
        by_hash = await client.get(
            f"/api/v1/documents/{document_id}/verify", params={"sha256": digest}, headers=headers
        )
        by_file = await client.post(
            f"/api/v1/documents/{document_id}/verify",
            content=data,
            headers={**headers, "Content-Type": "application/pdf"},
        )
        nowhere = await client.get(
            f"/api/v1/documents/{UNKNOWN}/verify", params={"sha256": digest}, headers=headers
        )
        for response in (by_hash, by_file):
            if name in INSIDE and (response.status_code != 200 or response.json()["matches"] is not True):
                problems.append(f"{name}: {response.status_code} {response.text[:100]}")
            if name in OUTSIDE and (response.status_code != 404 or response.json() != nowhere.json()):
                problems.append(
                    f"{name}: {response.status_code} {response.text[:100]} (unknown: {nowhere.text})"
                )
            if name in OUTSIDE and "hs_certificate" in response.text:
                problems.append(f"{name} learned the document's kind")
    assert not problems, "\n".join(problems)
    refused = await conn.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'document.verify' AND outcome = 'not_found'"
        " AND entity_id = $1",
        document_id,
    )
    assert refused == 2 * len(OUTSIDE)


async def test_the_public_check_says_only_valid_or_not(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    users, document_id, data = await _certificate(client, conn)
    client.cookies.clear()
    printed = re.search(
        r"Content SHA-256 ([0-9a-f]{64})", PdfReader(io.BytesIO(data)).pages[0].extract_text()
    )
    assert printed is not None
    answers = {
        "file": await client.post(
            f"/api/v1/documents/{document_id}/check",
            content=data,
            headers={"Content-Type": "application/pdf"},
        ),
        "file hash": await client.get(
            f"/api/v1/documents/{document_id}/check", params={"sha256": hashlib.sha256(data).hexdigest()}
        ),
        "printed hash": await client.get(
            f"/api/v1/documents/{document_id}/check", params={"sha256": printed.group(1)}
        ),
        "tampered": await client.post(
            f"/api/v1/documents/{document_id}/check",
            content=data + b"\n% changed\n",
            headers={"Content-Type": "application/pdf"},
        ),
        "unknown id": await client.get(
            f"/api/v1/documents/{UNKNOWN}/check", params={"sha256": hashlib.sha256(data).hexdigest()}
        ),
    }
    assert {k: (r.status_code, r.json()) for k, r in answers.items()} == {
        "file": (200, {"valid": True}),
        "file hash": (200, {"valid": True}),
        "printed hash": (200, {"valid": True}),
        "tampered": (200, {"valid": False}),
        "unknown id": (200, {"valid": False}),
    }
    # Signing in as someone outside changes nothing: still only valid or not.
    outsider = await login(client, users["far_client_admin"])
    seen = await client.get(
        f"/api/v1/documents/{document_id}/check",
        params={"sha256": hashlib.sha256(data).hexdigest()},
        headers=outsider,
    )
    assert seen.json() == {"valid": True}
    checks = await conn.fetch(
        "SELECT actor_id, outcome FROM audit_event WHERE action = 'document.check' ORDER BY id"
    )
    assert [r["outcome"] for r in checks] == ["ok", "ok", "ok", "invalid", "invalid", "ok"]
