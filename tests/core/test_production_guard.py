"""`production` refuses to start with an unsafe configuration, naming the setting to change."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pydantic import ValidationError

from backend.core.config import EXAMPLE_SECRETS, Settings
from tests.signing_keys import throwaway_pem_files

ROOT = Path(__file__).resolve().parents[2]
TURN_SECRET = "k7Q2v9XzR4m1Lp8Ws3Nd6Bf0Hj5Tc2Ya"  # 32 characters, made up for this test
# The document-signing key and certificate: generated for this test run (one PEM file holds both).
SIGNING_KEY_FILE, SIGNING_CERT_FILE = throwaway_pem_files()

# One complete, safe production configuration, as an operator's environment file would give it.
# The delivery settings are there because production also refuses the log-only message sender.
VALID = {
    "OHCONNECT_ENVIRONMENT": "production",
    "DATABASE_URL": "postgresql://ohconnect:Vn3rT8qLx2Zp6Wm4@db.internal:5432/ohconnect",
    "OHCONNECT_PUBLIC_URL": "https://oh.example.org",
    "OHCONNECT_STUN_URLS": '["stun:turn.example.org:3478"]',
    "OHCONNECT_TURN_URLS": '["turn:turn.example.org:3478?transport=udp"]',
    "OHCONNECT_TURN_SECRET": TURN_SECRET,
    "OHCONNECT_MAIL_SENDER": "smtp",
    "OHCONNECT_SMTP_HOST": "smtp.example.org",
    "OHCONNECT_MAIL_FROM": "clinic@oh.example.org",
    "OHCONNECT_SIGNING_KEY_FILE": SIGNING_KEY_FILE,
    "OHCONNECT_SIGNING_CERT_FILE": SIGNING_CERT_FILE,
}


# The same, as Settings keywords without delivery: other tests that build a production Settings
# start from this, e.g. Settings(**SAFE_PRODUCTION, mail_sender="smtp", ...).
SAFE_PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "database_url": VALID["DATABASE_URL"],
    "public_url": VALID["OHCONNECT_PUBLIC_URL"],
    "stun_urls": ["stun:turn.example.org:3478"],
    "turn_urls": ["turn:turn.example.org:3478?transport=udp"],
    "turn_secret": TURN_SECRET,
    "signing_key_file": SIGNING_KEY_FILE,
    "signing_cert_file": SIGNING_CERT_FILE,
}


def _settings(monkeypatch: pytest.MonkeyPatch, **changes: str | None) -> Settings:
    for name in list(os.environ):
        if name.startswith("OHCONNECT_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    for name, value in {**VALID, **changes}.items():
        if value is not None:
            monkeypatch.setenv(name, value)
    return Settings()


def _refusal(monkeypatch: pytest.MonkeyPatch, **changes: str | None) -> str:
    with pytest.raises(ValidationError) as caught:
        _settings(monkeypatch, **changes)
    message = str(caught.value)
    assert "production refuses to start" in message
    return message


def test_a_complete_production_configuration_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch)
    assert settings.environment == "production"
    assert settings.cookies_secure


def test_safe_production_keywords_pass_the_guard() -> None:
    delivery: dict[str, Any] = {
        "mail_sender": "smtp",
        "smtp_host": "smtp.example.org",
        "mail_from": "clinic@oh.example.org",
    }
    settings = Settings(**SAFE_PRODUCTION, **delivery)
    assert settings.environment == "production"
    assert settings.turn_urls == SAFE_PRODUCTION["turn_urls"]


def test_development_keeps_its_conveniences(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(
        monkeypatch, OHCONNECT_ENVIRONMENT="development", OHCONNECT_PUBLIC_URL="http://127.0.0.1:8000",
        DATABASE_URL=None, OHCONNECT_STUN_URLS=None, OHCONNECT_TURN_URLS=None, OHCONNECT_TURN_SECRET=None,
    )  # fmt: skip
    assert settings.database_url is None


def test_plain_http_public_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "OHCONNECT_PUBLIC_URL" in _refusal(monkeypatch, OHCONNECT_PUBLIC_URL="http://oh.example.org")


def test_insecure_cookies_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "OHCONNECT_SECURE_COOKIES" in _refusal(monkeypatch, OHCONNECT_SECURE_COOKIES="false")


def test_embedded_database_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "DATABASE_URL is unset" in _refusal(monkeypatch, DATABASE_URL=None)


def test_example_database_password_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    example = re.search(r"^DATABASE_URL=(.+)$", (ROOT / "deploy" / "env.example").read_text(), re.M)
    assert example is not None
    message = _refusal(monkeypatch, DATABASE_URL=example.group(1))
    assert "DATABASE_URL still carries the example password" in message
    assert "change-me" not in message.split("input_value")[0], "the refusal must not echo the secret"


def test_short_database_password_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _refusal(monkeypatch, DATABASE_URL="postgresql://ohconnect:short@db.internal/ohconnect")
    assert "DATABASE_URL's password is shorter than 16" in message


def test_short_or_example_turn_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "OHCONNECT_TURN_SECRET" in _refusal(monkeypatch, OHCONNECT_TURN_SECRET=TURN_SECRET[:31])
    assert "OHCONNECT_TURN_SECRET" in _refusal(monkeypatch, OHCONNECT_TURN_SECRET="change-me-long-random")


def test_missing_stun_or_turn_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "OHCONNECT_STUN_URLS is empty" in _refusal(monkeypatch, OHCONNECT_STUN_URLS=None)
    message = _refusal(monkeypatch, OHCONNECT_TURN_URLS=None, OHCONNECT_TURN_SECRET=None)
    assert "OHCONNECT_TURN_URLS is empty" in message
    assert "OHCONNECT_TURN_SECRET is unset" in message


def test_missing_signing_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _refusal(monkeypatch, OHCONNECT_SIGNING_KEY_FILE=None, OHCONNECT_SIGNING_CERT_FILE=None)
    assert "OHCONNECT_SIGNING_KEY_FILE and OHCONNECT_SIGNING_CERT_FILE are unset" in message
    assert "development key is not for production" in message


def test_signing_files_that_do_not_exist_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = str(tmp_path / "absent.pem")
    assert "OHCONNECT_SIGNING_KEY_FILE names no file" in _refusal(
        monkeypatch, OHCONNECT_SIGNING_KEY_FILE=missing
    )
    assert "OHCONNECT_SIGNING_CERT_FILE names no file" in _refusal(
        monkeypatch, OHCONNECT_SIGNING_CERT_FILE=missing
    )


def test_a_signing_key_without_its_certificate_is_refused_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    for environment in ("production", "development"):
        with pytest.raises(
            ValidationError, match="OHCONNECT_SIGNING_KEY_FILE and OHCONNECT_SIGNING_CERT_FILE go"
        ):
            _settings(monkeypatch, OHCONNECT_ENVIRONMENT=environment, OHCONNECT_SIGNING_CERT_FILE=None)


def test_every_placeholder_secret_in_env_example_is_known() -> None:
    text = (ROOT / "deploy" / "env.example").read_text()
    database = re.search(r"^DATABASE_URL=(.+)$", text, re.M)
    turn = re.search(r"^#?\s*OHCONNECT_TURN_SECRET=(.+)$", text, re.M)
    assert database is not None
    assert turn is not None
    assert urlsplit(database.group(1)).password in EXAMPLE_SECRETS
    assert turn.group(1) in EXAMPLE_SECRETS


def test_the_command_refuses_to_start_and_names_the_setting() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OHCONNECT_") and k != "DATABASE_URL"}
    env.update(VALID, OHCONNECT_PUBLIC_URL="http://oh.example.org")
    done = subprocess.run(
        [sys.executable, "-m", "backend.cli", "serve"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "OHCONNECT_PUBLIC_URL must be an https:// address" in done.stderr
    assert TURN_SECRET not in done.stderr


def test_the_command_refuses_an_unusable_signing_key(tmp_path: Path) -> None:
    """Files that exist but do not hold a key stop the command before it serves, naming the setting."""
    (tmp_path / "not-a-key.pem").write_text("not a key\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OHCONNECT_") and k != "DATABASE_URL"}
    env.update(VALID, OHCONNECT_SIGNING_KEY_FILE=str(tmp_path / "not-a-key.pem"))
    done = subprocess.run(
        [sys.executable, "-m", "backend.cli", "serve"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "OHCONNECT_SIGNING_KEY_FILE is not a PEM private key" in done.stderr
