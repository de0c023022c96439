"""The immediate certificate and results letter: content rules, scope, audit and verification."""

from __future__ import annotations

import hashlib
import io
import re

import httpx
from pypdf import PdfReader

from tests.factories import login, make_world
from tests.surveillance.helpers import NORMAL_AUDIOGRAM, enrol, make_programme, record, sign

EMPLOYEE_EMAIL = "alex.example@employer.example"


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def signed_with_restrictions(client: httpx.AsyncClient, conn):
    world = await make_world(conn)
    admin = await login(client, world.users["client_admin"])
    nurse = await login(client, world.users["clinician"])
    programme = await make_programme(client, admin)
    enrolment = await enrol(client, admin, programme["id"], email=EMPLOYEE_EMAIL, full_name="Alex Example")
    draft = await record(client, nurse, enrolment["id"], questionnaire={"symptoms": {"tinnitus": True}})
    signed = await sign(
        client,
        nurse,
        draft["id"],
        outcome="FIT_WITH_RESTRICTIONS",
        restrictions=[
            {"text": "No work in the press shop without double hearing protection", "duration": "temporary"}
        ],
        review_date="2027-02-20",
        next_due_date="2027-05-20",
        override_reason="Tinnitus reported; restrict while reviewed.",
        employer_actions=["Check hearing protection fit and training"],
    )
    return world, signed


def without_dates_and_times(text: str) -> str:
    """The text with dates, clock times and the document stamp (id, hash) removed: an issue time such
    as 18:15 or a digit group of a document id is not a measurement."""
    text = "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith(("Document ", "Content SHA-256"))
    )
    text = re.sub(r"\b[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}\b|\b[0-9a-f]{32,}\b", " ", text)
    # Test people, employers and programmes are numbered by a counter ("Worker 15", "E00015",
    # "Org 15", "noise programme 15"): names, not measurements.
    text = re.sub(r"\b(?:Worker|Org|programme) \d+\b|\bE\d{5}\b", " ", text)
    text = re.sub(r"\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?", " ", text)
    text = re.sub(r"\b\d{1,2}:\d{2}(?::\d{2})?\b", " ", text)
    return re.sub(r"\b\d{1,2} [A-Z][a-z]+ \d{4}\b", " ", text)


def measurement_values() -> set[str]:
    return {str(v) for ear in NORMAL_AUDIOGRAM.values() for v in ear.values()}


