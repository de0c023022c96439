"""The manager's and the nurse's lists and referral pages in headless Chromium, at 1280 and 375 px:
the manager searches, filters, sorts and pages their referrals (back and forward included), reads a
released report (inline, with its PDF) and deletes a draft; the nurse filters the queue by "report
drafting" and sees the employee's "not discussed with me" answer. axe checks every state met."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from uuid import UUID

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.booking.helpers import book_into_new_clinic
from tests.browser import chromium
from tests.conftest import Server
from tests.factories import World, login, make_referral, make_world
from tests.reports import helpers as report_helpers
from tests.ui.test_accessibility import violations
from tests.ui.test_referral_browser import _employee_link, open_tab, referral_at_report_drafting, sign_in

pytestmark = pytest.mark.browser
WIDTHS = pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])

# 22 more referrals by the same manager: copies of one real referral under other names.
COPY_REFERRALS = """
INSERT INTO referral (organisation_id, provider_id, referrer_id, employee_email, employee_name, department,
                      status, form, created_at, updated_at, submitted_at)
SELECT organisation_id, provider_id, referrer_id, 'filler' || n || '@employer.example', 'Filler Person ' || n,
       department, status, jsonb_set(form, '{employee,employee_number}', to_jsonb('FILL-' || n)),
       created_at - make_interval(hours => n), updated_at - make_interval(hours => n),
       submitted_at - make_interval(hours => n)
