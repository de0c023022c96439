"""A manager of the same department opens a colleague's referral: the page shows its progress and
who it is about, no contact or health details, no files or comments, and passes axe (WCAG 2.2 AA)
on a desktop and a phone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.browser import chromium
from tests.conftest import Server
from tests.factories import login, make_referral, make_world
from tests.ui.test_accessibility import violations
from tests.ui.test_referral_browser import open_tab, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def test_a_colleague_sees_progress_only(
    browser: Browser, server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    referral = await make_referral(client, await login(client, world.users["manager"]))
    for width in (1280, 375):
        tab = await open_tab(browser, server, width=width)
        page = tab.page
        await sign_in(page, world.users["manager_same_dept"].email)
        await expect(page.get_by_role("heading", name="Your referrals", level=1)).to_be_visible()
        await page.goto(f"/referrals.html#view={referral['id']}")
        await expect(page.get_by_role("heading", name="Referral for Alex Example", level=1)).to_be_visible()
        about = page.get_by_role("region", name="About this referral")
        await expect(about).to_contain_text("Warehouse operative")
        await expect(about).to_contain_text("seen only by the manager who made it")
        text = await page.locator("main").inner_text()
        for secret in ("07700", "Example Street", "back pain", "1985", "alex.example@"):
            assert secret not in text, secret
        await expect(page.get_by_role("heading", name="Comments")).to_have_count(0)
        assert await violations(page) == []
        assert tab.errors == []
        await tab.context.close()
