"""axe-core (WCAG 2.2 A and AA rules) on every page, signed in as the people who use it, on a
desktop and on a 375 px phone, including the states people meet along the way: a form's error
summary, a referral's detail, the warning before a session ends."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from tests.browser import chromium
from tests.conftest import Server
from tests.factories import World, login, make_referral, make_world
from tests.ui.test_referral_browser import open_tab, sign_in

pytestmark = pytest.mark.browser

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
AXE = Axe()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def violations(page: Page) -> list[str]:
    results = await AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


Visit = Callable[[Page, World, str], Awaitable[None]]


async def signed_in(page: Page, email: str) -> None:
    """Sign in and wait for the home page the sign-in sends this person to."""
    await sign_in(page, email)
    await page.wait_for_url(re.compile(r"/(referrals|triage|acknowledge|me)\.html"))
    await expect(page.get_by_role("heading", level=1)).to_be_visible()


async def sign_in_page(page: Page, world: World, rid: str) -> None:
    await page.goto("/index.html")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


async def manager_referrals(page: Page, world: World, rid: str) -> None:
    await sign_in(page, world.users["manager"].email)
    await expect(page.get_by_role("heading", name="Your referrals", level=1)).to_be_visible()


async def new_referral_with_errors(page: Page, world: World, rid: str) -> None:
    await sign_in(page, world.users["manager"].email)
    await page.get_by_role("link", name="New referral").click()
    await expect(page.get_by_role("heading", name="New referral", level=1)).to_be_focused()
    await page.get_by_role("button", name="Next: Employee").click()
    await page.get_by_role("button", name="Next: Role and hazards").click()


async def triage_queue(page: Page, world: World, rid: str) -> None:
    await sign_in(page, world.users["clinician"].email)
    await expect(page.get_by_role("heading", name="Referral queue", level=1)).to_be_visible()


async def triage_referral(page: Page, world: World, rid: str) -> None:
    await triage_queue(page, world, rid)
    await page.goto(f"/triage.html#referral={rid}&status=AWAITING_TRIAGE")
    await expect(page.get_by_role("form", name="Triage")).to_be_visible()


async def report_editor(page: Page, world: World, rid: str) -> None:
    conn = page.context.ohc_conn  # type: ignore[attr-defined]
    await conn.execute("UPDATE referral SET status = 'REPORT_DRAFTING' WHERE id = $1::uuid", rid)
    await triage_queue(page, world, rid)
    await page.goto(f"/triage.html#referral={rid}&status=")
    report = page.get_by_role("form", name="2. The report")
    await report.get_by_role("button", name="Save report").click()  # no consent yet: the summary shows
    await expect(report.get_by_role("alert")).to_be_visible()
    await conn.execute("UPDATE referral SET status = 'AWAITING_TRIAGE' WHERE id = $1::uuid", rid)


async def session_warning(page: Page, world: World, rid: str) -> None:
    await triage_queue(page, world, rid)
    conn = page.context.ohc_conn  # type: ignore[attr-defined]
    await conn.execute(
        "UPDATE auth_session SET expires_at = now() + interval '90 seconds' WHERE user_id = $1",
        world.users["clinician"].id,
    )
    await page.reload()
    await expect(page.get_by_role("alertdialog", name="Your session is about to end")).to_be_visible()


async def surveillance(page: Page, world: World, rid: str) -> None:
    await signed_in(page, world.users["clinician"].email)
    await page.goto("/surveillance.html")
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await expect(page.get_by_text("Loading…")).to_have_count(0)


async def dashboard(page: Page, world: World, rid: str) -> None:
    await signed_in(page, world.users["client_admin"].email)
    await page.goto("/dashboard.html")
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await expect(page.get_by_text("Loading…")).to_have_count(0)


async def employee_acknowledge(page: Page, world: World, rid: str) -> None:
    await signed_in(page, world.users["employee"].email)
    await page.goto("/acknowledge.html")
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await expect(page.get_by_text("Loading…")).to_have_count(0)


async def employee_home(page: Page, world: World, rid: str) -> None:
    await signed_in(page, world.users["employee"].email)
    await expect(page.get_by_role("heading", name="My occupational health", level=1)).to_be_visible()
    await expect(page.get_by_role("heading", name="Who has seen my records")).to_be_visible()


async def employee_measure(page: Page, world: World, rid: str) -> None:
    await signed_in(page, world.users["employee"].email)
    await page.goto("/measure.html")
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await expect(page.get_by_text("Loading…")).to_have_count(0)


VISITS: dict[str, Visit] = {
    "sign-in": sign_in_page,
    "manager referrals": manager_referrals,
    "new referral with errors": new_referral_with_errors,
    "triage queue": triage_queue,
    "triage referral": triage_referral,
    "report editor": report_editor,
    "session warning": session_warning,
    "surveillance": surveillance,
    "dashboard": dashboard,
    "employee acknowledge": employee_acknowledge,
    "employee my occupational health": employee_home,
    "employee measure": employee_measure,
}


@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])
async def test_no_wcag_violations_on_any_page(
    browser: Browser, server: Server, client, conn, width: int
) -> None:
    world = await make_world(conn)
    manager = await login(client, world.users["manager"])
    rid = (await make_referral(client, manager))["id"]
    found: list[str] = []
    for name, visit in VISITS.items():
        tab = await open_tab(browser, server, width=width)
        tab.context.ohc_conn = conn  # type: ignore[attr-defined]
        await visit(tab.page, world, rid)
        found += [f"{name}: {problem}" for problem in await violations(tab.page)]
        found += [f"{name}: script error {error}" for error in tab.errors]
        await tab.context.close()
    assert not found, "\n".join(found)


async def test_the_check_finds_what_it_looks_for(browser: Browser, server: Server) -> None:
    """A picture without a text alternative and an unlabelled field are reported."""
    tab = await open_tab(browser, server)
    await tab.page.goto("/index.html")
    await expect(tab.page.get_by_role("heading", name="Sign in")).to_be_visible()
    await tab.page.evaluate(
        """() => {
            const main = document.querySelector('main');
            const img = document.createElement('img');
            img.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
            const input = document.createElement('input');
            input.type = 'text';
            main.append(img, input);
        }"""
    )
    found = await violations(tab.page)
    assert any(v.startswith("image-alt") for v in found), found
    assert any(v.startswith("label") for v in found), found
    await tab.context.close()
