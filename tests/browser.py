"""Headless Chromium for the browser tests, found wherever it is installed.

Where from, in order: ``OHCONNECT_CHROMIUM`` (a path to the executable); ``chromium``,
``chromium-browser``, ``google-chrome`` or ``google-chrome-stable`` on ``PATH`` (Debian's and
most distributions' packages, Chrome on macOS via a PATH link); Playwright's own Chromium, when
it was installed with ``python -m playwright install chromium``. With none, a browser test fails
naming that one command.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, Playwright, async_playwright

ENV = "OHCONNECT_CHROMIUM"
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL = "python -m playwright install chromium"
ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-device-for-media-stream",
)


class ChromiumMissing(Exception):
    pass


def system_chromium() -> str | None:
    """OHCONNECT_CHROMIUM, else the first browser on PATH; None when neither is there."""
    configured = os.environ.get(ENV)
    if configured:
        path = Path(configured).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ChromiumMissing(f"{ENV}={configured} is not an executable file")
        return str(path)
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def find_chromium(playwright: Playwright) -> str | None:
    """The executable to launch; None means Playwright's own (installed) Chromium."""
    found = system_chromium()
    if found is not None:
        return found
    if Path(playwright.chromium.executable_path).exists():
        return None
    raise ChromiumMissing(
        f"no Chromium found ({ENV} unset; none of {', '.join(NAMES)} on PATH; Playwright's own "
        f"browser not installed). Install it with: {INSTALL}"
    )


@asynccontextmanager
async def chromium(
    *, prompt_free: bool = True, extra: Sequence[str] = (), env: dict[str, str | float | bool] | None = None
) -> AsyncIterator[Browser]:
    """A fresh browser with fake camera and microphone; ``prompt_free`` grants media without asking.

    ``env`` replaces the browser's environment (e.g. a ``HOME`` whose NSS store trusts a test CA)."""
    args = [*ARGS, *extra, *(["--use-fake-ui-for-media-stream"] if prompt_free else [])]
    async with async_playwright() as playwright:
        try:
            executable = find_chromium(playwright)
        except ChromiumMissing as missing:
            pytest.fail(str(missing), pytrace=False)
        browser = await playwright.chromium.launch(executable_path=executable, args=args, env=env)
        try:
            yield browser
        finally:
            await browser.close()
