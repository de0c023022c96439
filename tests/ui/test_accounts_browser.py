"""Accounts in headless Chromium: choosing a password from an e-mailed invitation, a forgotten
password, a one-time sign-in link, returning to the page that asked for sign-in, an employee who
sets a password after acknowledging, a client admin inviting a manager, and WCAG 2.2 AA (axe) on
each new page and state. Links are read from the outbox, as the recipient would receive them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import quote

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.accounts.helpers import emailed_link
from tests.browser import chromium
from tests.conftest import Server
from tests.factories import PASSWORD, login, make_referral, make_world, referral_form
from tests.ui.test_accessibility import violations
from tests.ui.test_referral_browser import Tab, open_tab

pytestmark = pytest.mark.browser

NEW_PASSWORD = "blue kettle singing softly"
WIDTHS = pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


def console_errors(page: Page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda message: found.append(message.text) if message.type == "error" else None)
    return found


def unauthorised(page: Page) -> list[str]:
    """Addresses answered 401, other than a refused sign-in (what the console's 401 errors were)."""
    found: list[str] = []
    page.on(
        "response",
        lambda response: (
            found.append(response.url)
            if response.status == 401 and not response.url.endswith("/api/v1/auth/login")
            else None
        ),
    )
    return found


async def accessible(tab: Tab, state: str, found: list[str]) -> None:
    found += [f"{state}: {problem}" for problem in await violations(tab.page)]
    found += [f"{state}: script error {error}" for error in tab.errors]


async def choose_password(page: Page, password: str = NEW_PASSWORD) -> None:
    await page.get_by_label("New password", exact=True).fill(password)
    await page.get_by_label("Type the new password again").fill(password)
    await page.get_by_role("button", name="Save password").click()


async def sign_in_with(page: Page, email: str, password: str) -> None:
    await page.wait_for_load_state()  # the sign-in page's script handles the form once loaded
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()


@WIDTHS
async def test_invited_employee_chooses_a_password_and_signs_in(
    browser: Browser, server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection, width: int
) -> None:
    world = await make_world(conn)
    admin = await login(client, world.users["client_admin"])
    invited = await client.post(
        "/api/v1/users",
        json={"organisation_id": str(world.employer.id), "role": "employee",
              "email": "robin.new@employer.example", "full_name": "Robin New"},
        headers=admin,
    )  # fmt: skip
    assert invited.status_code == 201, invited.text
    link, _ = await emailed_link(conn, "robin.new@employer.example")
    tab = await open_tab(browser, server, width=width)
    page, found = tab.page, list[str]()
    errors = unauthorised(page)  # refusals shown on the page (422, 404) are expected
    await page.goto(link)
    await expect(page.get_by_role("heading", name="Choose your password", level=1)).to_be_visible()
    assert "token" not in page.url
    await accessible(tab, "set password", found)
    await choose_password(page, "too short")
    await expect(page.get_by_role("alert")).to_contain_text("Use at least 12 characters")
    await accessible(tab, "set password with errors", found)
    await choose_password(page, "robin.new password")  # contains the address: the server refuses it
    await expect(page.get_by_role("alert")).to_contain_text("must not contain the e-mail address")
    await choose_password(page)
    await expect(page.get_by_role("heading", name="Your password is saved")).to_be_focused()
    await expect(page.get_by_text("robin.new@employer.example")).to_be_visible()
    await accessible(tab, "password saved", found)
    await page.get_by_role("link", name="Sign in").click()
    await sign_in_with(page, "robin.new@employer.example", NEW_PASSWORD)
    await page.wait_for_url(re.compile(r"/me\.html"))  # an employee's home page
    await expect(page.get_by_role("heading", name="My occupational health", level=1)).to_be_visible()
    await page.goto(link)  # the link worked once
    await expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    await choose_password(page)
    await expect(
        page.get_by_role("heading", name="This link has already been used or has expired")
    ).to_be_visible()
    await accessible(tab, "used link", found)
    assert not errors, errors
    assert not found, "\n".join(found)


@WIDTHS
async def test_forgotten_password_and_sign_in_link_return_to_the_page(
    browser: Browser, server: Server, conn: asyncpg.Connection, width: int
) -> None:
    world = await make_world(conn)
    manager = world.users["manager"]
    tab = await open_tab(browser, server, width=width)
    page, found = tab.page, list[str]()
    errors = unauthorised(page)
    await page.goto("/dashboard.html")  # signed out: sent to sign in, asked to come back here
    await page.wait_for_url(re.compile(r"/\?next=%2Fdashboard\.html$"))
    await accessible(tab, "sign-in page", found)
    await page.get_by_role("link", name="Forgotten your password?").click()
    await expect(page.get_by_role("heading", name="Reset your password", level=1)).to_be_visible()
    await page.get_by_role("button", name="Send me a reset link").click()
    await expect(page.get_by_role("alert")).to_contain_text("Enter your email address")
    await accessible(tab, "reset request with errors", found)
    await page.get_by_label("Email address").fill(manager.email)
    await page.get_by_role("button", name="Send me a reset link").click()
    await expect(page.get_by_role("heading", name="Check your e-mail")).to_be_focused()
    await accessible(tab, "reset requested", found)
    link, _ = await emailed_link(conn, manager.email)
    await page.goto(link)
    await expect(page.get_by_role("heading", name="Choose a new password", level=1)).to_be_visible()
    await choose_password(page)
    await expect(page.get_by_role("heading", name="Your password is saved")).to_be_visible()
    await page.get_by_role("link", name="Sign in").click()
    await sign_in_with(page, manager.email, PASSWORD)
    await expect(page.get_by_role("alert")).to_contain_text("not correct")  # the old password is gone
    await sign_in_with(page, manager.email, NEW_PASSWORD)
    await page.wait_for_url(re.compile(r"/referrals\.html"))
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(re.compile(r"/index\.html"))

    await page.goto(f"/?next={quote('/dashboard.html', safe='')}")
    await page.get_by_role("link", name="E-mail me a sign-in link").click()
    await expect(page.get_by_role("heading", name="E-mail me a sign-in link", level=1)).to_be_visible()
    await accessible(tab, "sign-in link request", found)
    await page.get_by_label("Email address").fill(manager.email)
    await page.get_by_role("button", name="Send me a sign-in link").click()
    await expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    link, _ = await emailed_link(conn, manager.email)
    assert "/?next=/dashboard.html#sign-in=" in link
    await page.goto(link)
    await page.wait_for_url(re.compile(r"/dashboard\.html$"))
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert not errors, errors
    assert not found, "\n".join(found)


async def test_sign_in_returns_to_a_deep_link_and_ignores_other_sites(
    browser: Browser, server: Server, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    nurse = world.users["clinician"]
    tab = await open_tab(browser, server)
    page = tab.page
    await page.goto("/triage.html#status=BOOKED")
    await page.wait_for_url(re.compile(r"/\?next=%2Ftriage\.html%23status%3DBOOKED$"))
    await sign_in_with(page, nurse.email, PASSWORD)
    await page.wait_for_url(re.compile(r"/triage\.html#status=BOOKED$"))
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(re.compile(r"/index\.html"))
    for bad in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        await page.goto(f"/?next={quote(bad, safe='')}")
        await sign_in_with(page, nurse.email, PASSWORD)
        await page.wait_for_url(re.compile(r"/triage\.html$"))
        assert page.url.startswith(server.url), page.url
        await page.get_by_role("button", name="Sign out").click()
        await page.wait_for_url(re.compile(r"/index\.html"))
    used = await emailed_link_for_sign_in(page, conn, nurse.email)
    await page.goto(used)
    await expect(page.get_by_role("alert")).to_contain_text("already been used or has expired")
    assert not tab.errors, tab.errors


async def emailed_link_for_sign_in(page: Page, conn: asyncpg.Connection, email: str) -> str:
    """Ask for a sign-in link, use it once, sign out: the link as it would be followed a second time."""
    await page.goto("/email-link.html?for=sign-in")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_role("button", name="Send me a sign-in link").click()
    await expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    link, _ = await emailed_link(conn, email)
    await page.goto(link)
    await page.wait_for_url(re.compile(r"/triage\.html"))
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(re.compile(r"/index\.html"))
    return link


async def test_anonymous_pages_log_no_errors_and_unknown_pages_are_html(
    browser: Browser, server: Server, conn: asyncpg.Connection
) -> None:
    tab = await open_tab(browser, server, width=375)
    page, found = tab.page, list[str]()
    errors = console_errors(page)
    for path, heading in [
        ("/", "Sign in"),
        ("/index.html", "Sign in"),
        ("/email-link.html?for=reset", "Reset your password"),
        ("/set-password.html", "Open the link in your e-mail"),
        ("/acknowledge.html", "Open the link in your email"),
    ]:
        await page.goto(path)
        await expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        await page.wait_for_load_state("networkidle")
        if path.startswith("/set-password"):
            await accessible(tab, "set password without a link", found)
    assert not errors, errors
    await page.goto("/some/old/link")
    await expect(page.get_by_role("heading", name="Page not found", level=1)).to_be_visible()
    await accessible(tab, "not found", found)
    await page.get_by_role("link", name="Go to the start page").click()
    await expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    assert not found, "\n".join(found)


@WIDTHS
async def test_employee_sets_a_password_after_acknowledging(
    browser: Browser, server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection, width: int
) -> None:
    world = await make_world(conn)
    form = referral_form()
    form["employee"] = {**form["employee"], "email": "kit.newcomer@employer.example"}
    await make_referral(client, await login(client, world.users["manager"]), form=form)
    link, _ = await emailed_link(conn, "kit.newcomer@employer.example")
    tab = await open_tab(browser, server, width=width)
    page, found = tab.page, list[str]()
    await page.goto(link)
    await expect(page.get_by_role("heading", name="Your occupational health referral")).to_be_visible()
    await page.get_by_label("Yes, my manager discussed this with me").check()
    await page.get_by_role("button", name="Send my answer").click()
    offer = page.get_by_role("region", name="Set a password so you can sign in later")
    await expect(offer).to_be_visible()
    await accessible(tab, "password offer", found)
    await offer.get_by_role("link", name="Set a password").click()
    await expect(page.get_by_role("heading", name="Set a password", level=1)).to_be_visible()
    await expect(page.get_by_text("kit.newcomer@employer.example")).to_be_visible()
    await accessible(tab, "set password from link", found)
    await choose_password(page)
    await expect(page.get_by_role("heading", name="Your password is saved")).to_be_visible()
    await page.goto("/acknowledge.html")
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(re.compile(r"/index\.html"))
    await sign_in_with(page, "kit.newcomer@employer.example", NEW_PASSWORD)
    await page.wait_for_url(re.compile(r"/me\.html"))  # an employee's home page
    await expect(page.get_by_role("heading", name="My occupational health", level=1)).to_be_visible()
    assert not found, "\n".join(found)


@WIDTHS
async def test_client_admin_invites_a_manager_and_manages_users(
    browser: Browser, server: Server, conn: asyncpg.Connection, width: int
) -> None:
    world = await make_world(conn)
    tab = await open_tab(browser, server, width=width)
    page, found = tab.page, list[str]()
    await sign_in_with_page(page, world.users["client_admin"].email)
    await page.get_by_role("navigation", name="Sections").get_by_role("link", name="Users").click()
    await expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()
    await expect(page.get_by_role("table")).to_contain_text(world.users["manager"].email)
    assert world.users["other_manager"].email not in await page.get_by_role("table").inner_text()
    await accessible(tab, "users", found)
    invite = page.get_by_role("region", name="Invite someone")
    await invite.get_by_role("button", name="Send invitation").click()
    await expect(invite.get_by_role("alert")).to_contain_text("Enter their full name")
    await accessible(tab, "invite with errors", found)
    await expect(invite.get_by_label("Role")).to_have_value("manager")
    assert "Clinician" not in await invite.get_by_label("Role").inner_text()
    await invite.get_by_label("Full name").fill("Morgan Fresh")
    await invite.get_by_label("Email address").fill("morgan.fresh@employer.example")
    await invite.get_by_label("Department (optional)").fill("Warehouse")
    await invite.get_by_role("button", name="Send invitation").click()
    await expect(page.locator("#notice")).to_contain_text("Invitation sent")
    await expect(page.get_by_role("status")).to_contain_text("Invitation sent")  # read out once
    row = page.get_by_role("row", name=re.compile("Morgan Fresh"))
    await expect(row).to_contain_text("Invited")
    await expect(row).to_contain_text("Warehouse")
    link, _ = await emailed_link(conn, "morgan.fresh@employer.example")
    assert "/set-password.html#token=" in link

    await page.get_by_role("searchbox", name="Name, e-mail or department").fill("logistics")
    await page.get_by_role("button", name="Search").click()
    row = page.get_by_role("row", name=re.compile(re.escape(world.users["manager"].email)))
    await expect(page.get_by_role("table")).not_to_contain_text("Morgan Fresh")
    await row.get_by_role("button", name=re.compile("^Change")).click()
    await expect(page.get_by_role("heading", name=re.compile("^Change "), level=2)).to_be_focused()
    await accessible(tab, "change user", found)
    await page.get_by_label("Department", exact=True).fill("Finance")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.locator("#notice")).to_contain_text("Saved the changes")
    assert await conn.fetchval(
        "SELECT department FROM app_user WHERE id = $1", world.users["manager"].id
    ) == "Finance"  # fmt: skip
    await page.get_by_role("searchbox", name="Name, e-mail or department").fill("")
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("row", name=re.compile("Morgan Fresh")).get_by_role("button").click()
    await page.get_by_role("button", name="Deactivate Morgan Fresh").click()
    await expect(page.locator("#notice")).to_contain_text("is deactivated")
    await expect(page.get_by_role("table")).not_to_contain_text("Morgan Fresh")
    assert await conn.fetchval(
        "SELECT disabled_at IS NOT NULL FROM app_user WHERE email = 'morgan.fresh@employer.example'"
    )
    assert not found, "\n".join(found)


async def sign_in_with_page(page: Page, email: str) -> None:
    await page.goto("/index.html")
    await sign_in_with(page, email, PASSWORD)
    await page.wait_for_url(re.compile(r"/(referrals|triage|acknowledge)\.html"))