FROM referral, generate_series(1, 22) AS n WHERE id = $1
"""


CONSULTATION: tuple[dict[str, object], ...] = (
    {"action": "triage", "modality": "video", "clinician_grade": "ohn", "priority": "routine"},
    {"action": "book"},  # into a new clinic's first slot (booking's API)
    {"action": "start", "consent_to_assessment": True},
)


async def move(
    client: httpx.AsyncClient, headers: dict[str, str], rid: str, *bodies: dict[str, object]
) -> None:
    for body in bodies:
        if body["action"] == "book":
            await book_into_new_clinic(client, headers, rid)
            continue
        moved = await client.post(f"/api/v1/referrals/{rid}/transitions", json=body, headers=headers)
        assert moved.status_code == 200, moved.text


def shown(first: int, last: int, total: int) -> str:
    return f"Showing {first}\N{EN DASH}{last} of {total}"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def released_referral(client: httpx.AsyncClient, world: World) -> str:
    """A referral whose report has been released to the manager (through the API)."""
    manager = await login(client, world.users["manager"])
    nurse = await login(client, world.users["clinician"])
    rid = await referral_at_report_drafting(client, manager, nurse)
    for path, body in (
        ("report/consent", report_helpers.consent(world.users["manager"].email)),
        ("report", report_helpers.content()),
    ):
        saved = await client.put(f"/api/v1/referrals/{rid}/{path}", json=body, headers=nurse)
        assert saved.status_code == 200, saved.text
    ready = await client.post(f"/api/v1/referrals/{rid}/report/ready", headers=nurse)
    assert ready.status_code == 200, ready.text
    released = await client.post(
        f"/api/v1/referrals/{rid}/report/release",
        json={"recipients": [world.users["manager"].email]},
        headers=nurse,
    )
    assert released.status_code == 200, released.text
    return rid


async def check_axe(page: Page, state: str, found: list[str]) -> None:
    found += [f"{state}: {problem}" for problem in await violations(page)]


@WIDTHS
async def test_manager_finds_referrals_and_reads_the_released_report(
    browser: Browser, server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection, width: int
) -> None:
    world = await make_world(conn)
    rid = await released_referral(client, world)
    manager = await login(client, world.users["manager"])
    other = (await make_referral(client, manager))["id"]
    await conn.execute(COPY_REFERRALS, UUID(other))
    draft = await make_referral(client, manager, submit=False)
    found: list[str] = []
    tab = await open_tab(browser, server, width=width)
    page = tab.page
    await sign_in(page, world.users["manager"].email)
    await expect(page.get_by_role("heading", name="Your referrals", level=1)).to_be_visible()
    await expect(page.get_by_text(shown(1, 20, 25))).to_be_visible()
    await check_axe(page, "manager list", found)

    await page.get_by_role("link", name="Next page").click()
    await expect(page.get_by_text(shown(21, 25, 25))).to_be_focused()
    await page.go_back()
    await expect(page.get_by_text(shown(1, 20, 25))).to_be_visible()
    await page.go_forward()
    await expect(page.get_by_text(shown(21, 25, 25))).to_be_visible()

    search = page.get_by_role("search")
    await search.get_by_label("Employee name or payroll number").fill("FILL-1")
    await search.get_by_role("button", name="Show").click()
    await expect(page.get_by_text(shown(1, 11, 11))).to_be_focused()  # FILL-1 and FILL-10 … FILL-19
    assert "q=FILL-1" in page.url
    assert "page=" not in page.url
    submitted = page.get_by_role("columnheader", name=re.compile("^Submitted"))
    first = page.get_by_role("table").get_by_role("row").nth(1)
    await submitted.get_by_role("link").click()  # newest first, then the other way
    await expect(submitted).to_have_attribute("aria-sort", "descending")
    await expect(first).to_contain_text("Filler Person 1")
    await submitted.get_by_role("link").click()
    await expect(submitted).to_have_attribute("aria-sort", "ascending")
    await expect(first).to_contain_text("Filler Person 19")

    await search.get_by_label("Employee name or payroll number").fill("no such person")
    await search.get_by_role("button", name="Show").click()
    await expect(page.get_by_text("No referrals match these filters.")).to_be_visible()
    await check_axe(page, "manager list, nothing found", found)
    await page.get_by_role("link", name="Clear the filters").click()
    await expect(page.get_by_text(shown(1, 20, 25))).to_be_visible()

    await search.get_by_label("Status").select_option(label="Report released")
    await search.get_by_role("button", name="Show").click()
    await expect(page.get_by_text(shown(1, 1, 1))).to_be_visible()
    await page.get_by_role("link", name="Alex Example").click()

    await expect(page.get_by_role("heading", name="Referral for Alex Example", level=1)).to_be_visible()
    report = page.get_by_role("region", name="The report")
    await expect(report.get_by_role("heading", name="Fitness for work")).to_be_visible()
    await expect(report).to_contain_text("No single lifts over 10 kg for six weeks.")
    assert "Lumbar" not in await report.inner_text()  # clinical detail the employee did not agree to
    pdf_link = report.get_by_role("link", name="Download the report (PDF)")
    assert await pdf_link.get_attribute("href") == f"/api/v1/referrals/{rid}/report.pdf"
    pdf = await page.request.get(f"/api/v1/referrals/{rid}/report.pdf")
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert (await pdf.body()).startswith(b"%PDF")
    html_link = report.get_by_role("link", name=re.compile("Open the report on its own page"))
    assert await html_link.get_attribute("href") == f"/api/v1/referrals/{rid}/report.html"
    await expect(page.get_by_role("navigation", name="On this page")).to_be_visible()
    await conn.execute(  # the longest status name: its chip must stay inside its own column
        "UPDATE referral SET status = 'CLOSED_NO_CONSENT' WHERE id = $1", UUID(other)
    )
    await page.goto(f"/referrals.html#view={other}")
    await expect(page.locator(".facts .tag")).to_have_text("Closed: no consent to assessment")
    overflow = await page.locator(".facts .tag").evaluate(
        "tag => tag.getBoundingClientRect().right - tag.closest('dd').getBoundingClientRect().right"
    )
    assert overflow <= 0.5, overflow
    await page.go_back()
    await expect(page.get_by_role("heading", name="Referral for Alex Example", level=1)).to_be_visible()
    await check_axe(page, "released report", found)
    await page.get_by_role("link", name="Back to your referrals").click()
    await expect(page.get_by_text(shown(1, 1, 1))).to_be_visible()  # the list as it was left

    await page.goto(f"/referrals.html#edit={draft['id']}")
    await page.get_by_role("button", name="Delete this draft").click()
    await expect(page.get_by_text("Delete the draft referral for Alex Example?")).to_be_focused()
    await check_axe(page, "delete confirmation", found)
    await page.get_by_role("button", name="Yes, delete the draft").click()
    await expect(page.get_by_role("heading", name="Draft deleted")).to_be_visible()
    assert await conn.fetchval("SELECT deleted_at IS NOT NULL FROM referral WHERE id = $1", UUID(draft["id"]))
    reads = await conn.fetchval(
        "SELECT count(*) FROM audit_event"
        " WHERE action = 'report.read' AND entity_id::text = $1 AND outcome = 'ok'",
        rid,
    )
    assert reads >= 1  # reading the report on the page is on the record
    assert tab.errors == []
    await tab.context.close()
    assert not found, "\n".join(found)


@WIDTHS
async def test_nurse_filters_report_drafting_and_sees_not_discussed(
    browser: Browser, server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection, width: int
) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    nurse = await login(client, world.users["clinician"])
    await make_referral(client, manager)  # another one, awaiting triage
    rid = (await make_referral(client, manager))["id"]
    found: list[str] = []
    tab = await open_tab(browser, server, width=width)
    page = tab.page
    await page.goto(await _employee_link(conn, world))  # the employee answers from their e-mail
    await page.get_by_label("No, it was not discussed").check()
    await page.get_by_label("Comment (optional)").fill("Nobody told me about this.")
    await page.get_by_role("button", name="Send my answer").click()
    await expect(page.get_by_role("heading", name="Thank you, your answer has been sent")).to_be_focused()
    await expect(page.get_by_text("Your manager sees only that you have responded and when")).to_be_visible()
    await tab.context.clear_cookies()
    await move(
        client, nurse, rid, *CONSULTATION, {"action": "finish_consultation", "release_choice": "release"}
    )
    await sign_in(page, world.users["clinician"].email)
    await expect(page.get_by_role("heading", name="Referral queue", level=1)).to_be_visible()
    await expect(page.get_by_text(shown(1, 1, 1))).to_be_visible()  # awaiting triage only
    search = page.get_by_role("search")
    await search.get_by_label("Show").select_option(
        label="Report drafting (including awaiting medical evidence)"
    )
    await search.get_by_role("button", name="Show").click()
    await expect(page.get_by_text(shown(1, 1, 1))).to_be_focused()
    row = page.get_by_role("table").get_by_role("row", name=re.compile("Alex Example"))
    await expect(row).to_contain_text("Report being written")
    await check_axe(page, "queue: report drafting", found)
    await row.get_by_role("link").click()

    warning = page.get_by_role("heading", name="The employee says this referral was not discussed with them")
    await expect(warning).to_be_visible()
    await expect(page.get_by_text("Nobody told me about this.").first).to_be_visible()
    contents = page.get_by_role("navigation", name="On this page")
    await contents.get_by_role("link", name="History").click()
    await expect(page.get_by_role("heading", name="History", level=2)).to_be_focused()
    await expect(page.get_by_role("listitem").filter(has_text="Consultation ended")).to_be_visible()
    await check_axe(page, "referral with the not-discussed warning", found)
    await page.get_by_role("link", name="Back to the queue").click()
    await expect(search.get_by_label("Show")).to_have_value("REPORT_DRAFTING,AWAITING_FME")
    assert tab.errors == []
    await tab.context.close()
    assert not found, "\n".join(found)


async def test_nurse_confirms_the_end_of_the_consultation_and_releases_to_the_consented(
    browser: Browser, server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    nurse = await login(client, world.users["clinician"])
    rid = (await make_referral(client, manager))["id"]
    await move(client, nurse, rid, *CONSULTATION)
    tab = await open_tab(browser, server)
    page = tab.page
    await sign_in(page, world.users["clinician"].email)
    await expect(page.get_by_role("heading", name="Referral queue", level=1)).to_be_visible()
    await page.goto(f"/triage.html#referral={rid}")
    end = page.get_by_role("form", name="End the consultation")
    await end.get_by_label("Release the report directly").check()
    await end.get_by_role("button", name="End consultation").click()
    await expect(end.get_by_role("alert")).to_contain_text("Yes, the consultation is over: tick to confirm")
    assert await conn.fetchval("SELECT status FROM referral WHERE id = $1", UUID(rid)) == "IN_CONSULTATION"
    await end.get_by_label("Yes, the consultation is over").check()
    await end.get_by_role("button", name="End consultation").click()
    await expect(page.get_by_role("heading", name="Saved")).to_be_focused()
    assert await conn.fetchval("SELECT status FROM referral WHERE id = $1", UUID(rid)) == "REPORT_DRAFTING"

    consent = report_helpers.consent(world.users["manager"].email)
    consent["recipients"].append("hr.partner@employer.example")
    for path, body in (("report/consent", consent), ("report", report_helpers.content())):
        saved = await client.put(f"/api/v1/referrals/{rid}/{path}", json=body, headers=nurse)
        assert saved.status_code == 200, saved.text
    ready = await client.post(f"/api/v1/referrals/{rid}/report/ready", headers=nurse)
    assert ready.status_code == 200, ready.text
    await page.reload()
    release = page.get_by_role("form", name="Release the report")
    await expect(release.get_by_label("Send the report to")).to_have_value(
        f"{world.users['manager'].email}\nhr.partner@employer.example"
    )
    assert tab.errors == []
    await tab.context.close()


async def test_a_file_over_the_limit_is_refused_before_sending(
    browser: Browser, server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    draft = await make_referral(client, manager, submit=False)
    tab = await open_tab(browser, server)
    page = tab.page
    uploads: list[str] = []
    page.on(
        "request",
        lambda r: uploads.append(r.url) if r.url.endswith("/attachments") and r.method == "POST" else None,
    )
    await sign_in(page, world.users["manager"].email)
    await expect(page.get_by_role("heading", name="Your referrals", level=1)).to_be_visible()
    await page.goto(f"/referrals.html#edit={draft['id']}")
    await page.get_by_role("button", name=re.compile(r"^8 Files")).click()
    await expect(page.get_by_text("PDF, JPEG, PNG or Word (.docx), up to 10 MB.")).to_be_visible()
    big = b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024)
    # 11 MB travel to the browser through the DevTools protocol: allow for a busy machine.
    await page.get_by_label("File", exact=True).set_input_files(
        {"name": "big.pdf", "mimeType": "application/pdf", "buffer": big}, timeout=60_000
    )
    await page.get_by_role("button", name="Upload file").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "The file is 11 MB; each file may be at most 10 MB"
    )
    assert uploads == []
    assert await conn.fetchval("SELECT count(*) FROM referral_attachment") == 0
    assert tab.errors == []
    await tab.context.close()
