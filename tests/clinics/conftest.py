"""Clinic tests run real aiortc peers on loopback only.

aioice leaves out loopback addresses when gathering, so on a machine with only ``lo`` (or to keep
test traffic off other interfaces) every peer in this process offers 127.0.0.1 alone. The
server under test runs in this process too (the ``server`` fixture), so its pre-call peers get
the same treatment.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aioice.ice
import pytest

from tests.conftest import Server
from tests.processes import app_process


@pytest.fixture(autouse=True)
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


@pytest.fixture
async def process_b(server: Server, db_dsn: str) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """A second app process on the same database (the `server` fixture has migrated it)."""
    async with app_process(db_dsn) as started:
        yield started
