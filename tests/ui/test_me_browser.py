"""The employee's "My occupational health" page in headless Chromium, on a desktop and a phone:
the report waiting for them is read and approved on the page, the appointment shows how to join,
and a manager's read of the released report appears in "who has seen my records"."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.browser import chromium
from tests.clinics.helpers import book, make_session, triaged_referral
from tests.conftest import Server
from tests.reports.test_management_report import drafting
from tests.ui.test_accessibility import violations
from tests.ui.test_referral_browser import open_tab, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])
async def test_the_employee_reviews_and_approves_then_sees_the_managers_read(
    browser: Browser, server: Server, client: httpx.AsyncClient, conn, width: int
) -> None:
    world, manager, nurse, rid = await drafting(client, conn)
    sent = await client.post(f"/api/v1/referrals/{rid}/report/send-for-review", headers=nurse)
    assert sent.status_code == 200, sent.text
    booked_referral = await triaged_referral(client, world, nurse)
    session = await make_session(client, nurse, start_in=timedelta(hours=2))
    assert (await book(client, nurse, booked_referral["id"], session["slots"][0]["id"])).status_code == 201

    tab = await open_tab(browser, server, width=width)
    page = tab.page
    await sign_in(page, world.users["employee"].email)
    await page.wait_for_url(re.compile(r"/me\.html"))
    await expect(page.get_by_role("heading", name="My occupational health", level=1)).to_be_visible()
    waiting = page.get_by_role("region", name="Your report is ready for you to read")
    await expect(waiting).to_contain_text("There is no fixed deadline")

    appointments = page.get_by_role("region", name="Your appointments")
    soonest = appointments.get_by_role("listitem").first  # the one in two hours comes first
    await expect(soonest.get_by_role("link", name=re.compile("^Join the video appointment"))).to_be_visible()
    await expect(soonest.get_by_role("link", name=re.compile("^Add to my calendar"))).to_be_visible()
    await expect(soonest).to_contain_text(re.compile(r"\d{2}:\d{2} (GMT|BST)"))
    await expect(soonest).to_contain_text("To change the time, contact occupational health.")

    review = page.get_by_role("region", name="Your report to read first")
    await expect(review.get_by_role("article")).to_contain_text("Answers to your questions")
    await expect(review.get_by_role("article")).to_contain_text(
        "Likely back to full duties within eight weeks."
    )
    assert await violations(page) == []
    assert await page.evaluate("document.documentElement.scrollWidth") <= width

    await review.get_by_role("button", name="Approve the report").click()
    await expect(page.get_by_role("status")).to_contain_text("You approved your report")
    await expect(page.get_by_role("region", name="Your reports")).to_contain_text("You approved it")
    await expect(page.get_by_role("region", name="Your report to read first")).to_have_count(0)
    assert await conn.fetchval("SELECT status FROM referral WHERE id::text = $1", rid) == "READY_FOR_RELEASE"

    released = await client.post(
        f"/api/v1/referrals/{rid}/report/release",
        headers=nurse,
        json={"recipients": [world.users["manager"].email]},
    )
    assert released.status_code == 200, released.text
    assert (await client.get(f"/api/v1/referrals/{rid}/report", headers=manager)).status_code == 200

    await page.reload()
    seen = page.get_by_role("region", name="Who has seen my records")
    manager_row = (
        seen.get_by_role("row")
        .filter(has_text="Read your occupational health report")
        .filter(has_text=world.users["manager"].full_name)
    )
    await expect(manager_row.first).to_contain_text("Manager")
    await expect(manager_row.first).to_contain_text(world.employer.name)
    await expect(page.get_by_role("region", name="Your reports")).to_contain_text("Released")
    assert await violations(page) == []
    assert tab.errors == []
    await tab.context.close()


async def test_the_employee_asks_for_a_correction_or_withholds_the_report(
    browser: Browser, server: Server, client: httpx.AsyncClient, conn
) -> None:
    world, _manager, nurse, rid = await drafting(client, conn)
    assert (
        await client.post(f"/api/v1/referrals/{rid}/report/send-for-review", headers=nurse)
    ).status_code == 200
    tab = await open_tab(browser, server)
    page = tab.page
    await sign_in(page, world.users["employee"].email)
    review = page.get_by_role("region", name="Your report to read first")
    await review.get_by_role("button", name="Ask for this correction").click()
    await expect(review.get_by_role("alert")).to_contain_text("Enter what is wrong in the report")
    await review.get_by_label("Which part of the report").select_option(label="Background (work-relevant)")
    await review.get_by_label("What is factually wrong, and what is right?").fill(
        "I started in 2019, not 2017."
    )
    await review.get_by_role("button", name="Ask for this correction").click()
    await expect(page.get_by_role("status")).to_contain_text("Your correction has been sent")
    assert await conn.fetchval("SELECT status FROM referral WHERE id::text = $1", rid) == "REPORT_DRAFTING"
    assert await conn.fetchval("SELECT section FROM mr_correction") == "background"

    assert (
        await client.post(f"/api/v1/referrals/{rid}/report/send-for-review", headers=nurse)
    ).status_code == 200
    await page.reload()
    withhold = page.get_by_role("button", name="Do not release my report", exact=True)
    await withhold.click()
    await expect(withhold).to_have_attribute("aria-expanded", "true")
    await page.get_by_role("button", name="Yes, do not release my report").click()
    await expect(page.get_by_role("region", name="Your reports")).to_contain_text(
        "You chose not to release it"
    )
    assert (
        await conn.fetchval("SELECT status FROM referral WHERE id::text = $1", rid) == "CLOSED_NOT_RELEASED"
    )
    assert tab.errors == []
    await tab.context.close()
