"""Caddy, started for real with its internal CA, terminates TLS on loopback in front of two app
processes; headless Chromium, trusting that CA through its NSS store (no certificate errors are
ignored), signs in over HTTPS and the clinic page's WebSocket (wss://) works through the proxy.
Caddy's admin API shows both processes as its upstreams, neither failing, and the open WebSocket
as a request in flight on one of them. Then a video call goes through the proxy: the employee's
socket is on the other process than the nurse's (read from each process's /metrics; Caddy
balances round robin, so a socket that lands on the nurse's process is simply reopened), and both
pages decode video."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, WebSocket, expect

from tests.browser import chromium
from tests.clinics.helpers import make_clinic, outbox_links
from tests.clinics.test_clinic_browser import CALL_ARGS, employee_arrives
from tests.conftest import Server, free_port
from tests.factories import PASSWORD
from tests.processes import app_process

pytestmark = pytest.mark.browser
TIMEOUT_MS = 20_000
EMPLOYEE = "alex.example@employer.example"
SIDES = ("clinician", "employee")


def caddyfile(*, port: int, http_port: int, admin: int, upstreams: list[str]) -> str:
    return f"""{{
	admin 127.0.0.1:{admin}
	http_port {http_port}
	auto_https disable_redirects
	skip_install_trust
}}