async def test_manager_certificate_has_outcome_and_no_clinical_values(client: httpx.AsyncClient, conn):
    world, signed = await signed_with_restrictions(client, conn)
    manager = await login(client, world.users["manager"])
    response = await client.get(
        f"/api/v1/surveillance/results/{signed['id']}/certificate.pdf", headers=manager
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Fit with restrictions" in text
    assert "No work in the press shop without double hearing protection" in text
    assert "20 May 2027" in text  # next due date
    assert "Check hearing protection fit and training" in text
    assert "Alex Example" in text
    # None of the recorded values, answers or the clinical category.
    scanned = without_dates_and_times(text)
    numbers = set(re.findall(r"\b\d+\b", scanned))
    assert not (numbers & measurement_values()), (numbers & measurement_values(), scanned)
    for forbidden in ("dB", "category", "Category", "tinnitus", "Tinnitus", "HSE", "audiogram", "kHz"):
        assert forbidden not in text, forbidden
    assert str(response.headers["X-Document-Id"]) in text
    assert hashlib.sha256(response.content).hexdigest() == response.headers["X-Document-SHA256"]


async def test_same_bytes_for_every_reader_and_verification(client: httpx.AsyncClient, conn):
    world, signed = await signed_with_restrictions(client, conn)
    url = f"/api/v1/surveillance/results/{signed['id']}/certificate.pdf"
    copies = [
        await client.get(url, headers=await login(client, world.users[key]))
        for key in ("client_admin", "manager", "employee", "clinician")
    ]
    assert {c.status_code for c in copies} == {200}
    assert len({c.content for c in copies}) == 1  # issued once, stored, served as issued
    assert await conn.fetchval("SELECT count(*) FROM document WHERE kind = 'hs_certificate'") == 1
    document_id = copies[0].headers["X-Document-Id"]
    admin = await login(client, world.users["client_admin"])
    good = await client.post(
        f"/api/v1/documents/{document_id}/verify",
        content=copies[0].content,
        headers={**admin, "Content-Type": "application/pdf"},
    )
    assert good.status_code == 200
    assert good.json()["matches"] is True
    assert set(good.json()) == {"document_id", "matches", "kind", "issued_at"}
    tampered = copies[0].content + b"\n% one changed byte is enough\n"
    bad = await client.post(
        f"/api/v1/documents/{document_id}/verify",
        content=tampered,
        headers={**admin, "Content-Type": "application/pdf"},
    )
    assert bad.json()["matches"] is False
    by_hash = await client.get(
        f"/api/v1/documents/{document_id}/verify",
        headers=admin,
        params={"sha256": hashlib.sha256(copies[0].content).hexdigest()},
    )
    assert by_hash.json()["matches"] is True
    unknown = await client.get(
        "/api/v1/documents/00000000-0000-4000-8000-000000000000/verify",
        headers=admin,
        params={"sha256": "0" * 64},
    )
    assert unknown.status_code == 404
    reads = await conn.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'hs_certificate.read' AND outcome = 'ok'"
    )
    assert reads == 4
    verifies = [
        r["outcome"]
        for r in await conn.fetch(
            "SELECT outcome FROM audit_event WHERE action = 'document.verify' ORDER BY id"
        )
    ]
    assert verifies == ["ok", "invalid", "ok", "not_found"]


async def test_certificate_scope_is_404_outside(client: httpx.AsyncClient, conn):
    world, signed = await signed_with_restrictions(client, conn)
    url = f"/api/v1/surveillance/results/{signed['id']}/certificate.pdf"
    for key in (
        "manager_other_dept",
        "other_employee",
        "other_client_admin",
        "other_manager",
        "other_clinician",
        "far_client_admin",
        "other_employee_org",
    ):
        response = await client.get(url, headers=await login(client, world.users[key]))
        assert response.status_code == 404, key
    assert (
        await client.get(url, headers=await login(client, world.users["provider_admin"]))
    ).status_code == 403
    client.cookies.clear()
    assert (await client.get(url)).status_code == 401
    assert await conn.fetchval("SELECT count(*) FROM document") == 0  # nobody allowed asked yet


async def test_draft_has_no_certificate(client: httpx.AsyncClient, conn):
    world = await make_world(conn)
    admin = await login(client, world.users["client_admin"])
    nurse = await login(client, world.users["clinician"])
    programme = await make_programme(client, admin)
    enrolment = await enrol(client, admin, programme["id"])
    draft = await record(client, nurse, enrolment["id"])
    response = await client.get(f"/api/v1/surveillance/results/{draft['id']}/certificate.pdf", headers=nurse)
    assert response.status_code == 404


async def test_results_letter_explains_values_to_the_employee_only(client: httpx.AsyncClient, conn):
    world, signed = await signed_with_restrictions(client, conn)
    url = f"/api/v1/surveillance/results/{signed['id']}/letter.pdf"
    employee = await login(client, world.users["employee"])
    response = await client.get(url, headers=employee)
    assert response.status_code == 200, response.text
    text = pdf_text(response.content)
    assert "Your health surveillance results" in text
    assert "105 dB" in text  # left-ear total, explained
    assert "tinnitus" in text
    assert "Fit with restrictions" in text
    for key in ("manager", "client_admin", "other_employee"):
        assert (await client.get(url, headers=await login(client, world.users[key]))).status_code == 404, key
    assert (await client.get(url, headers=await login(client, world.users["clinician"]))).status_code == 200
