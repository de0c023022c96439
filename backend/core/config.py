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
    # Log lines as JSON objects (one per line) or readable text; unset: json in production, else text.
    log_format: Literal["json", "text"] | None = None
    # GET /metrics answers loopback clients, and others sending this as a bearer token.
    metrics_token: SecretStr | None = None
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

    @property
    def log_format_used(self) -> Literal["json", "text"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment == "production" else "text"

    @property
    def cookies_secure(self) -> bool:
        """Secure cookies behind TLS: explicit setting, else inferred from the public URL."""
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.public_url.startswith("https://")
