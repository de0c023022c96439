"""The video clinic pages in headless Chromium (fake camera and microphone, loopback ICE).

The employee opens the e-mailed link, proves who they are, consents, passes the automatic pre-call
check against the server's aiortc peer and waits; the nurse sees the arrival (alert, sound, wait)
and admits; both pages decode video; the employee's page reloads and is back in the call. A
second test joins by sound only with microphone permission alone: the camera is never asked for.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, WebSocketRoute, expect

from tests.browser import chromium
from tests.clinics.helpers import make_clinic, outbox_links
from tests.conftest import Server
from tests.factories import PASSWORD, login
from tests.readings.helpers import post as post_batch
from tests.readings.helpers import simulated, start_stream

pytestmark = pytest.mark.browser

CALL_ARGS = ("--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required")
TIMEOUT_MS = 20_000
EMPLOYEE = "alex.example@employer.example"
# Test-side instruments: what the page asked getUserMedia for, and how often a sound was made.
INSTRUMENT = """
window.__media = [];
const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = (constraints) => {
  window.__media.push(JSON.parse(JSON.stringify(constraints)));
  return original(constraints);
};
window.__sounds = 0;
const make = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.__sounds += 1; return make.call(this); };
"""


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium(extra=CALL_ARGS) as launched:
        yield launched


@pytest.fixture
async def strict_browser() -> AsyncIterator[Browser]:
    """Media permission is not granted automatically: only what a context grants is allowed."""
    async with chromium(prompt_free=False, extra=CALL_ARGS) as launched:
        yield launched


async def tab(
    browser: Browser, server: Server, *, width: int = 1280, permissions: list[str] | None = None
) -> tuple[BrowserContext, Page, list[str]]:
    context = await browser.new_context(base_url=server.url, viewport={"width": width, "height": 900})
    if permissions is not None:
        await context.grant_permissions(permissions, origin=server.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await page.add_init_script(INSTRUMENT)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page, errors


async def employee_arrives(page: Page, link: str, *, sound_only: bool = False) -> None:
    await page.goto(link)
    await expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible(timeout=TIMEOUT_MS)
    assert "token" not in page.url
    dob = page.get_by_role("group", name="Date of birth")
    await dob.get_by_label("Day").fill("12")
    await dob.get_by_label("Month").fill("4")
    await dob.get_by_label("Year").fill("1985")
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", name="Your video assessment")).to_be_focused(timeout=TIMEOUT_MS)
    await page.get_by_label("I agree to have my occupational health assessment by video").check()
    choice = "Continue without camera (sound only)" if sound_only else "Continue with video"
    await page.get_by_role("button", name=choice).click()
    await expect(page.get_by_role("heading", name="You are in the waiting room")).to_be_visible(
        timeout=TIMEOUT_MS
    )


async def frames_over(page: Page, count: int) -> None:
    """Wait until the page's call has decoded more than `count` frames (read without script: CSP)."""
    quality = page.locator("#call-quality")
    for _ in range(TIMEOUT_MS // 250):
        if int(await quality.get_attribute("data-frames-decoded") or 0) > count:
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"no more than {count} frames decoded")


def link_for(token: str, server: Server) -> str:
    return f"{server.url}/join.html#token={token}"


