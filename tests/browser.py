"""Debian's Chromium, headless, for the browser tests (test tools may not download browsers here)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM = "/usr/bin/chromium"
INSTALLED = Path(CHROMIUM).exists()
ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-device-for-media-stream",
)


@asynccontextmanager
async def chromium(*, prompt_free: bool = True, extra: Sequence[str] = ()) -> AsyncIterator[Browser]:
    """A fresh browser with fake camera and microphone; ``prompt_free`` grants media without asking."""
    if not INSTALLED:
        pytest.fail("Chromium is not installed: apt-get install -y chromium")
    args = [*ARGS, *extra, *(["--use-fake-ui-for-media-stream"] if prompt_free else [])]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            yield browser
        finally:
            await browser.close()
