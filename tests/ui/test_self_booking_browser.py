"""The employee picks an offered time on "My occupational health" in headless Chromium, on a desktop
and a phone: radio buttons grouped by day in UK time, a taken time and a too-late change explained
in plain words, a confirmation with how to join and the calendar file, and moving it to another
offered time while the notice rule allows."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
import pytest
from icalendar import Calendar
from playwright.async_api import Browser, expect

from tests.booking.helpers import book_referral, plan_clinic
from tests.browser import chromium
from tests.clinics.helpers import triaged_referral
from tests.conftest import Server
from tests.factories import login, make_world
from tests.ui.test_accessibility import violations
from tests.ui.test_referral_browser import open_tab, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])
async def test_the_employee_picks_an_offered_time_and_moves_it(
    browser: Browser, server: Server, client: httpx.AsyncClient, conn, width: int
) -> None:
    world = await make_world(conn)
    nurse = await login(client, world.users["clinician"])
    referral = await triaged_referral(client, world, nurse)
    clinic = await plan_clinic(client, nurse, start_in=timedelta(days=3))
    slots = clinic["slots"]
    admin = await login(client, world.users["provider_admin"])
    offer = await client.post(
        "/api/v1/booking/offers",
        json={"referral_id": referral["id"], "session_id": clinic["id"]},
        headers=admin,
    )
    assert offer.status_code == 201, offer.text

    tab = await open_tab(browser, server, width=width)
    page = tab.page
    await sign_in(page, world.users["employee"].email)
    await page.wait_for_url(re.compile(r"/me\.html"))
    appointments = page.get_by_role("region", name="Your appointments")
    chooser = appointments.get_by_role("form", name="Choose a time for your appointment by video")
    await expect(chooser).to_be_visible()
    uk = datetime.fromisoformat(slots[0]["starts_at"]).astimezone(ZoneInfo("Europe/London"))
    await expect(chooser.get_by_role("group")).to_have_count(1)
    day = chooser.get_by_role("group", name=f"{uk:%A}, {uk.day} {uk:%B %Y}")
    await expect(day.get_by_role("radio", name=f"{uk:%H:%M} to ", exact=False).first).to_be_visible()
    radios = chooser.get_by_role("radio")
    await expect(radios).to_have_count(4)
    assert await violations(page) == []
    assert await page.evaluate("document.documentElement.scrollWidth") <= width

    # Choosing nothing says so; a time someone else took meanwhile is explained in plain words.
    await chooser.get_by_role("button", name="Book this time").click()
    await expect(chooser.get_by_role("alert")).to_contain_text("Choose a time first.")
    someone = await triaged_referral(client, world, nurse, email="sam.example@employer.example")
    assert (await book_referral(client, nurse, someone["id"], slots[0]["id"])).status_code == 201
    await radios.nth(0).focus()  # by keyboard
    await page.keyboard.press("Space")
    await expect(radios.nth(0)).to_be_checked()
    await chooser.get_by_role("button", name="Book this time").click()
    await expect(chooser.get_by_role("alert")).to_contain_text("Someone else has just taken that time")
    await expect(chooser.get_by_role("alert").locator("p")).to_be_focused()
    assert await violations(page) == []

    await radios.nth(1).check()
    await chooser.get_by_role("button", name="Book this time").click()
    booked = appointments.get_by_role("region", name="Your appointment is booked")
    await expect(booked).to_be_visible()
    await expect(booked.get_by_role("heading")).to_be_focused()
    await expect(booked).to_contain_text(re.compile(r"\d{2}:\d{2} (GMT|BST)"))
    await expect(booked.get_by_role("link", name=re.compile("^Join the video appointment"))).to_be_visible()
    calendar = booked.get_by_role("link", name=re.compile("^Add to my calendar"))
    ics = await page.request.get(await calendar.get_attribute("href") or "")
    assert ics.ok
    event = Calendar.from_ical(await ics.text()).walk("VEVENT")[0]
    assert str(event["DTSTART"].params["TZID"]) == "Europe/London"
    assert await conn.fetchval("SELECT status FROM referral WHERE id::text = $1", referral["id"]) == "BOOKED"
    await expect(page.get_by_role("status")).to_contain_text("Your appointment is booked")
    assert await violations(page) == []

    # Moving it to another offered time, until the notice limit (stated on the page).
    card = appointments.get_by_role("listitem").filter(has_text="Booked")
    await expect(card).to_contain_text("You can change the time here until")
    await card.locator("summary", has_text="Change the time").click()
    move = card.get_by_role("form", name=re.compile("^Choose a new time"))
    await expect(move.get_by_role("radio")).to_have_count(2)  # the two other free times
    await move.get_by_role("radio").nth(1).check()
    await move.get_by_role("button", name="Move my appointment").click()
    moved = appointments.get_by_role("region", name="Your appointment has moved")
    await expect(moved).to_be_visible()
    starts = await conn.fetchval(
        "SELECT s.starts_at FROM appointment a JOIN clinic_slot s ON s.id = a.slot_id"
        " WHERE a.referral_id::text = $1 AND a.status = 'booked'",
        referral["id"],
    )
    assert starts.isoformat().startswith(slots[3]["starts_at"][:16])

    # Too late to change: the page says so in plain words.
    card = appointments.get_by_role("listitem").filter(has_text="Booked")
    await card.locator("summary", has_text="Change the time").click()
    move = card.get_by_role("form", name=re.compile("^Choose a new time"))
    await move.get_by_role("radio").first.check()
    await conn.execute(
        "UPDATE clinic_slot SET starts_at = now() + interval '2 hours',"
        " ends_at = now() + interval '150 minutes' WHERE id = $1",
        UUID(slots[3]["id"]),
    )
    await move.get_by_role("button", name="Move my appointment").click()
    await expect(move.get_by_role("alert")).to_contain_text("It is too late to change this appointment here")
    await page.reload()
    card = (
        page.get_by_role("region", name="Your appointments").get_by_role("listitem").filter(has_text="Booked")
    )
    await expect(card).to_contain_text("It is too late to change the time here")
    assert await violations(page) == []
    assert tab.errors == []
    await tab.context.close()


async def test_the_employee_cancels_and_chooses_another_time(
    browser: Browser, server: Server, client: httpx.AsyncClient, conn
) -> None:
    world = await make_world(conn)
    nurse = await login(client, world.users["clinician"])
    referral = await triaged_referral(client, world, nurse)
    clinic = await plan_clinic(client, nurse, start_in=timedelta(days=3))
    offer = await client.post(
        "/api/v1/booking/offers",
        json={"referral_id": referral["id"], "session_id": clinic["id"]},
        headers=nurse,
    )
    assert offer.status_code == 201, offer.text
    employee = await login(client, world.users["employee"])
    chosen = await client.post(
        f"/api/v1/booking/offers/{offer.json()['id']}/book",
        json={"slot_id": clinic["slots"][0]["id"]},
        headers=employee,
    )
    assert chosen.status_code == 201, chosen.text

    tab = await open_tab(browser, server, width=1280)
    page = tab.page
    await sign_in(page, world.users["employee"].email)
    await page.wait_for_url(re.compile(r"/me\.html"))
    appointments = page.get_by_role("region", name="Your appointments")
    card = appointments.get_by_role("listitem").filter(has_text="Booked")
    await card.locator("summary", has_text="Cancel this appointment").click()
    await expect(card).to_contain_text("You can then choose another of the times offered to you")
    assert await violations(page) == []
    await card.get_by_role("button", name="Yes, cancel my appointment").click()
    done = appointments.get_by_role("region", name="Your appointment is cancelled")
    await expect(done).to_be_visible()
    await expect(done.get_by_role("heading")).to_be_focused()
    await expect(done).to_contain_text("You can choose another of the times offered to you below.")
    assert await conn.fetchval("SELECT status FROM referral WHERE id::text = $1", referral["id"]) == (
        "AWAITING_BOOKING"
    )
    chooser = appointments.get_by_role("form", name="Choose a time for your appointment by video")
    await expect(chooser.get_by_role("radio")).to_have_count(4)  # the cancelled time is free again
    await expect(appointments.get_by_role("listitem").filter(has_text="Cancelled")).to_have_count(1)
    await chooser.get_by_role("radio").nth(2).check()
    await chooser.get_by_role("button", name="Book this time").click()
    await expect(appointments.get_by_role("region", name="Your appointment is booked")).to_be_visible()
    assert await conn.fetchval("SELECT status FROM referral WHERE id::text = $1", referral["id"]) == "BOOKED"
    assert await violations(page) == []
    assert tab.errors == []
    await tab.context.close()
