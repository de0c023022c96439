"""Hold and leave in headless Chromium (fake camera and microphone, loopback ICE).

The nurse puts the employee on hold and brings them back: the employee's own picture plays
again (it used to freeze). Then the employee leaves: their page says the nurse was told, and the
nurse's page shows that they left, not that they are reconnecting. The employee rejoins through
the waiting room, and then the nurse leaves the clinic: the employee's page shows that.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser import chromium
from tests.clinics.helpers import make_clinic, outbox_links
from tests.clinics.test_clinic_browser import CALL_ARGS, EMPLOYEE, TIMEOUT_MS, employee_arrives, link_for, tab
from tests.conftest import Server
from tests.factories import PASSWORD
from tests.ui.test_accessibility import violations

pytestmark = pytest.mark.browser


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium(extra=CALL_ARGS) as launched:
        yield launched


async def start_clinic(nurse: Page, email: str) -> None:
    await nurse.goto("/clinic.html")
    await expect(nurse.get_by_role("heading", name="Sign in")).to_be_visible(timeout=TIMEOUT_MS)
    await nurse.get_by_label("Email address").fill(email)
    await nurse.get_by_label("Password", exact=True).fill(PASSWORD)
    await nurse.get_by_role("button", name="Sign in").click()
    await nurse.get_by_role("link", name=re.compile("^Clinic ")).click()
    await nurse.get_by_role("button", name="Start clinic").click()


async def decoding(page: Page) -> None:
    await expect(page.locator("#call-quality")).to_have_attribute(
        "data-frames-decoded", re.compile(r"^[1-9]"), timeout=TIMEOUT_MS
    )


async def self_view_plays(page: Page) -> bool:
    """The page's own picture is playing: not paused, and its time moves on."""
    video = page.locator(".self-view__video")
    before = await video.evaluate("el => el.currentTime")
    await asyncio.sleep(1)
    paused, after = await video.evaluate("el => [el.paused, el.currentTime]")
    return not paused and after > before


async def test_hold_then_leave_seen_from_both_pages(
    browser: Browser, server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic = await make_clinic(client, conn)
    nurse_ctx, nurse, nurse_errors = await tab(browser, server)
    await start_clinic(nurse, clinic.world.users["clinician"].email)
    row = nurse.get_by_role("row", name=re.compile("Alex Example"))
    await expect(row).to_contain_text("Not arrived", timeout=TIMEOUT_MS)
    token = (await outbox_links(conn, EMPLOYEE))[0]
    employee_ctx, employee, employee_errors = await tab(browser, server, width=375)
    await employee_arrives(employee, link_for(token, server))
    await row.get_by_role("button", name="Admit Alex Example").click()
    for page in (nurse, employee):
        await decoding(page)
    assert await self_view_plays(employee)

    # on hold and back: the employee's own picture must not stay frozen
    await row.get_by_role("button", name="Put Alex Example on hold").click()
    await expect(employee.get_by_role("heading", name="Please wait: you are on hold")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    await expect(nurse.locator("#call-status")).to_have_text("Alex Example is on hold.", timeout=TIMEOUT_MS)
    await row.get_by_role("button", name="Admit Alex Example").click()
    await expect(employee.locator(".self-view__video")).to_be_visible(timeout=TIMEOUT_MS)
    await expect(nurse.locator(".video-tile video")).to_have_count(1, timeout=TIMEOUT_MS)
    assert await self_view_plays(employee), "the employee's self-view froze after the hold"

    # the employee leaves: the nurse sees it, and the employee's page says only what is true
    await employee.get_by_role("button", name="Leave the call").click()
    await expect(employee.get_by_role("heading", name="You have left the call")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    await expect(employee.get_by_text("Your nurse has been told that you left the call.")).to_be_visible()
    await expect(nurse.locator("#call-status")).to_have_text(
        "Alex Example left the call.", timeout=TIMEOUT_MS
    )
    await expect(row).to_contain_text("Left", timeout=TIMEOUT_MS)
    await expect(nurse.locator(".video-tile")).to_have_count(0)
    await asyncio.sleep(2)  # time for any "reconnecting" to show up, had the leave not been told
    await expect(row).not_to_contain_text("reconnecting")
    await expect(nurse.locator("#call-status")).to_have_text("Alex Example left the call.")
    found = [f"nurse, someone left: {v}" for v in await violations(nurse)]
    found += [f"employee, left (375 px): {v}" for v in await violations(employee)]
    reasons = await conn.fetch(
        "SELECT e.detail->>'reason' AS reason FROM call_event e JOIN clinic_participant p"
        " ON p.id = e.participant_id WHERE e.kind = 'left' AND p.kind = 'employee'"
    )
    assert [r["reason"] for r in reasons] == ["left the call"]

    # the employee comes back through the waiting room; then the nurse leaves the clinic
    await employee.get_by_role("button", name="Rejoin the call").click()
    await expect(employee.get_by_role("heading", name="You are in the waiting room")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    await row.get_by_role("button", name="Admit Alex Example").click()
    await decoding(employee)
    await expect(nurse.locator("#call-status")).to_have_text("")
    await nurse.get_by_role("button", name="Leave the clinic").click()
    await expect(nurse.get_by_role("heading", name="You have left the clinic")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    await expect(nurse.get_by_text("Anyone in a call with you has been told that you left.")).to_be_visible()
    await expect(employee.locator("#call-status")).to_have_text(
        "Test clinician left the call. Stay on this page: the call carries on here if they come back.",
        timeout=TIMEOUT_MS,
    )
    await expect(employee.locator(".video-tile")).to_have_count(0)
    found += [f"nurse, left the clinic: {v}" for v in await violations(nurse)]
    assert not found, "\n".join(found)
    assert nurse_errors == []
    assert employee_errors == []
    await nurse_ctx.close()
    await employee_ctx.close()
