"""The browser tests find Chromium through OHCONNECT_CHROMIUM, PATH or Playwright's own browser,
and otherwise fail with the one command that installs it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from tests.browser import INSTALL, ChromiumMissing, chromium, find_chromium, system_chromium


@pytest.fixture
def real_chromium() -> str:
    """This machine's browser, found before the test hides it."""
    found = system_chromium()
    assert found is not None, f"this machine needs a Chromium for the browser tests: {INSTALL}"
    return os.path.realpath(found)


@pytest.fixture
def bare_path(real_chromium: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH with no browser on it, no OHCONNECT_CHROMIUM, and an empty Playwright browser folder."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.delenv("OHCONNECT_CHROMIUM", raising=False)
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "ms-playwright"))
    return folder


async def test_the_environment_variable_comes_first(
    monkeypatch: pytest.MonkeyPatch, bare_path: Path, real_chromium: str
) -> None:
    (bare_path / "chromium").symlink_to(real_chromium)
    monkeypatch.setenv("OHCONNECT_CHROMIUM", real_chromium)
    assert system_chromium() == real_chromium
    monkeypatch.setenv("OHCONNECT_CHROMIUM", str(bare_path / "nothing-here"))
    with pytest.raises(ChromiumMissing, match=r"OHCONNECT_CHROMIUM=.*is not an executable"):
        system_chromium()


async def test_a_browser_on_path_is_found_under_each_usual_name(bare_path: Path, real_chromium: str) -> None:
    assert system_chromium() is None
    for name in ("google-chrome", "chromium-browser", "chromium"):
        (bare_path / name).symlink_to(real_chromium)
        assert system_chromium() == str(bare_path / name)


async def test_with_none_the_failure_names_the_install_command(bare_path: Path) -> None:
    async with async_playwright() as playwright:
        with pytest.raises(ChromiumMissing) as missing:
            find_chromium(playwright)
    print(missing.value)
    assert str(missing.value).endswith("Install it with: python -m playwright install chromium")


async def test_a_found_browser_really_starts(bare_path: Path, real_chromium: str) -> None:
    (bare_path / "chromium-browser").symlink_to(real_chromium)
    async with chromium() as browser:
        page = await browser.new_page()
        await page.set_content("<p id=x>found</p>")
        assert await page.text_content("#x") == "found"
