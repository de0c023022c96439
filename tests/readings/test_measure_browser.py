"""The phone page and the clinician's live panel in headless Chromium with a fake camera.

The employee agrees to collection, measures with a fingertip on the (fake) camera, loses the
network for a few seconds while still measuring, comes back, and stops: every second of readings
reaches the database exactly once, in order. A nurse watching the live panel sees them arrive.
"""

from __future__ import annotations

import asyncio
import math
import re
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from playwright.async_api import Browser, Page, expect

from sensors.ble import decode_heart_rate_measurement, decode_plx_continuous
from sensors.ble_encode import encode_heart_rate_measurement, encode_plx_continuous
from tests.browser import chromium
from tests.conftest import Server
from tests.factories import PASSWORD, make_world

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def sign_in(page: Page, email: str) -> None:
    await page.goto("/index.html")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r"/(me|triage)\.html"))


async def batches(conn: asyncpg.Connection, stream_id: uuid.UUID | None = None) -> list[int]:
    if stream_id is None:
        stream_id = await conn.fetchval("SELECT id FROM reading_stream ORDER BY created_at DESC LIMIT 1")
    rows = await conn.fetch("SELECT seq FROM reading_batch WHERE stream_id = $1 ORDER BY seq", stream_id)
    return [r["seq"] for r in rows]


