"""The app delivers e-mail over SMTP to a real server the test starts (aiosmtpd on loopback)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import free_port
from tests.notify.smtp_server import SmtpServer

FROM = "Demo OH <no-reply@oh.example>"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def settings_overrides(smtp_port: int) -> dict[str, object]:
    return {
        "mail_sender": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_security": "none",
        "mail_from": FROM,
        "mail_poll_seconds": 0.1,
        "mail_retry_base_seconds": 0.2,
    }


@pytest.fixture
def smtp(smtp_port: int) -> Iterator[SmtpServer]:
    """Not listening until the test calls ``start()`` (so a test can have the server down first)."""
    server = SmtpServer(smtp_port)
    yield server
    server.stop()
