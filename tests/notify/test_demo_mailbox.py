"""`ohconnect demo` sends nothing out: its start-up text says where to begin and where the demo
mailbox is, and the mailbox still lists every message after a restart."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


async def run_demo(db_dsn: str, port: int) -> tuple[asyncio.subprocess.Process, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OHCONNECT_")}
    # Even with a mail server configured, the demo keeps every message in its mailbox.
    env |= {
        "DATABASE_URL": db_dsn,
        "OHCONNECT_MAIL_SENDER": "smtp",
        "OHCONNECT_SMTP_HOST": "127.0.0.1",
        "OHCONNECT_SMTP_PORT": str(free_port()),
        "OHCONNECT_SMTP_SECURITY": "none",
        "OHCONNECT_MAIL_FROM": "no-reply@demo-oh.example",
        "OHCONNECT_LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "backend.cli", "demo", "--port", str(port), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    text = ""
    while "Press Ctrl+C" not in text:
        line = await asyncio.wait_for(process.stdout.readline(), 90)
        assert line, f"demo ended early:\n{text}"
        text += line.decode()
    return process, text


async def mailbox(url: str) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        for _ in range(200):
            try:
                page = await http.get("/mailbox")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        assert page.status_code == 200
        assert "Demo mailbox" in page.text
        listed = await http.get("/api/v1/mailbox", params={"limit": 200})
        assert listed.status_code == 200
        body: dict[str, object] = listed.json()
        return body


async def settled_mailbox(url: str) -> dict[str, object]:
    """The mailbox once the start-up sweeps are done: reminders for the demo's appointments in the
    next 24 hours are queued just after the server starts, so wait until two reads agree."""
    last = await mailbox(url)
    for _ in range(20):
        await asyncio.sleep(1.5)
        now = await mailbox(url)
        if now["total"] == last["total"]:
            return now
        last = now
    raise AssertionError(f"the demo mailbox kept growing: {last['total']}")


async def stop(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGINT)
    await asyncio.wait_for(process.wait(), 30)


async def test_demo_says_where_to_begin_and_its_mailbox_survives_a_restart(db_dsn: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process, text = await run_demo(db_dsn, port)
    try:
        assert f"Where to begin: open {url}/index.html and sign in as ops.manager@" in text
        assert "nurse@demo-oh.example (the OH nurse)" in text
        assert "admin@demo-oh.example to see this week's clinic diary" in text
        assert "alex.example@fictional-freight.example (an employee) to pick an offered appointment" in text
        assert f"Demo mailbox: every e-mail and text message the platform sends is at {url}/mailbox" in text
        before = await settled_mailbox(url)
    finally:
        await stop(process)
    assert ids(before)

    process, _text = await run_demo(db_dsn, port)
    try:
        after = await settled_mailbox(url)
    finally:
        await stop(process)
    assert after["total"] == before["total"]
    assert ids(after) == ids(before)


def ids(page: dict[str, object]) -> list[str]:
    items = page["items"]
    assert isinstance(items, list)
    return [str(item["id"]) for item in items]
