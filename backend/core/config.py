"""The one Settings object. Nothing else in the code base reads os.environ."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("ohconnect", appauthor=False))


class AlertBand(BaseModel):
    """A range of one measure that flags a pulse stream for the clinician (bounds inclusive, on the
    value rounded to a whole number, as NEWS2 charts are read). Never a fitness decision."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    measure: Literal["heart_rate", "spo2"]
    low: float | None = None
    high: float | None = None
    level: Literal["low", "medium", "high"]

    @model_validator(mode="after")
    def _bounded(self) -> AlertBand:
        if self.low is None and self.high is None:
            raise ValueError("an alert band needs low, high or both")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError("an alert band's low must not exceed its high")
        return self


def news2_bands() -> list[AlertBand]:
    """NEWS2 (Royal College of Physicians, 2017): pulse and SpO2 scale 1; score 3 is "high",
    2 "medium", 1 "low"."""
    return [
        AlertBand(measure="heart_rate", high=40, level="high"),
        AlertBand(measure="heart_rate", low=41, high=50, level="low"),
        AlertBand(measure="heart_rate", low=91, high=110, level="low"),
        AlertBand(measure="heart_rate", low=111, high=130, level="medium"),
        AlertBand(measure="heart_rate", low=131, level="high"),
        AlertBand(measure="spo2", high=91, level="high"),
        AlertBand(measure="spo2", low=92, high=93, level="medium"),
        AlertBand(measure="spo2", low=94, high=95, level="low"),
    ]


# The placeholder secrets shipped in deploy/env.example (tests/core/test_production_guard.py keeps
# this list and the file in step): a production deployment that still carries one is refused.
EXAMPLE_SECRETS = frozenset({"change-me", "change-me-long-random"})
MIN_DATABASE_PASSWORD = 16
MIN_TURN_SECRET = 32


def _database_problem(settings: Settings) -> str | None:
    if settings.database_url is None:
        return "DATABASE_URL is unset (the embedded database is for development and demos only)"
    from urllib.parse import urlsplit  # here, not at the top: keeps this block self-contained

    password = urlsplit(settings.database_url.get_secret_value()).password
    if password is None:
        return None  # peer, certificate or .pgpass authentication: nothing to judge here
    if password in EXAMPLE_SECRETS:
        return "DATABASE_URL still carries the example password from deploy/env.example"
    if len(password) < MIN_DATABASE_PASSWORD:
        return f"DATABASE_URL's password is shorter than {MIN_DATABASE_PASSWORD} characters"
    return None


def _turn_problems(settings: Settings) -> list[str]:
    problems = []
    if not settings.stun_urls:
        problems.append("OHCONNECT_STUN_URLS is empty (point it at your coturn: stun:<host>:3478)")
    if not settings.turn_urls:
        problems.append("OHCONNECT_TURN_URLS is empty (calls behind strict NATs need your coturn)")
    secret = settings.turn_secret.get_secret_value() if settings.turn_secret is not None else ""
    if settings.turn_secret is None:
        problems.append("OHCONNECT_TURN_SECRET is unset")
    elif secret in EXAMPLE_SECRETS or len(secret) < MIN_TURN_SECRET:
        problems.append(f"OHCONNECT_TURN_SECRET is the example or shorter than {MIN_TURN_SECRET} characters")
    return problems


def production_problems(settings: Settings) -> list[str]:
    """Why this configuration is unsafe for production, each naming the setting; [] when fine or
    when not in production. Checked once, when Settings is built at start-up."""
    if settings.environment != "production":
        return []
    problems = []
    if not settings.public_url.startswith("https://"):
        problems.append("OHCONNECT_PUBLIC_URL must be an https:// address")
    if settings.secure_cookies is False:
        problems.append("OHCONNECT_SECURE_COOKIES=false sends session cookies over plain HTTP")
    database = _database_problem(settings)
    if database:
        problems.append(database)
    return problems + _turn_problems(settings)


class Settings(BaseSettings):
    """Runtime configuration. Every field is documented in deploy/env.example."""

    model_config = SettingsConfigDict(env_prefix="OHCONNECT_", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    database_url: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "OHCONNECT_DATABASE_URL")
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    db_pool_min: int = Field(default=2, ge=1, le=100)
    db_pool_max: int = Field(default=10, ge=1, le=500)
    db_app_role: str = Field(default="ohconnect_app", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    public_url: str = "http://127.0.0.1:8000"
    secure_cookies: bool | None = None
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    # Extending a session moves its end to session_hours from now, never past this long after sign-in.
    session_max_hours: int = Field(default=24, ge=1, le=24 * 90)
    login_max_failures: int = Field(default=10, ge=1, le=1000)
    login_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    employee_link_days: int = Field(default=14, ge=1, le=90)
    request_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    referral_attachments_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    attachment_scan_command: str | None = None
    # Video clinics: ICE servers for browsers and the server's own WebRTC peers (never a public
    # STUN server by default), coturn's REST shared secret, and waiting-room limits.
    stun_urls: list[str] = Field(default_factory=list, max_length=10)
    turn_urls: list[str] = Field(default_factory=list, max_length=10)
    turn_secret: SecretStr | None = None
    turn_ttl_seconds: int = Field(default=3600, ge=60, le=24 * 3600)
    waiting_room_open_minutes: int = Field(default=30, ge=0, le=24 * 60)
    max_server_peers: int = Field(default=2, ge=0, le=64)
    log_level: str = "INFO"
    # Pulse readings from phones: the largest batch upload, the lifetime of a stream's device
    # token, and the bands that flag a stream (NEWS2 by default) with how many readings make a flag.
    readings_batch_max_bytes: int = Field(default=4 * 1024 * 1024, ge=64 * 1024, le=64 * 1024 * 1024)
    readings_device_token_hours: int = Field(default=12, ge=1, le=72)
    readings_alert_bands: list[AlertBand] = Field(default_factory=news2_bands, max_length=50)
    readings_alert_min_readings: int = Field(default=3, ge=1, le=600)

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        if self.db_pool_min > self.db_pool_max:
            raise ValueError("OHCONNECT_DB_POOL_MIN must not exceed OHCONNECT_DB_POOL_MAX")
        for url in (*self.stun_urls, *self.turn_urls):
            if not url.startswith(("stun:", "stuns:", "turn:", "turns:")):
                raise ValueError(f"ICE server URL must start with stun:, stuns:, turn: or turns: ({url!r})")
        if self.turn_urls and self.turn_secret is None:
            raise ValueError("OHCONNECT_TURN_URLS needs OHCONNECT_TURN_SECRET (coturn static-auth-secret)")
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        """The production guard (production_problems above), run whenever Settings is built,
        after the consistency checks."""
        problems = production_problems(self)
        if problems:
            raise ValueError("production refuses to start: " + "; ".join(problems))
        return self

    @property
    def cookies_secure(self) -> bool:
        """Secure cookies behind TLS: explicit setting, else inferred from the public URL."""
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.public_url.startswith("https://")
