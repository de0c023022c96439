"""The clinic diary in Chromium, as booking staff, on a desktop and a 375 px phone: plan a clinic,
book a referral awaiting booking into one of its free slots, with no WCAG 2.2 A/AA violation."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.booking.helpers import plan_clinic
from tests.browser import chromium
from tests.clinics.helpers import triaged_referral
from tests.conftest import Server
from tests.factories import login, make_world
from tests.ui.test_accessibility import violations
from tests.ui.test_referral_browser import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])
async def test_booking_staff_plan_a_clinic_and_book_a_referral_in_the_diary(
    browser: Browser, server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection, width: int
) -> None:
    world = await make_world(conn)
    nurse = await login(client, world.users["clinician"])
    referral = await triaged_referral(client, world, nurse)
    context = await browser.new_context(
        base_url=server.url, viewport={"width": width, "height": 900}, timezone_id="Europe/London"
    )
    context.set_default_timeout(15_000)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    problems: list[str] = []

    await sign_in(page, world.users["provider_admin"].email)
    await page.wait_for_url(re.compile(r"/triage\.html"))
    await page.get_by_role("link", name="Diary", exact=True).click()
    heading = page.get_by_role("heading", name=re.compile(r"^Clinic diary: week of "), level=1)
    await expect(heading).to_be_focused()
    problems += await violations(page)

    plan = page.get_by_role("form", name="Plan a clinic")
    await plan.get_by_label("Date").fill("")  # no date: the error summary shows
    await plan.get_by_role("button", name="Plan clinic").click()
    await expect(plan.get_by_role("alert")).to_be_focused()
    problems += await violations(page)

    day = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    await plan.get_by_label("Date").fill(day)
    await plan.get_by_label("Starts").fill("09:00")
    await plan.get_by_label("Ends").fill("10:00")
    await plan.get_by_label("Appointment length").select_option("30")
    await plan.get_by_label("Video").check()
    await plan.get_by_role("button", name="Plan clinic").click()
    result = page.locator("#diary-result")
    await expect(result).to_be_focused()
    await expect(result).to_contain_text("Video clinic planned")
    assert await conn.fetchval("SELECT count(*) FROM clinic_slot") == 2

    await page.get_by_role("button", name=re.compile(r"^Book at 09:00 ")).click()
    panel = page.get_by_role("heading", name=re.compile(r"^Book 09:00 "), level=2)
    await expect(panel).to_be_focused()
    await expect(page.get_by_label("Referral awaiting booking")).to_have_value(referral["id"])
    problems += await violations(page)
    await page.get_by_role("button", name="Book and tell the employee").click()
    await expect(result).to_be_focused()
    await expect(result).to_contain_text("Booked Alex Example")
    await expect(page.get_by_text("Alex Example (Booked)")).to_be_visible()
    await expect(page.get_by_role("button", name=re.compile(r"^Move Alex Example"))).to_be_visible()
    problems += await violations(page)

    status = await conn.fetchval("SELECT status FROM referral WHERE id = $1::uuid", referral["id"])
    assert status == "BOOKED"
    assert await conn.fetchval("SELECT count(*) FROM appointment WHERE status = 'booked'") == 1

    # Move it to the other slot, then cancel it: the slot is free again and the referral awaits booking.
    await page.get_by_role("button", name="Move Alex Example's appointment").click()
    await expect(page.locator("#diary-moving")).to_be_focused()
    await page.get_by_role("button", name=re.compile(r"^Move here at 09:30 ")).click()
    await expect(result).to_contain_text("Moved Alex Example's appointment to 09:30")
    moved_to = await conn.fetchval(
        "SELECT to_char(sl.starts_at AT TIME ZONE 'Europe/London', 'HH24:MI') FROM appointment a"
        " JOIN clinic_slot sl ON sl.id = a.slot_id WHERE a.status = 'booked'"
    )
    assert moved_to == "09:30"
    await page.get_by_role("button", name="Cancel Alex Example's appointment").click()
    await expect(
        page.get_by_role("heading", name=re.compile(r"^Cancel Alex Example's"), level=2)
    ).to_be_focused()
    problems += await violations(page)
    await page.get_by_role("button", name="Cancel the appointment").click()
    await expect(result).to_contain_text("The slot is free again")
    await expect(page.get_by_role("button", name=re.compile(r"^Book at "))).to_have_count(2)
    status = await conn.fetchval("SELECT status FROM referral WHERE id = $1::uuid", referral["id"])
    assert status == "AWAITING_BOOKING"
    overflow = await page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow, "the diary is wider than the screen"
    assert not problems, "\n".join(problems)
    assert not errors, errors
    await context.close()


async def test_staff_see_the_offers_made_in_the_diary(
    browser: Browser, server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    nurse = await login(client, world.users["clinician"])
    referral = await triaged_referral(client, world, nurse)
    clinic = await plan_clinic(client, nurse, start_in=timedelta(days=3))
    made = await client.post(
        "/api/v1/booking/offers",
        json={"referral_id": referral["id"], "session_id": clinic["id"]},
        headers=nurse,
    )
    assert made.status_code == 201, made.text
    context = await browser.new_context(
        base_url=server.url, viewport={"width": 1280, "height": 900}, timezone_id="Europe/London"
    )
    context.set_default_timeout(15_000)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    await sign_in(page, world.users["provider_admin"].email)
    await page.wait_for_url(re.compile(r"/triage\.html"))
    await page.get_by_role("link", name="Diary", exact=True).click()
    offers = page.get_by_role("region", name="Offers of times to employees")
    row = offers.get_by_role("row", name=re.compile("Alex Example"))
    await expect(row).to_contain_text("Open")
    await expect(row).to_contain_text("alex.example@employer.example")
    await expect(row.get_by_role("cell").nth(3)).to_have_text("4")  # four times still free
    assert await violations(page) == []
    await offers.get_by_label("Show offers that are").select_option("booked")
    await expect(offers.get_by_text("No offers.")).to_be_visible()
    await offers.get_by_label("Show offers that are").select_option("")
    await expect(offers.get_by_role("row", name=re.compile("Alex Example"))).to_have_count(1)
    assert errors == []
    await context.close()
