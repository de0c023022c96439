"""Clinic tests run real aiortc peers on loopback only.

aioice leaves out loopback addresses when gathering, so on a machine with only ``lo`` (or to keep
test traffic off other interfaces) every peer in this process offers 127.0.0.1 alone. The
server under test runs in this process too (the ``server`` fixture), so its pre-call peers get
the same treatment.
"""

from __future__ import annotations

import aioice.ice
import pytest


@pytest.fixture(autouse=True)
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])