async def test_measuring_offline_and_back_delivers_every_batch_once(
    browser: Browser, server: Server, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    phone = await browser.new_context(base_url=server.url, viewport={"width": 375, "height": 800})
    phone.set_default_timeout(TIMEOUT_MS)
    page = await phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await sign_in(page, world.users["employee"].email)
    await page.goto("/measure.html")

    await expect(page.get_by_role("heading", name="Measuring your pulse with your phone")).to_be_visible()
    await page.get_by_role("button", name="Agree and continue").click()
    await expect(page.get_by_role("alert")).to_contain_text("Tick the box to agree")
    await page.get_by_label("I agree to my pulse readings being collected").check()
    await page.get_by_role("button", name="Agree and continue").click()
    await page.get_by_label(re.compile("^Fingertip on the camera")).check()
    await page.get_by_role("button", name="Start measuring").click()
    await expect(page.get_by_role("heading", name="Measuring")).to_be_visible()
    stream_id = await conn.fetchval("SELECT id FROM reading_stream")
    assert await conn.fetchval("SELECT device_kind FROM reading_stream") == "camera"

    nurse_context = await browser.new_context(base_url=server.url)
    nurse_context.set_default_timeout(TIMEOUT_MS)
    nurse = await nurse_context.new_page()
    nurse.on("pageerror", lambda error: errors.append(str(error)))
    await sign_in(nurse, world.users["clinician"].email)
    await nurse.goto("/pulse.html")
    await nurse.get_by_role("link", name=world.users["employee"].full_name).click()
    await expect(nurse.get_by_role("heading", name=re.compile("^Pulse readings: "))).to_be_visible()
    # "Live: waiting for readings." until the first batch arrives, then "Live".
    await expect(nurse.get_by_text(re.compile(r"^Live(: waiting for readings\.)?$"))).to_be_visible()

    for _ in range(60):
        if len(await batches(conn, stream_id)) >= 3:
            break
        await asyncio.sleep(0.2)
    queue = page.locator("#queue")
    await expect(queue).to_have_text("All readings sent.")
    totals = nurse.get_by_text(re.compile(r"measured, \d+ readings\."))
    await expect(totals).to_be_visible()

    await phone.set_offline(True)
    # The visible notice (the page's live region repeats it for screen readers 50 ms later).
    measuring = page.get_by_role("region", name="Measuring")
    await expect(measuring.get_by_text(re.compile("^You are offline"))).to_be_visible()
    await expect(queue).to_have_text(re.compile(r"^[3-9]\d* seconds of readings waiting to send\.$"))
    waiting = int((await queue.inner_text()).split()[0])
    assert waiting >= 3
    stored_offline = len(await batches(conn, stream_id))

    await phone.set_offline(False)
    await expect(queue).to_have_text("All readings sent.")
    assert len(await batches(conn, stream_id)) >= stored_offline + waiting
    await asyncio.sleep(1.5)
    await page.get_by_role("button", name="Stop measuring").click()
    await expect(page.get_by_role("heading", name="Measurement finished")).to_be_focused()
    made = int(re.findall(r"\d+", await page.locator("#batches-made").inner_text())[0])
    await expect(queue).to_have_text("All readings sent.")

    seqs = await batches(conn, stream_id)
    assert seqs == list(range(made)), (seqs, made)  # every batch exactly once, none missing
    for _ in range(50):
        if await conn.fetchval("SELECT status FROM reading_stream WHERE id = $1", stream_id) == "closed":
            break
        await asyncio.sleep(0.1)
    assert await conn.fetchval("SELECT status FROM reading_stream WHERE id = $1", stream_id) == "closed"
    await expect(nurse.get_by_text("Measurement ended.")).to_be_visible()
    samples = await conn.fetchval(
        "SELECT sum(cardinality(ppg_samples)) FROM reading_batch WHERE stream_id = $1", stream_id
    )
    assert samples >= made * 20  # about 30 samples a second from the camera
    assert errors == []
    await nurse_context.close()
    await phone.close()


async def test_measure_page_needs_sign_in_and_consent_can_be_withdrawn(
    browser: Browser, server: Server, conn: asyncpg.Connection
) -> None:
    world = await make_world(conn)
    context = await browser.new_context(base_url=server.url, viewport={"width": 375, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await page.goto("/measure.html")
    await expect(page.get_by_role("link", name="Go to sign in")).to_be_visible()
    # The one sign-in redirect form: the sign-in page, asked to come back here.
    go = page.get_by_role("link", name="Go to sign in")
    assert await go.get_attribute("href") == "/?next=%2Fmeasure.html"
    await sign_in(page, world.users["employee"].email)
    await page.goto("/measure.html")
    await page.get_by_label("I agree to my pulse readings being collected").check()
    await page.get_by_role("button", name="Agree and continue").click()
    await page.get_by_role("button", name="Start measuring").click()
    await expect(page.get_by_role("alert")).to_contain_text("Choose how you will measure")
    await page.get_by_role("button", name="Withdraw my consent").click()
    await expect(page.get_by_text("You have withdrawn your consent.")).to_be_visible()
    await expect(page.get_by_role("button", name="Agree and continue")).to_be_visible()
    assert await conn.fetchval("SELECT count(*) FROM reading_consent WHERE withdrawn_at IS NOT NULL") == 1
    await context.close()


VECTORS = [
    ("2a37", encode_heart_rate_measurement(72)),
    (
        "2a37",
        encode_heart_rate_measurement(181, uint16=True, rr_intervals_s=(0.5, 0.75), sensor_contact=True),
    ),
    ("2a37", encode_heart_rate_measurement(0, sensor_contact=False, energy_expended_kj=12)),
    ("2a5f", encode_plx_continuous(97, 64.5)),
    ("2a5f", encode_plx_continuous(float("nan"), 71.0)),
    ("2a5f", bytes([0, 0xFE, 0x07, 0x02, 0x08])),  # SpO2 +infinity, pulse rate -infinity
]


def _python_view(characteristic: str, payload: bytes) -> dict[str, object]:
    """What the page should show, from sensors.ble (the server's decoder)."""
    if characteristic == "2a37":
        m = decode_heart_rate_measurement(payload)
        bpm = None if m.sensor_contact is False else m.heart_rate_bpm
        return {"bpm": bpm, "contact": m.sensor_contact, "rr": [round(r, 6) for r in m.rr_intervals_s]}
    p = decode_plx_continuous(payload)
    finite = [v if math.isfinite(v) else None for v in (p.spo2_pct, p.pulse_rate_bpm)]
    return {"spo2": finite[0], "bpm": finite[1]}


async def test_the_page_decodes_ble_payloads_as_the_server_does(browser: Browser, server: Server) -> None:
    """The phone page decodes notifications for display with its own JavaScript (Web Bluetooth
    cannot run headless); it must agree with sensors.ble, which the server uses."""
    context = await browser.new_context(base_url=server.url)
    page = await context.new_page()
    await page.goto("/index.html")
    script = """async ([characteristic, bytes]) => {
        const m = await import('/js/ble-sensor.js');
        const view = new DataView(new Uint8Array(bytes).buffer);
        const out = characteristic === '2a37' ? m.decodeHeartRate(view) : m.decodePlx(view);
        if (out.rr) out.rr = out.rr.map((r) => Math.round(r * 1e6) / 1e6);
        return out;
    }"""
    for characteristic, payload in VECTORS:
        shown = await page.evaluate(script, [characteristic, list(payload)])
        assert shown == _python_view(characteristic, payload), (characteristic, payload.hex())
    specials = await page.evaluate(
        "async () => { const m = await import('/js/ble-sensor.js');"
        " return [0x07ff, 0x0800, 0x07fe, 0x0802, 0xf2d0, 0x1005].map((r) => String(m.sfloat(r))); }"
    )
    assert specials == ["NaN", "NaN", "Infinity", "-Infinity", "72", "50"]
    await context.close()
