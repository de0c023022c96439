"""Headless Chromium: a clinician records and signs a check; the manager downloads the certificate
and sees the dashboard's charts."""

from __future__ import annotations

import io
import re

import httpx
import pytest
from playwright.async_api import Browser, expect
from pypdf import PdfReader

from tests.conftest import Server
from tests.factories import login, make_world
from tests.surveillance.helpers import enrol, make_programme
from tests.ui.test_accessibility import violations
from tests.ui.test_referral_browser import browser, open_tab, sign_in

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the fixture, shared with the referral browser tests

LEFT = {"1": "10", "2": "15", "3": "20", "4": "30", "6": "30"}
RIGHT = {"1": "10", "2": "15", "3": "25", "4": "30", "6": "30"}


async def test_clinician_signs_and_manager_downloads_certificate_and_sees_dashboard(
    browser: Browser, server: Server, conn, client: httpx.AsyncClient
) -> None:
    world = await make_world(conn)
    admin = await login(client, world.users["client_admin"])
    programme = await make_programme(client, admin, name="Workshop noise")
    await enrol(
        client,
        admin,
        programme["id"],
        email="alex.example@employer.example",
        full_name="Alex Example",
        date_of_birth="1986-01-15",
        department="Logistics",
    )

    tab = await open_tab(browser, server)
    page = tab.page
    await sign_in(page, world.users["clinician"].email)
    await expect(page.get_by_role("heading", name="Referral queue", level=1)).to_be_visible()
    await page.goto("/surveillance.html")
    await page.get_by_role("link", name="Workshop noise").click()
    await page.get_by_role("link", name="Record a check for Alex Example").click()
    await expect(page.get_by_role("heading", name="Record a check for Alex Example", level=1)).to_be_focused()
    await page.get_by_role("button", name="Save and see the proposal").click()
    summary = page.get_by_role("alert")
    await expect(summary).to_be_focused()
    await expect(summary.get_by_role("link").first).to_be_visible()  # missing hearing levels, linked
    for ear, levels in (("Left", LEFT), ("Right", RIGHT)):
        for khz, value in levels.items():
            await page.get_by_label(f"{ear} ear, {khz} kHz").fill(value)
    await page.get_by_label("Left ear, 1 kHz").fill("12.5")
    await page.get_by_role("button", name="Save and see the proposal").click()
    await expect(summary.get_by_role("link")).to_have_text(["Left ear, 1 kHz: enter a whole number of dB"])
    found = [f"record form with an error: {v}" for v in await violations(page)]
    await page.get_by_label("Left ear, 1 kHz").fill(LEFT["1"])
    await page.get_by_label("Tinnitus").check()
    await page.get_by_role("button", name="Save and see the proposal").click()
    await expect(page.get_by_role("heading", name="Proposed: Fit")).to_be_visible()
    await expect(page.get_by_text("HSE category 1 (acceptable hearing)")).to_be_visible()
    sign = page.get_by_role("form", name="Confirm and sign the outcome")
    # Only the fields the chosen outcome takes are on screen.
    await expect(sign.get_by_label("Review date")).to_be_hidden()
    await expect(sign.get_by_label("Reason for overriding the proposal")).to_be_hidden()
    await sign.get_by_label("Fit with restrictions").check()
    await expect(sign.get_by_label("Review date")).to_be_visible()
    await expect(sign.get_by_label("Reason for overriding the proposal")).to_be_visible()
    await expect(sign.get_by_label("Why it could not be completed")).to_be_hidden()
    found += [f"sign form, fit with restrictions: {v}" for v in await violations(page)]
    assert not found, "\n".join(found)
    await sign.get_by_label("Fit", exact=True).check()
    await sign.get_by_label("Your registration (e.g. NMC 12A3456E)").fill("NMC 12A3456E")
    await sign.get_by_role("button", name="Sign outcome").click()
    await expect(page.get_by_role("alert")).to_be_focused()  # consent not ticked yet
    await sign.get_by_label(re.compile("^The employee agreed their employer receives")).check()
    await sign.get_by_role("button", name="Sign outcome").click()
    await expect(page.get_by_role("heading", name="Saved")).to_be_focused()
    await expect(page.locator(".notice").get_by_text(re.compile("^Signed: Fit"))).to_be_visible()
    await expect(
        page.get_by_role("link", name="Download the certificate for Alex Example (PDF)")
    ).to_be_visible()
    assert tab.errors == []
    await tab.context.close()

    tab = await open_tab(browser, server, width=375)
    page = tab.page
    await sign_in(page, world.users["manager"].email)
    await expect(page.get_by_role("heading", name="Your referrals", level=1)).to_be_visible()
    await page.goto("/surveillance.html")
    row = page.get_by_role("row", name=re.compile("Alex Example"))
    await expect(row.get_by_role("cell", name="Fit", exact=True)).to_be_visible()
    async with page.expect_download() as info:
        await row.get_by_role("link", name="Download certificate for Alex Example").click()
    download = await info.value
    data = (await download.path()).read_bytes()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "Health surveillance certificate" in text
    assert "Alex Example" in text
    assert "dB" not in text

    await page.get_by_role("navigation", name="Sections").get_by_role("link", name="Dashboard").click()
    await expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    charts = page.get_by_role("img")
    await expect(charts).to_have_count(4)
    await expect(page.get_by_role("img", name="Surveillance coverage")).to_be_visible()
    coverage = page.get_by_role("region", name="Surveillance coverage: table")
    await expect(coverage.get_by_role("row", name=re.compile("Workshop noise"))).to_contain_text("*")
    assert tab.errors == []
    await tab.context.close()
