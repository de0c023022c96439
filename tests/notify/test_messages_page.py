"""The provider admin's "Failed messages" page: a refused e-mail is listed with its reason and
resent with one button; axe finds no WCAG 2.2 A/AA problem on a desktop or a 375 px phone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.browser import chromium
from tests.conftest import Server
from tests.factories import login, make_referral, make_world
from tests.notify.smtp_server import SmtpServer, wait_for
from tests.ui.test_accessibility import violations
from tests.ui.test_referral_browser import open_tab, sign_in

pytestmark = pytest.mark.browser
EMPLOYEE = "alex.example@employer.example"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])
async def test_a_provider_admin_sees_a_failed_message_and_resends_it(
    browser: Browser,
    server: Server,
    client: httpx.AsyncClient,
    conn: asyncpg.Connection,
    smtp: SmtpServer,
    width: int,
) -> None:
    smtp.recorder.refuse.add(EMPLOYEE)
    smtp.start()
    world = await make_world(conn)
    await make_referral(client, await login(client, world.users["manager"]))
    await wait_for(
        lambda: conn.fetchval("SELECT status = 'failed' FROM outbox_message WHERE recipient = $1", EMPLOYEE),
        what="the failure",
    )

    tab = await open_tab(browser, server, width=width)
    page = tab.page
    await sign_in(page, world.users["provider_admin"].email)
    await page.get_by_role("link", name="Failed messages").click()
    await expect(page.get_by_role("heading", name="Failed messages", level=1)).to_be_visible()
    table = page.get_by_role("table", name="Failed messages (1)")
    row = table.get_by_role("row").filter(has_text=EMPLOYEE)
    await expect(row).to_contain_text("550 5.1.1 No such mailbox here")
    await expect(row).to_contain_text("Your occupational health referral")
    assert await violations(page) == []

    smtp.recorder.refuse.clear()
    await row.get_by_role("button", name=f"Resend to {EMPLOYEE}: Your occupational health referral").click()
    await expect(page.get_by_role("main").get_by_text("Queued again:")).to_be_visible()
    await expect(page.get_by_text("No failed messages")).to_be_visible()
    await wait_for(lambda: smtp.recorder.to(EMPLOYEE), what="the resent e-mail")
    assert await violations(page) == []
    assert tab.errors == []
    await tab.context.close()
