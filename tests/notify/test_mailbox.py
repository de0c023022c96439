"""The development mailbox (log sender, outside production): every message "sent", newest first,
links that work, calendar invitations to download; read from the outbox, so it survives restarts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, expect

from backend.notify import service as notify
from tests.browser import chromium
from tests.conftest import Server
from tests.factories import login, make_referral, make_world
from tests.notify.test_smtp_delivery import ICS
from tests.ui.test_accessibility import violations
from tests.ui.test_referral_browser import open_tab

EMPLOYEE = "alex.example@employer.example"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"mail_sender": "log", "demo_mailbox": True, "mail_poll_seconds": 0.1}


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def invitation(conn: asyncpg.Connection) -> None:
    async with conn.transaction():
        await notify.enqueue(
            conn,
            recipient=EMPLOYEE,
            subject="Your appointment",
            body="Your appointment is on 12 January at 10:00.",
            kind="appointment.invitation",
            calendar_ics=ICS,
        )


async def test_the_mailbox_lists_messages_newest_first_with_invitations(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    await make_referral(client, await login(client, world.users["manager"]))
    await invitation(conn)

    listed = await client.get("/api/v1/mailbox")
    assert listed.status_code == 200
    first, second = listed.json()["items"]
    assert (first["subject"], first["has_calendar"]) == ("Your appointment", True)
    assert second["subject"] == "Your occupational health referral"
    assert "/acknowledge.html#token=" in second["body"]
    ics = await client.get(f"/api/v1/mailbox/{first['id']}/invite.ics")
    assert ics.status_code == 200
    assert ics.headers["content-type"].startswith("text/calendar")
    assert ics.headers["content-disposition"] == 'attachment; filename="invite.ics"'
    assert ics.text == ICS
    assert (await client.get(f"/api/v1/mailbox/{second['id']}/invite.ics")).status_code == 404
    assert (await client.get("/mailbox")).status_code == 200


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])
async def test_a_link_in_the_mailbox_opens_its_page(
    browser: Browser, server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection, width: int
) -> None:
    world = await make_world(conn)
    await make_referral(client, await login(client, world.users["manager"]))
    await invitation(conn)

    tab = await open_tab(browser, server, width=width)
    page = tab.page
    await page.goto("/mailbox")
    await expect(page.get_by_role("heading", name="Demo mailbox", level=1)).to_be_visible()
    headings = page.get_by_role("heading", level=2)
    await expect(headings).to_have_text(["Your appointment", "Your occupational health referral"])
    download = page.get_by_role("link", name="Download the calendar invitation (invite.ics)")
    await expect(download).to_have_attribute("href", re.compile(r"/invite\.ics$"))
    assert await violations(page) == []
    assert tab.errors == []

    await page.get_by_role("link", name="/acknowledge.html#token=").click()
    await page.wait_for_url("**/acknowledge.html#token=*")
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await tab.context.close()