async def test_employee_checks_waits_and_is_admitted_then_reloads_into_the_call(
    browser: Browser, server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    clinic = await make_clinic(client, conn)
    nurse_ctx, nurse, nurse_errors = await tab(browser, server)
    await nurse.goto("/clinic.html")
    await expect(nurse.get_by_role("heading", name="Sign in")).to_be_visible(timeout=TIMEOUT_MS)
    await nurse.get_by_label("Email address").fill(clinic.world.users["clinician"].email)
    await nurse.get_by_label("Password", exact=True).fill(PASSWORD)
    await nurse.get_by_role("button", name="Sign in").click()
    await expect(nurse.get_by_role("heading", name="Your clinics today")).to_be_visible(timeout=TIMEOUT_MS)
    await nurse.get_by_role("link", name=re.compile("^Clinic ")).click()
    await nurse.get_by_role("button", name="Start clinic").click()
    row = nurse.get_by_role("row", name=re.compile("Alex Example"))
    await expect(row).to_contain_text("Not arrived", timeout=TIMEOUT_MS)

    token = (await outbox_links(conn, EMPLOYEE))[0]
    employee_ctx, employee, employee_errors = await tab(browser, server, width=375)
    sockets: list[tuple[WebSocketRoute, WebSocketRoute]] = []  # the employee's, passed through to the server

    def through(route: WebSocketRoute) -> None:
        sockets.append((route, route.connect_to_server()))

    await employee.route_web_socket(re.compile(r"/ws/clinic$"), through)
    await employee_arrives(employee, link_for(token, server))
    verdict = employee.get_by_role("region", name="Connection check")
    # passed: good, or fair when this shared machine's CPU holds the sender's bitrate back
    passed = re.compile(r"Your connection is good for a video call\.|Your connection should work")
    await expect(verdict).to_contain_text(passed, timeout=TIMEOUT_MS)
    await expect(employee.locator("#queue")).to_contain_text("You are next.", timeout=TIMEOUT_MS)

    alert = nurse.get_by_role("alert").filter(has_text="Alex Example is waiting")
    await expect(alert).to_be_visible(timeout=TIMEOUT_MS)
    await expect(row).to_contain_text(re.compile(r"Waiting \d+ min"), timeout=TIMEOUT_MS)
    await expect(row).to_contain_text(re.compile(r"Good|Fair"), timeout=TIMEOUT_MS)
    assert await nurse.evaluate("window.__sounds") >= 1
    assert (await nurse.title()).startswith("(1 waiting)")

    await row.get_by_role("button", name="Admit Alex Example").click()
    for page in (nurse, employee):
        await expect(page.locator("#call-quality")).to_have_attribute(
            "data-frames-decoded", re.compile(r"^[1-9]"), timeout=TIMEOUT_MS
        )
    await expect(nurse.get_by_role("heading", name="Call with Alex Example")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    await expect(nurse.get_by_role("heading", name="Referral", exact=True)).to_be_visible(timeout=TIMEOUT_MS)

    # The employee starts measuring their pulse: the nurse sees it live beside the call.
    pulse = nurse.get_by_role("region", name="Pulse measurement")
    await expect(pulse).to_contain_text("No measurement in progress", timeout=TIMEOUT_MS)
    stream_id, device = await start_stream(client, await login(client, clinic.world.users["employee"]))
    for batch in simulated("ble-hr", stream_id, seconds=3):
        assert (await post_batch(client, device, batch)).status_code == 201
    await pulse.get_by_role("button", name="Look again").click()
    await expect(pulse.get_by_text(re.compile(r"^Live:"))).to_be_visible(timeout=TIMEOUT_MS)

    # the network drops: the page reconnects by itself and resumes the same call (same peer connection)
    decoded = int(await employee.locator("#call-quality").get_attribute("data-frames-decoded") or 0)
    page_side, server_side = sockets[-1]
    await server_side.close(code=4000, reason="network lost")
    await page_side.close(code=4000, reason="network lost")
    for _ in range(100):
        resumed = await conn.fetchval("SELECT count(*) FROM call_event WHERE kind = 'reconnected'")
        if resumed:
            break
        await asyncio.sleep(0.1)
    assert len(sockets) == 2
    assert resumed == 1  # the same call generation: no new peer connection was needed
    await frames_over(employee, decoded + 20)
    await expect(row).to_contain_text("In call", timeout=TIMEOUT_MS)

    await employee.reload()
    await expect(employee.locator("#call-quality")).to_have_attribute(
        "data-frames-decoded", re.compile(r"^[1-9]"), timeout=TIMEOUT_MS
    )
    await expect(nurse.locator(".video-tile video")).to_have_count(1, timeout=TIMEOUT_MS)

    await nurse.get_by_role("button", name="End consultation").click()
    await expect(nurse.get_by_text("End the consultation? The call ends for everyone in it.")).to_be_focused()
    # consent to assessment not recorded yet: the referral stays booked, and the page says so
    await expect(nurse.get_by_text("Consent to assessment has not been recorded")).to_be_visible()
    await nurse.get_by_role("button", name="No, carry on").click()  # nothing ends until confirmed
    await expect(nurse.get_by_role("button", name="End consultation")).to_be_focused()
    await expect(row).to_contain_text("In call")
    await nurse.get_by_role("button", name="Employee consents: start assessment").click()
    await expect(nurse.get_by_text("Consent to assessment recorded at")).to_be_visible()
    await nurse.get_by_role("button", name="End consultation").click()
    choice = nurse.get_by_role("group", name="The employee's choice about the report")
    await expect(choice).to_be_visible()
    await choice.get_by_label("The employee sees the report first").check()
    await nurse.get_by_role("button", name="Yes, end the consultation").click()
    await expect(employee.get_by_role("heading", name="Your appointment has ended")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    referral = await conn.fetchrow(
        "SELECT status, decision FROM referral WHERE id = $1::uuid",
        clinic.appointments[0]["referral_id"],
    )
    assert referral is not None
    assert referral["status"] == "REPORT_DRAFTING"
    assert referral["decision"]["release_choice"] == "see_first"
    await expect(row).to_contain_text("Done", timeout=TIMEOUT_MS)
    assert nurse_errors == []
    assert employee_errors == []
    await nurse_ctx.close()
    await employee_ctx.close()
    stored = await conn.fetchval(
        "SELECT quality FROM appointment WHERE id = $1::uuid", clinic.appointments[0]["id"]
    )
    assert set(stored) >= {"employee", "clinician"}


async def test_sound_only_never_asks_for_the_camera(
    strict_browser: Browser, server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await make_clinic(client, conn)
    token = (await outbox_links(conn, EMPLOYEE))[0]
    context, page, errors = await tab(strict_browser, server, width=375, permissions=["microphone"])
    await employee_arrives(page, link_for(token, server), sound_only=True)
    verdict = page.get_by_role("region", name="Connection check")
    await expect(verdict).to_contain_text("Your connection is good for a call by sound.", timeout=TIMEOUT_MS)
    asked: list[dict[str, Any]] = await page.evaluate("window.__media")
    assert asked, "the microphone was never requested"
    assert all(request.get("video") in (False, None) for request in asked), asked
    # the camera is not permitted in this context at all, so any request for it would have failed
    camera = await page.evaluate("navigator.permissions.query({name: 'camera'}).then(r => r.state)")
    assert camera == "denied"
    assert errors == []
    await context.close()


async def test_a_used_link_explains_itself(
    browser: Browser, server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await make_clinic(client, conn)
    token = (await outbox_links(conn, EMPLOYEE))[0]
    context, page, errors = await tab(browser, server, width=375)
    await page.goto(link_for("x" * 43, server))
    await expect(
        page.get_by_role("heading", name="This link has already been used or has expired")
    ).to_be_visible(timeout=TIMEOUT_MS)
    await employee_arrives(page, link_for(token, server), sound_only=True)
    await page.goto(link_for(token, server))
    await expect(
        page.get_by_role("heading", name="This link has already been used or has expired")
    ).to_be_visible(timeout=TIMEOUT_MS)
    assert errors == []
    await context.close()
