"""Job tests: the app under test runs no jobs itself (OHCONNECT_INPROCESS_JOBS off), as in the
compose and Kubernetes stacks; ``ohconnect worker`` processes do."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import free_port
from tests.notify.smtp_server import SmtpServer


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"inprocess_jobs": False}


@pytest.fixture
def smtp(smtp_port: int) -> Iterator[SmtpServer]:
    server = SmtpServer(smtp_port)
    yield server
    server.stop()
