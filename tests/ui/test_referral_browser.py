"""The referral pages in headless Chromium against a real server and database.

A manager fills in and submits a referral through the form, a clinician triages it from the
queue, the employee acknowledges it from the emailed link, and an incomplete submission shows
the error summary.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from tests.booking.helpers import book_into_new_clinic
from tests.browser import chromium
from tests.conftest import Server
from tests.factories import PASSWORD, World, login, make_referral, make_world
from tests.reports import helpers as report_helpers
from tests.reports.helpers import content as report_content

pytestmark = pytest.mark.browser

TIMEOUT_MS = 10_000
CONCERN = "Absent for six weeks with back pain; wants to return."


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@dataclass
class Tab:
    context: BrowserContext
    page: Page
    errors: list[str]  # uncaught script errors on the page


async def open_tab(browser: Browser, server: Server, *, width: int = 1280) -> Tab:
    """A fresh browser context (no cookies) with one page; 375 px wide is a phone."""
    context = await browser.new_context(base_url=server.url, viewport={"width": width, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return Tab(context, page, errors)


async def sign_in(page: Page, email: str) -> None:
    await page.goto("/index.html")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


def step(page: Page, title: str) -> Locator:
    """The form section now on screen, found by its heading."""
    return page.get_by_role("region", name=re.compile(rf"{re.escape(title)}$"))


async def next_step(page: Page, title: str) -> Locator:
    await page.get_by_role("button", name=re.compile(rf"^Next: {re.escape(title)}$")).click()
    section = step(page, title)
    await expect(section).to_be_visible()
    return section


async def fill_referral(page: Page, today: date) -> None:
    """Every required field of the referral form, entered by label as a person would."""
    yesterday = (today - timedelta(days=1)).isoformat()
    section = step(page, "Referral details")
    await section.get_by_label("Type of referral").select_option(label="Management referral")
    await section.get_by_label("Urgent", exact=True).check()
    await section.get_by_label("Why is the referral urgent?").fill("Safety-critical driving role; off work.")

    section = await next_step(page, "Employee")
    await section.get_by_label("Full name").fill("Alex Example")
    await section.get_by_label("Date of birth").fill("1985-04-12")
    await section.get_by_label("Employee or payroll number").fill("EMP-00123")
    await section.get_by_label("Employee phone").fill("07700 900123")
    await section.get_by_label("Employee email").fill("alex.example@employer.example")
    await section.get_by_label("Address for letters").fill("1 Example Street, Exampletown, EX1 1AA")
    await section.get_by_label("Job title").fill("Warehouse operative")
    await section.get_by_label("Department").fill("Logistics")
    await section.get_by_label("Work location").fill("Example Depot")
    await section.get_by_label("Employment start date").fill("2019-03-01")
    await section.get_by_label("Contracted hours per week").fill("37.5")
    await section.get_by_label("Full time").check()
    await section.get_by_label("Days", exact=True).check()

    section = await next_step(page, "Role and hazards")
    await section.get_by_label("Main duties").fill("Picking and packing orders; forklift driving.")
    await section.get_by_label("Manual handling").check()
    await section.get_by_label("Driving (car or van)").check()

    section = await next_step(page, "Referrer (you)")
    await section.get_by_label("Your name").fill("Sam Manager")
    await section.get_by_label("Your job title").fill("Shift manager")
    await section.get_by_label("Your phone").fill("07700 900456")
    await expect(section.get_by_label("Your email")).not_to_have_value("")

    section = await next_step(page, "Reason for referral")
    await section.get_by_label("Long-term sickness absence").check()
    await section.get_by_label("What is the concern?").fill(CONCERN)
    await section.get_by_label("What advice do you want?").fill("Advice on a phased return and lifting.")

    section = await next_step(page, "Absence")
    absent_now = section.get_by_role("group", name="Is the employee absent from work now?")
    await absent_now.get_by_label("Yes").check()
    await section.get_by_label("First day of the current absence").fill(yesterday)
    await section.get_by_role("button", name="Add absence period").click()
    period = section.get_by_role("group", name="Absence period 1")
    await period.get_by_label("First day", exact=True).fill(yesterday)
    await period.get_by_label("Reason given").fill("Back pain")

    section = await next_step(page, "Questions for occupational health")
    await section.get_by_label(re.compile(r"^1\. Is the employee currently fit")).check()
    await section.get_by_label(re.compile(r"^3\. What adjustments")).check()
    await section.get_by_role("button", name="Add a question").click()
    await section.get_by_label("Question 1").fill("Can they drive a forklift?")

    await next_step(page, "Files")
    section = await next_step(page, "Employee informed")
    await section.get_by_label(re.compile("^I have discussed this referral")).check()
    await section.get_by_label("Date of the discussion").fill(yesterday)
    await section.get_by_label(re.compile("^The employee has been or will be given a copy")).check()


async def test_manager_submits_and_clinician_triages(browser: Browser, server: Server, conn) -> None:
    world = await make_world(conn)
    tab = await open_tab(browser, server)
    page = tab.page
    await sign_in(page, world.users["manager"].email)
    await expect(page.get_by_role("heading", name="Your referrals", level=1)).to_be_visible()
    await page.get_by_role("link", name="New referral").click()
    await expect(page.get_by_role("heading", name="New referral", level=1)).to_be_focused()

    await fill_referral(page, datetime.now(UTC).date())
    progress = page.get_by_role("navigation", name="Referral sections")
    current = progress.get_by_role("button", name=re.compile("Employee informed, complete"))
    await expect(current).to_have_attribute("aria-current", "step")
    await page.get_by_role("button", name="Save as draft").click()
    await expect(page.get_by_text(re.compile(r"^Draft saved \("))).to_be_visible()
    await expect(progress.get_by_role("button", name=re.compile("^2 Employee, complete$"))).to_be_visible()
    referral_id = UUID(re.search(r"#edit=([0-9a-f-]{36})", page.url).group(1))  # type: ignore[union-attr]
    assert (await conn.fetchval("SELECT status FROM referral WHERE id = $1", referral_id)) == "DRAFT"

    await step(page, "Employee informed").get_by_role("button", name="Previous").click()
    section = step(page, "Files")
    await section.get_by_label("Type of file").select_option(label="Job description")
    await section.get_by_label("File", exact=True).set_input_files(
        {"name": "job.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}
    )
    await section.get_by_role("button", name="Upload file").click()
    await expect(section.get_by_role("link", name="job.pdf")).to_be_visible()

    await next_step(page, "Employee informed")
    section = await next_step(page, "Check and submit")
    await expect(section.get_by_text(CONCERN)).to_be_visible()
    await section.get_by_role("button", name="Submit referral").click()
    await expect(page.get_by_role("heading", name="Referral submitted")).to_be_focused()
    row = page.get_by_role("row", name=re.compile("Alex Example"))
    await expect(row.get_by_role("cell", name="Awaiting triage")).to_be_visible()
    assert tab.errors == []
    await tab.context.close()

    tab = await open_tab(browser, server, width=375)
    page = tab.page
    await sign_in(page, world.users["clinician"].email)
    await expect(page.get_by_role("heading", name="Referral queue", level=1)).to_be_visible()
    queue = page.get_by_role("table")
    await expect(queue.get_by_role("row", name=re.compile("Alex Example"))).to_contain_text("Waiting")
    await queue.get_by_role("link", name=re.compile("^Alex Example")).click()
    await expect(page.get_by_role("heading", name="Referral for Alex Example", level=1)).to_be_focused()
    await expect(page.get_by_text("Safety-critical work:")).to_be_visible()
    triage = page.get_by_role("form", name="Triage")
    await triage.get_by_label("Video").check()
    await triage.get_by_label("OH nurse (adviser)").check()
    await triage.get_by_label("Urgent").check()
    await triage.get_by_role("button", name="Save triage").click()
    await expect(page.get_by_role("heading", name="Saved")).to_be_focused()
    facts = page.locator(".facts")
    await expect(facts).to_contain_text("Awaiting booking")
    await expect(facts).to_contain_text("Video")
    await page.get_by_label("Add a comment").fill("Booking a video appointment this week.")
    await page.get_by_role("button", name="Post comment").click()
    await expect(page.get_by_text("Booking a video appointment this week.")).to_be_visible()
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert tab.errors == []
    await tab.context.close()

    stored = await conn.fetchrow(
        "SELECT status, modality, clinician_grade, priority FROM referral WHERE id = $1", referral_id
    )
    assert dict(stored) == {
        "status": "AWAITING_BOOKING",
        "modality": "video",
        "clinician_grade": "ohn",
        "priority": "urgent",
    }
    form = await conn.fetchval("SELECT form FROM referral WHERE id = $1", referral_id)
    assert form["employee"]["contracted_hours"] == 37.5
    assert form["questions"] == {"standard": [1, 3], "additional": ["Can they drive a forklift?"]}
    assert "site" not in form  # empty inputs are left out, never sent as ""


async def _employee_link(conn, world: World) -> str:
    body = await conn.fetchval(
        "SELECT body FROM outbox_message WHERE recipient = $1 ORDER BY created_at DESC LIMIT 1",
        world.users["employee"].email,
    )
    match = re.search(r"(https?://\S+#token=[A-Za-z0-9_\-]+)", body)
    assert match, body
    return match.group(1)


async def test_employee_sees_what_was_sent_and_acknowledges(
    browser: Browser, server: Server, conn, client: httpx.AsyncClient
) -> None:
    world = await make_world(conn)
    referral = await make_referral(client, await login(client, world.users["manager"]))
    link = await _employee_link(conn, world)

    tab = await open_tab(browser, server, width=375)
    page = tab.page
    await page.goto(link)
    await expect(page.get_by_role("heading", name="Your occupational health referral")).to_be_visible()
    assert "token" not in page.url
    await expect(page.get_by_text(CONCERN)).to_be_visible()
    await expect(page.get_by_text(re.compile(r"^1\. Is the employee currently fit"))).to_be_visible()
    await expect(page.get_by_text("Can they drive a forklift?")).to_be_visible()

    await page.get_by_role("button", name="Send my answer").click()
    await expect(page.get_by_role("alert")).to_be_focused()
    await page.get_by_label("Yes, my manager discussed this with me").check()
    await page.get_by_label("Comment (optional)").fill("We talked on Monday.")
    await page.get_by_role("button", name="Send my answer").click()
    await expect(page.get_by_role("heading", name="Thank you, your answer has been sent")).to_be_focused()
    assert tab.errors == []

    acknowledged = await conn.fetchval(
        "SELECT acknowledged_at FROM referral WHERE id = $1", UUID(referral["id"])
    )
    assert acknowledged is not None

    await page.goto(link)  # the link works once
    spent = page.get_by_role("heading", name="This link has already been used or has expired")
    await expect(spent).to_be_visible()
    await tab.context.close()


async def test_incomplete_submission_shows_linked_error_summary(
    browser: Browser, server: Server, conn
) -> None:
    world = await make_world(conn)
    tab = await open_tab(browser, server, width=375)
    page = tab.page
    await sign_in(page, world.users["manager"].email)
    await page.get_by_role("link", name="New referral").click()
    first = step(page, "Referral details")
    await first.get_by_label("Type of referral").select_option(label="Management referral")
    await (
        page.get_by_role("navigation", name="Referral sections")
        .get_by_role("button", name=re.compile("Check and submit"))
        .click()
    )
    await step(page, "Check and submit").get_by_role("button", name="Submit referral").click()

    summary = page.get_by_role("alert")
    await expect(summary).to_be_focused()
    await expect(summary).to_contain_text("There is a problem")
    await expect(summary.get_by_role("link", name="Date of birth: this is required")).to_be_visible()
    attested = summary.get_by_role("link", name=re.compile("^I have discussed this referral.*to confirm$"))
    await expect(attested).to_be_visible()
    assert (await page.title()).startswith("Error: New referral")

    await summary.get_by_role("link", name="Date of birth: this is required").click()
    birth = step(page, "Employee").get_by_label("Date of birth")
    await expect(birth).to_be_focused()
    await expect(birth).to_have_attribute("aria-invalid", "true")
    await expect(birth).to_have_accessible_description(re.compile("This is required"))
    progress = page.get_by_role("navigation", name="Referral sections")
    await expect(progress.get_by_role("button", name="2 Employee, has problems")).to_have_attribute(
        "aria-current", "step"
    )
    assert tab.errors == []
    await tab.context.close()


@pytest.mark.parametrize("settings_overrides", [{"login_max_failures": 1}])
async def test_sign_in_explains_wrong_password_and_throttling(browser: Browser, server: Server, conn) -> None:
    world = await make_world(conn)
    tab = await open_tab(browser, server, width=375)
    page = tab.page
    await page.goto("/index.html")
    await page.get_by_label("Email address").fill(world.users["manager"].email)
    await page.get_by_label("Password", exact=True).fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    summary = page.get_by_role("alert")
    await expect(summary).to_be_focused()
    await expect(summary).to_contain_text("The email address or password is not correct.")
    await expect(page.get_by_label("Password", exact=True)).to_have_attribute("aria-invalid", "true")

    await page.get_by_role("button", name="Sign in").click()
    await expect(summary).to_contain_text("Too many attempts to sign in. Wait 15 minutes and try again.")
    await expect(summary).to_be_focused()
    assert tab.errors == []
    await tab.context.close()


async def referral_at_report_drafting(
    client: httpx.AsyncClient, manager: dict[str, str], nurse: dict[str, str]
) -> str:
    """A submitted referral taken through the API to the report being written (direct release)."""
    rid: str = (await make_referral(client, manager))["id"]
    triage = {"action": "triage", "modality": "video", "clinician_grade": "ohn", "priority": "routine"}
    moved = await client.post(f"/api/v1/referrals/{rid}/transitions", json=triage, headers=nurse)
    assert moved.status_code == 200, moved.text
    await book_into_new_clinic(client, nurse, rid)
    for body in (
        {"action": "start", "consent_to_assessment": True},
        {"action": "finish_consultation", "release_choice": "release"},
    ):
        moved = await client.post(f"/api/v1/referrals/{rid}/transitions", json=body, headers=nurse)
        assert moved.status_code == 200, moved.text
    return rid


async def test_report_release_from_the_referral_page_checks_the_report(
    browser: Browser, server: Server, client: httpx.AsyncClient, conn
) -> None:
    """The clinician's "Release report" goes to the report endpoint: refused (with the reason on
    screen) while no report is written, done once it is."""
    world = await make_world(conn)
    manager, nurse = (
        await login(client, world.users["manager"]),
        await login(client, world.users["clinician"]),
    )
    rid = await referral_at_report_drafting(client, manager, nurse)
    manager_email = world.users["manager"].email
    consented = await client.put(
        f"/api/v1/referrals/{rid}/report/consent", json=report_helpers.consent(manager_email), headers=nurse
    )
    assert consented.status_code == 200, consented.text

    async def write_report(**changes: str) -> None:
        """Save the report while drafting, then put the referral where release is offered."""
        await conn.execute("UPDATE referral SET status = 'REPORT_DRAFTING' WHERE id = $1", UUID(rid))
        saved = await client.put(
            f"/api/v1/referrals/{rid}/report", json=report_content(**changes), headers=nurse
        )
        assert saved.status_code == 200, saved.text
        await conn.execute("UPDATE referral SET status = 'READY_FOR_RELEASE' WHERE id = $1", UUID(rid))

    await write_report(functional_capability="")

    tab = await open_tab(browser, server)
    page = tab.page
    await sign_in(page, world.users["clinician"].email)
    await expect(page.get_by_role("heading", name="Referral queue", level=1)).to_be_visible()
    await page.goto(f"/triage.html#referral={rid}&status=READY_FOR_RELEASE")
    release = page.get_by_role("form", name="Release the report")
    await release.get_by_label("Send the report to").fill(manager_email)
    await release.get_by_role("button", name="Release report").click()
    summary = release.get_by_role("alert")
    await expect(summary).to_contain_text("The report is not complete.")
    await expect(summary).to_contain_text("The section 'Current functional capability' is empty.")
    assert await conn.fetchval("SELECT status FROM referral WHERE id = $1", UUID(rid)) == "READY_FOR_RELEASE"

    await write_report()
    await release.get_by_role("button", name="Release report").click()
    await expect(page.get_by_role("heading", name="Saved")).to_be_focused()
    await expect(page.locator(".facts")).to_contain_text("Report released")
    assert await conn.fetchval("SELECT status FROM referral WHERE id = $1", UUID(rid)) == "RELEASED"
    versions = await conn.fetchval("SELECT count(*) FROM mr_report_version WHERE referral_id = $1", UUID(rid))
    assert versions >= 1
    assert tab.errors == []
    await tab.context.close()


async def test_warned_before_the_session_ends_and_can_stay_signed_in(
    browser: Browser, server: Server, conn
) -> None:
    """WCAG 2.2.1: two minutes before the end a dialog offers more time; at the longest a session
    may last it says so instead."""
    world = await make_world(conn)
    tab = await open_tab(browser, server)
    page = tab.page
    await sign_in(page, world.users["clinician"].email)
    await expect(page.get_by_role("heading", name="Referral queue", level=1)).to_be_visible()
    user_id = world.users["clinician"].id
    await conn.execute(
        "UPDATE auth_session SET expires_at = now() + interval '90 seconds' WHERE user_id = $1", user_id
    )
    await page.reload()
    dialog = page.get_by_role("alertdialog", name="Your session is about to end")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("Anything you have not saved will be lost.")
    stay = dialog.get_by_role("button", name="Stay signed in")
    await expect(stay).to_be_focused()
    await stay.click()
    await expect(dialog).to_have_count(0)
    await expect(page.get_by_role("status")).to_contain_text("You will stay signed in until")
    left = await conn.fetchval(
        "SELECT expires_at - now() FROM auth_session WHERE user_id = $1 AND revoked_at IS NULL", user_id
    )
    assert left > timedelta(hours=11)

    await conn.execute(
        "UPDATE auth_session SET created_at = now() - interval '23 hours 59 minutes',"
        " expires_at = now() + interval '60 seconds' WHERE user_id = $1",
        user_id,
    )
    await page.reload()
    final = page.get_by_role("alertdialog", name="Your session is about to end")
    await expect(final).to_contain_text("cannot stay signed in longer")
    await expect(final.get_by_role("button", name="Stay signed in")).to_have_count(0)
    await final.get_by_role("button", name="I understand").click()
    await expect(final).to_have_count(0)
    assert tab.errors == []
    await tab.context.close()


async def test_clinician_writes_the_report_on_the_referral_page(
    browser: Browser, server: Server, client: httpx.AsyncClient, conn
) -> None:
    """Consent first, then the report with an answer to each question; the saved report passes
    the completeness check and the referral moves on."""
    world = await make_world(conn)
    manager, nurse = (
        await login(client, world.users["manager"]),
        await login(client, world.users["clinician"]),
    )
    rid = await referral_at_report_drafting(client, manager, nurse)

    tab = await open_tab(browser, server, width=375)
    page = tab.page
    await sign_in(page, world.users["clinician"].email)
    await expect(page.get_by_role("heading", name="Referral queue", level=1)).to_be_visible()
    await page.goto(f"/triage.html#referral={rid}&status=")
    report = page.get_by_role("form", name="2. The report")
    await report.get_by_label("Current functional capability").fill("Can stand for an hour.")
    await report.get_by_role("button", name="Save report").click()
    await expect(report.get_by_role("alert")).to_contain_text("Record the employee's consent options first.")

    consent = page.get_by_role("form", name="1. The employee's consent to the report")
    await consent.get_by_label("Who may receive the report").fill(world.users["manager"].email)
    await consent.get_by_label("Given verbally and recorded in the notes").check()
    await consent.get_by_label("What the employee was told").fill("Explained the contents and the recipient.")
    await consent.get_by_role("button", name="Save consent").click()
    await expect(consent.get_by_role("status")).to_contain_text("Saved at")

    await report.get_by_label("Date of assessment").fill("2026-11-20")
    await report.get_by_label("Fit for their role with adjustments").check()
    answers = report.get_by_label(re.compile("^Answer to: "))
    for i in range(await answers.count()):
        await answers.nth(i).fill(f"Answer number {i + 1}.")
    await report.get_by_label("Adjustments", exact=True).fill("No lifting over 10 kg for six weeks.")
    await report.get_by_label("Prognosis, future attendance and performance").fill("Full duties in 8 weeks.")
    await report.get_by_label("Review and follow-up").fill("Review in six weeks.")
    await report.get_by_role("button", name="Save report").click()
    await expect(report.get_by_role("status")).to_contain_text("Saved at")

    await (
        page.get_by_role("form", name="Report ready for release")
        .get_by_role("button", name="Mark ready")
        .click()
    )
    await expect(page.get_by_role("heading", name="Saved")).to_be_focused()
    assert await conn.fetchval("SELECT status FROM referral WHERE id = $1", UUID(rid)) == "READY_FOR_RELEASE"
    stored = await client.get(f"/api/v1/referrals/{rid}/report/draft", headers=nurse)
    assert stored.status_code == 200, stored.text
    saved = stored.json()
    assert saved["editable"] is False
    assert saved["content"]["functional_capability"] == "Can stand for an hour."
    assert saved["content"]["fitness_opinion"] == "fit_with_adjustments"
    assert [a["answer"] for a in saved["content"]["answers"]] == [
        f"Answer number {i + 1}." for i in range(len(saved["questions"]))
    ]
    assert saved["consent"]["recipients"] == [world.users["manager"].email]
    assert saved["consent"]["sections"]["background"] is True  # ticked by default
    # Read-only now: the fields are shown but cannot be changed.
    await expect(
        page.get_by_role("form", name="2. The report").get_by_label("Review and follow-up")
    ).to_be_disabled()
    assert tab.errors == []
    await tab.context.close()
