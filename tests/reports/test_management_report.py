"""Management referral report: consent, preview identical to release, corrections, release, addenda."""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
from pypdf import PdfReader

from tests.booking.helpers import book_into_new_clinic
from tests.factories import World, login, make_referral, make_world
from tests.reports import helpers
from tests.reports.helpers import QUESTIONS, content


def consent(world: World, **overrides: Any) -> dict[str, Any]:
    return helpers.consent(world.users["manager"].email, **overrides)


async def move(
    client: httpx.AsyncClient, headers: dict[str, str], referral_id: str, **body: Any
) -> dict[str, Any]:
    response = await client.post(f"/api/v1/referrals/{referral_id}/transitions", json=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def drafting(client: httpx.AsyncClient, conn, *, choice: str = "see_first", **consent_overrides: Any):
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    nurse = await login(client, world.users["clinician"])
    referral = await make_referral(client, manager)
    rid = referral["id"]
    await move(
        client, nurse, rid, action="triage", modality="video", clinician_grade="ohn", priority="routine"
    )
    await book_into_new_clinic(client, nurse, rid)
    await move(client, nurse, rid, action="start", consent_to_assessment=True)
    await move(client, nurse, rid, action="finish_consultation", release_choice=choice)
    put = await client.put(
        f"/api/v1/referrals/{rid}/report/consent", headers=nurse, json=consent(world, **consent_overrides)
    )
    assert put.status_code == 200, put.text
    saved = await client.put(f"/api/v1/referrals/{rid}/report", headers=nurse, json=content())
    assert saved.status_code == 200, saved.text
    return world, manager, nurse, rid


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def body_of(text: str) -> str:
    """The text without the per-issue footer (document id and issue time differ per copy)."""
    return "\n".join(line for line in text.splitlines() if not line.startswith(("Document ", "Page ")))


async def test_preview_is_exactly_what_the_manager_gets_and_holds_only_consented_sections(
    client: httpx.AsyncClient, conn
):
    world, manager, nurse, rid = await drafting(client, conn)
    employee = await login(client, world.users["employee"])
    assert (
        await client.get(f"/api/v1/referrals/{rid}/report", headers=employee)
    ).status_code == 404  # drafting
    review = await client.post(f"/api/v1/referrals/{rid}/report/send-for-review", headers=nurse)
    assert review.status_code == 200, review.text

    preview = await client.get(f"/api/v1/referrals/{rid}/report.pdf", headers=employee)
    assert preview.status_code == 200
    assert (await client.get(f"/api/v1/referrals/{rid}/report", headers=manager)).status_code == 404
    await move(client, employee, rid, action="approve")
    assert (await client.get(f"/api/v1/referrals/{rid}/report.pdf", headers=manager)).status_code == 404
    released = await client.post(
        f"/api/v1/referrals/{rid}/report/release",
        headers=nurse,
        json={"recipients": [world.users["manager"].email]},
    )
    assert released.status_code == 200, released.text

    final = await client.get(f"/api/v1/referrals/{rid}/report.pdf", headers=manager)
    assert final.status_code == 200
    preview_text, final_text = pdf_text(preview.content), pdf_text(final.content)
    assert body_of(preview_text) == body_of(final_text)
    hashes = await conn.fetch(
        "SELECT kind, content_sha256 FROM document WHERE entity_id::text = $1 ORDER BY issued_at", rid
    )
    assert [h["kind"] for h in hashes] == ["management_report_preview", "management_report"]
    assert hashes[0]["content_sha256"] == hashes[1]["content_sha256"]

    for question in QUESTIONS:
        assert question.split("?")[0][:40] in final_text.replace("\n", " ")
    assert "Answers to your questions" in final_text
    assert "Background (work-relevant)" in final_text  # consented
    for never in ("Lumbar", "EQUALITY-REASONING-MARKER", "Equality Act 2010", "Clinical details"):
        assert never not in final_text, never
    assert re.search(r"saw the report\s+before\s+release\s+Yes", final_text)


async def test_html_version_has_the_same_content_and_headings(client: httpx.AsyncClient, conn):
    world, manager, nurse, rid = await drafting(client, conn, choice="release")
    assert (await client.post(f"/api/v1/referrals/{rid}/report/ready", headers=nurse)).status_code == 200
    await client.post(
        f"/api/v1/referrals/{rid}/report/release",
        headers=nurse,
        json={"recipients": [world.users["manager"].email]},
    )
    html = await client.get(f"/api/v1/referrals/{rid}/report.html", headers=manager)
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    page = html.text
    assert '<html lang="en-GB">' in page
    view = (await client.get(f"/api/v1/referrals/{rid}/report", headers=manager)).json()
    for section in view["sections"]:
        assert f">{section['title']}</h2>" in page
    assert "<script" not in page
    assert "Lumbar" not in page


async def test_item_consent_releases_that_clinical_detail_only(client: httpx.AsyncClient, conn):
    world, manager, nurse, rid = await drafting(
        client,
        conn,
        choice="release",
        clinical_details=["diagnosis"],
        sections={"background": False, "equality_act": True, "retirement_redeployment": False},
    )
    await client.post(f"/api/v1/referrals/{rid}/report/ready", headers=nurse)
    await client.post(
        f"/api/v1/referrals/{rid}/report/release",
        headers=nurse,
        json={"recipients": [world.users["manager"].email]},
    )
    text = pdf_text((await client.get(f"/api/v1/referrals/{rid}/report.pdf", headers=manager)).content)
    assert "Lumbar disc prolapse" in text
    assert "EQUALITY-REASONING-MARKER" in text
    assert "tribunal" in text
    assert "Background (work-relevant)" not in text


async def test_corrections_go_back_to_the_clinician(client: httpx.AsyncClient, conn):
    world, _manager, nurse, rid = await drafting(client, conn)
    await client.post(f"/api/v1/referrals/{rid}/report/send-for-review", headers=nurse)
    employee = await login(client, world.users["employee"])
    other = await login(client, world.users["other_employee"])
    body = {"section": "background", "message": "I have worked here five years, not seven."}
    assert (
        await client.post(f"/api/v1/referrals/{rid}/report/corrections", headers=other, json=body)
    ).status_code == 404
    response = await client.post(f"/api/v1/referrals/{rid}/report/corrections", headers=employee, json=body)
    assert response.status_code == 204, response.text
    assert await conn.fetchval("SELECT status FROM referral WHERE id::text = $1", rid) == "REPORT_DRAFTING"
    assert await conn.fetchval("SELECT message FROM mr_correction") == body["message"]
    fixed = await client.put(
        f"/api/v1/referrals/{rid}/report",
        headers=nurse,
        json=content(background="Warehouse operative for five years; off work six weeks."),
    )
    assert fixed.status_code == 200
    versions = await conn.fetch("SELECT kind FROM mr_report_version ORDER BY id")
    assert [v["kind"] for v in versions] == ["consent", "draft", "draft"]


async def test_release_rules(client: httpx.AsyncClient, conn):
    world, manager, nurse, rid = await drafting(client, conn, choice="release")
    # Not complete: a question left unanswered.
    await client.put(f"/api/v1/referrals/{rid}/report", headers=nurse, json=content(answers=[]))
    incomplete = await client.post(f"/api/v1/referrals/{rid}/report/ready", headers=nurse)
    assert incomplete.status_code == 422
    assert any("forklift" in e["message"] for e in incomplete.json()["errors"])
    await client.put(f"/api/v1/referrals/{rid}/report", headers=nurse, json=content())
    assert (await client.post(f"/api/v1/referrals/{rid}/report/ready", headers=nurse)).status_code == 200
    hr = world.users["client_admin"].email
    outside = await client.post(
        f"/api/v1/referrals/{rid}/report/release", headers=nurse, json={"recipients": [hr]}
    )
    assert outside.status_code == 422
    by_manager = await client.post(
        f"/api/v1/referrals/{rid}/report/release",
        headers=manager,
        json={"recipients": [world.users["manager"].email]},
    )
    assert by_manager.status_code == 403
    assert (await client.get(f"/api/v1/referrals/{rid}/report", headers=manager)).status_code == 404
    ok = await client.post(
        f"/api/v1/referrals/{rid}/report/release",
        headers=nurse,
        json={"recipients": [world.users["manager"].email]},
    )
    assert ok.status_code == 200
    assert (await client.get(f"/api/v1/referrals/{rid}/report", headers=manager)).status_code == 200
    # Employer roles not named as recipients, and other organisations, see nothing.
    for key in ("client_admin", "manager_same_dept", "other_client_admin", "other_manager", "provider_admin"):
        response = await client.get(
            f"/api/v1/referrals/{rid}/report.pdf", headers=await login(client, world.users[key])
        )
        assert response.status_code == 404, key
    recipients = {
        r["recipient"]
        for r in await conn.fetch(
            "SELECT recipient FROM outbox_message WHERE subject = 'Occupational health report released'"
        )
    }
    assert recipients == {world.users["manager"].email, world.users["employee"].email}
    reads = await conn.fetch("SELECT outcome FROM audit_event WHERE action = 'report.read'")
    assert {r["outcome"] for r in reads} == {"ok", "not_found"}


async def test_withheld_report_never_reaches_the_employer(client: httpx.AsyncClient, conn):
    _world, manager, nurse, rid = await drafting(client, conn, choice="withhold")
    await move(client, nurse, rid, action="withhold")
    assert (await client.get(f"/api/v1/referrals/{rid}/report", headers=manager)).status_code == 404
    assert (await client.get(f"/api/v1/referrals/{rid}/report.pdf", headers=manager)).status_code == 404
    assert (
        await client.post(
            f"/api/v1/referrals/{rid}/report/release",
            headers=nurse,
            json={"recipients": [_world.users["manager"].email]},
        )
    ).status_code == 409


async def test_addendum_answers_a_clarification(client: httpx.AsyncClient, conn):
    world, manager, nurse, rid = await drafting(client, conn, choice="release")
    await client.post(f"/api/v1/referrals/{rid}/report/ready", headers=nurse)
    await client.post(
        f"/api/v1/referrals/{rid}/report/release",
        headers=nurse,
        json={"recipients": [world.users["manager"].email]},
    )
    await move(
        client, manager, rid, action="request_clarification", message="Does the limit apply to trolleys?"
    )
    added = await client.post(
        f"/api/v1/referrals/{rid}/report/addenda",
        headers=nurse,
        json={"text": "ADDENDUM-MARKER: trolleys are fine."},
    )
    assert added.status_code == 204, added.text
    text = pdf_text((await client.get(f"/api/v1/referrals/{rid}/report.pdf", headers=manager)).content)
    assert "ADDENDUM-MARKER" in text
    assert re.search(r"Addendum, \d+ \w+ \d{4}", text)


async def test_the_draft_is_the_clinicians_alone_and_reading_it_is_audited(client: httpx.AsyncClient, conn):
    world, _manager, nurse, rid = await drafting(client, conn)
    draft = await client.get(f"/api/v1/referrals/{rid}/report/draft", headers=nurse)
    assert draft.status_code == 200, draft.text
    body = draft.json()
    assert body["editable"] is True
    assert body["content"]["prognosis"] == content()["prognosis"]
    assert body["consent"]["recipients"] == [world.users["manager"].email]
    assert "Can they drive a forklift?" in body["questions"]
    for role in ("manager", "client_admin", "employee", "provider_admin"):
        refused = await client.get(
            f"/api/v1/referrals/{rid}/report/draft", headers=await login(client, world.users[role])
        )
        assert refused.status_code in (403, 404), (role, refused.text)
    outcomes = await conn.fetch(
        "SELECT outcome, count(*) FROM audit_event WHERE action = 'report.draft.read' AND entity_id = $1"
        " GROUP BY outcome ORDER BY outcome",
        rid,
    )
    # One read; the four refused attempts are audited as refusals.
    assert [(r["outcome"], r["count"]) for r in outcomes] == [("denied", 4), ("ok", 1)]
