"""Caddy, started for real with its internal CA, terminates TLS on loopback in front of two app
processes; headless Chromium signs in over HTTPS and the clinic page's WebSocket (wss://) works
through the proxy. Caddy's admin API shows both processes as its upstreams, neither failing, and
the open WebSocket as a request in flight on one of them."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, WebSocket, expect

from tests.browser import chromium
from tests.clinics.helpers import make_clinic
from tests.conftest import Server, free_port
from tests.factories import PASSWORD
from tests.processes import app_process

pytestmark = pytest.mark.browser
TIMEOUT_MS = 20_000


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


async def test_sign_in_and_clinic_websocket_through_caddy_tls(
    server: Server, client: httpx.AsyncClient, conn: asyncpg.Connection, db_dsn: str, tmp_path: Path
) -> None:
    clinic = await make_clinic(client, conn)
    async with app_process(db_dsn) as (second_url, _):
        upstreams = [server.url.removeprefix("http://"), second_url.removeprefix("http://")]
        async with caddy(tmp_path, upstreams) as (url, admin), chromium() as browser:
            nurse = clinic.world.users["clinician"].email
            await sign_in_and_watch_the_waiting_room(browser, url, admin, nurse)


async def sign_in_and_watch_the_waiting_room(browser: Browser, url: str, admin: str, email: str) -> None:
    context = await browser.new_context(base_url=url, ignore_https_errors=True)
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
    await context.close()
