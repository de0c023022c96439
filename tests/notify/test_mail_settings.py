"""Delivery settings that cannot work are refused at start-up, naming the setting to change."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from backend.core.config import Settings
from backend.main import create_app
from tests.core.test_production_guard import SAFE_PRODUCTION

ROOT = Path(__file__).resolve().parents[2]
SMTP = {"mail_sender": "smtp", "smtp_host": "smtp.example.org", "mail_from": "OH <no-reply@oh.example>"}


def refusal(**values: object) -> str:
    with pytest.raises(ValidationError) as raised:
        Settings(**values)  # type: ignore[arg-type]
    return str(raised.value)


def test_production_refuses_the_log_sender_naming_the_setting() -> None:
    assert "OHCONNECT_MAIL_SENDER=log" in refusal(environment="production", mail_sender="log")
    assert "OHCONNECT_MAIL_SENDER=log" in refusal(environment="production")  # the default
    assert Settings(environment="development").mail_sender == "log"
    assert Settings(environment="test", mail_sender="log").mail_sender == "log"
    assert Settings(**SAFE_PRODUCTION, **SMTP).mail_sender == "smtp"  # type: ignore[arg-type]


@pytest.mark.parametrize("host", ["smtp.example.org", "192.0.2.10", "10.0.0.5"])
def test_unencrypted_smtp_is_refused_to_any_host_but_loopback(host: str) -> None:
    values = {**SMTP, "smtp_host": host, "smtp_security": "none"}
    assert "OHCONNECT_SMTP_SECURITY=none" in refusal(environment="production", **values)
    assert "OHCONNECT_SMTP_SECURITY=none" in refusal(environment="test", **values)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.53"])
def test_unencrypted_smtp_to_loopback_is_allowed(host: str) -> None:
    settings = Settings(**SAFE_PRODUCTION, **{**SMTP, "smtp_host": host, "smtp_security": "none"})  # type: ignore[arg-type]
    assert settings.smtp_security == "none"


def test_senders_need_their_settings() -> None:
    assert "OHCONNECT_SMTP_HOST" in refusal(mail_sender="smtp", mail_from="a@b.example")
    assert "OHCONNECT_MAIL_FROM" in refusal(mail_sender="smtp", smtp_host="smtp.example.org")
    assert "OHCONNECT_NOTIFY_API_KEY" in refusal(mail_sender="notify")
    key = "live-" + "0" * 36 + "-" + "1" * 36
    assert "OHCONNECT_NOTIFY_SMS_TEMPLATE_ID" in refusal(mail_sender="notify", notify_api_key=key)
    assert "OHCONNECT_NOTIFY_API_KEY must be" in refusal(mail_sender="notify", notify_api_key="short")


async def test_serve_in_production_with_the_log_sender_exits_naming_the_setting() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OHCONNECT_")}
    env |= {"OHCONNECT_ENVIRONMENT": "production", "OHCONNECT_MAIL_SENDER": "log"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "backend.cli", "serve", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 2
    assert "OHCONNECT_MAIL_SENDER=log" in err.decode()


def test_the_mailbox_exists_only_with_the_log_sender_outside_production() -> None:
    def paths(settings: Settings) -> set[str]:
        return set(create_app(settings).openapi()["paths"])

    assert "/api/v1/mailbox" in paths(Settings(environment="development", demo_mailbox=True))
    assert "/api/v1/mailbox" not in paths(Settings(environment="development"))  # only the demo turns it on
    assert "/api/v1/mailbox" not in paths(Settings(**SAFE_PRODUCTION, **SMTP))  # type: ignore[arg-type]
    assert "/api/v1/mailbox" not in paths(Settings(environment="test", **SMTP))  # type: ignore[arg-type]