https://127.0.0.1:{port} {{
	tls internal
	reverse_proxy {" ".join(upstreams)} {{
		lb_policy round_robin
		health_uri /readyz
		health_interval 2s
	}}
}}
"""


@asynccontextmanager
async def caddy(tmp_path: Path, upstreams: list[str]) -> AsyncIterator[tuple[str, str]]:
    """Caddy on a free loopback port; yields its https URL and its admin URL."""
    port, admin = free_port(), free_port()
    config = tmp_path / "Caddyfile"
    config.write_text(caddyfile(port=port, http_port=free_port(), admin=admin, upstreams=upstreams))
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path)}
    process = await asyncio.create_subprocess_exec(
        shutil.which("caddy") or "/usr/bin/caddy", "run", "--config", str(config), "--adapter", "caddyfile",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    url = f"https://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(verify=False) as http:  # noqa: S501  (Caddy's own internal CA)
            for _ in range(300):
                assert process.returncode is None, "caddy exited"
                try:
                    if (await http.get(f"{url}/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("caddy did not start proxying")
        yield url, f"http://127.0.0.1:{admin}"
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 15)


def trusting_home(tmp_path: Path) -> dict[str, str | float | bool]:
    """A HOME whose NSS store (read by Chromium on Linux) trusts Caddy's local root CA, and only that."""
    root = tmp_path / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
    home = tmp_path / "browser-home"
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    certutil = shutil.which("certutil")
    if certutil is None:
        pytest.fail("certutil is needed to make Chromium trust Caddy's CA: apt-get install libnss3-tools")
    subprocess.run([certutil, "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True)  # noqa: S603
    subprocess.run(  # noqa: S603
        [certutil, "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "caddy-local", "-i", str(root)], check=True
    )
    return {"HOME": str(home), "PATH": "/usr/bin:/bin"}


async def test_sign_in_waiting_room_and_a_call_through_caddy_tls(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection, db_dsn: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    clinic = await make_clinic(client, conn)
    async with app_process(db_dsn) as (second_url, _):
        processes = {"in-test": server.url, "subprocess": second_url}
        upstreams = [u.removeprefix("http://") for u in processes.values()]
        async with (
            caddy(tmp_path, upstreams) as (url, admin),
            chromium(extra=CALL_ARGS, env=trusting_home(tmp_path)) as browser,
        ):
            nurse_email = clinic.world.users["clinician"].email
            nurse_ctx, nurse = await sign_in_and_watch_the_waiting_room(browser, url, admin, nurse_email)
            token = (await outbox_links(conn, EMPLOYEE))[0]
            employee_ctx = await browser.new_context(base_url=url, viewport={"width": 375, "height": 900})
            employee_ctx.set_default_timeout(TIMEOUT_MS)
            employee = await employee_ctx.new_page()
            await employee_arrives(employee, f"{url}/join.html#token={token}")
            verdict = employee.get_by_role("region", name="Connection check")
            # passed: good, or fair when this shared machine's CPU holds the sender's bitrate back
            passed = re.compile(r"Your connection is good for a video call\.|Your connection should work")
            await expect(verdict).to_contain_text(passed, timeout=TIMEOUT_MS)
            served = await sides_on_two_processes(employee, processes)
            await call_through_the_proxy(nurse, employee, served)
            during = await sockets_by_process(processes)
            assert all(during[served[side]].get(side) == 1 for side in SIDES), f"sockets moved: {during}"
            for context in (nurse_ctx, employee_ctx):
                await context.close()
    print(f"TLS call test took {time.monotonic() - started:.1f} s")


async def sockets_by_process(processes: dict[str, str]) -> dict[str, dict[str, int]]:
    """Each process's waiting-room sockets by kind, read from its own /metrics (loopback, not via Caddy)."""
    found: dict[str, dict[str, int]] = {}
    async with httpx.AsyncClient() as http:
        for name, base in processes.items():
            text = (await http.get(f"{base}/metrics")).text
            found[name] = {
                kind: int(float(m.group(1)))
                for kind in SIDES
                for m in [re.search(rf'^ohconnect_waiting_room_sockets{{kind="{kind}"}} (\S+)$', text, re.M)]
                if m
            }
    return found


async def sides_on_two_processes(employee: Page, processes: dict[str, str]) -> dict[str, str]:
    """Which process holds each side's socket; the employee's page reopens until it is the other one."""
    for attempt in range(6):
        seen: dict[str, dict[str, int]] = {}
        for _ in range(50):
            seen = await sockets_by_process(processes)
            if all(sum(kinds.get(side, 0) for kinds in seen.values()) == 1 for side in SIDES):
                break
            await asyncio.sleep(0.1)
        served = {side: name for side in SIDES for name, kinds in seen.items() if kinds.get(side)}
        assert set(served) == set(SIDES), f"one socket per side expected: {seen}"
        print(f"\nattempt {attempt + 1}: nurse on {served['clinician']}, employee on {served['employee']}")
        if served["clinician"] != served["employee"]:
            return served
        await employee.reload()  # a new socket: Caddy's round robin picks again
        await expect(employee.get_by_role("heading", name="You are in the waiting room")).to_be_visible(
            timeout=TIMEOUT_MS
        )
    raise AssertionError("the employee's socket never landed on the other process")


async def call_through_the_proxy(nurse: Page, employee: Page, served: dict[str, str]) -> None:
    row = nurse.get_by_role("row", name=re.compile("Alex Example"))
    await expect(row).to_contain_text(re.compile(r"Waiting \d+ min"), timeout=TIMEOUT_MS)
    await row.get_by_role("button", name="Admit Alex Example").click()
    decoded: dict[str, int] = {}
    for side, page in (("clinician", nurse), ("employee", employee)):
        quality = page.locator("#call-quality")
        await expect(quality).to_have_attribute(
            "data-frames-decoded", re.compile(r"^[1-9]"), timeout=TIMEOUT_MS
        )
        decoded[side] = int(await quality.get_attribute("data-frames-decoded") or 0)
    await expect(nurse.get_by_role("heading", name="Call with Alex Example")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    await expect(row).to_contain_text("In call", timeout=TIMEOUT_MS)
    assert all(page.url.startswith("https://127.0.0.1:") for page in (nurse, employee))
    print(
        f"call through Caddy TLS: nurse on {served['clinician']} decoded {decoded['clinician']} frames, "
        f"employee on {served['employee']} decoded {decoded['employee']} frames"
    )


async def sign_in_and_watch_the_waiting_room(
    browser: Browser, url: str, admin: str, email: str
) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(base_url=url)
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    sockets: list[WebSocket] = []
    frames: list[str] = []

    def opened(ws: WebSocket) -> None:
        sockets.append(ws)
        ws.on("framereceived", lambda payload: frames.append(str(payload)))

    page.on("websocket", opened)
    await page.goto("/clinic.html")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Your clinics today")).to_be_visible()
    await page.get_by_role("link", name=re.compile("^Clinic ")).click()
    await page.get_by_role("button", name="Start clinic").click()
    await expect(page.get_by_role("row", name=re.compile("Alex Example"))).to_contain_text("Not arrived")
    for _ in range(100):
        if frames:
            break
        await asyncio.sleep(0.1)
    assert page.url.startswith("https://127.0.0.1:")
    assert [ws.url for ws in sockets][:1] == [f"{url.replace('https', 'wss')}/ws/clinic"]
    assert frames, "the server's messages arrive over the proxied WebSocket"
    assert not any(ws.is_closed() for ws in sockets[-1:]), "the socket stays open"

    async with httpx.AsyncClient() as http:
        upstreams = (await http.get(f"{admin}/reverse_proxy/upstreams")).json()
    served = {u["address"]: u for u in upstreams}
    print(f"\nCaddy TLS proxy: {len(frames)} WebSocket messages; upstreams {upstreams}")
    assert len(served) == 2
    assert all(u["fails"] == 0 for u in upstreams)
    assert sum(u["num_requests"] for u in upstreams) >= 1, "the WebSocket is held open through Caddy"
    return context, page
