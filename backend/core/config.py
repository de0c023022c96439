"""The one Settings object. Nothing else in the code base reads os.environ."""

from __future__ import annotations

import ipaddress
from email.utils import parseaddr
from pathlib import Path
from typing import Literal
from uuid import UUID

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


def _signing_problem(settings: Settings) -> str | None:
    if settings.signing_key_file is None:
        return (
            "OHCONNECT_SIGNING_KEY_FILE and OHCONNECT_SIGNING_CERT_FILE are unset (production signs "
            "documents with the provider's own key; the generated development key is not for production)"
        )
    for setting, path in (
        ("OHCONNECT_SIGNING_KEY_FILE", settings.signing_key_file),
        ("OHCONNECT_SIGNING_CERT_FILE", settings.signing_cert_file),
    ):
        if path is not None and not path.is_file():
            return f"{setting} names no file ({path})"
    return None


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
    signing = _signing_problem(settings)
    if signing:
        problems.append(signing)
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
    # Account links e-mailed to people (invitation, password reset, one-time sign-in): how long each
    # stays valid, and how many may be asked for per address and per client address in a window.
    invitation_days: int = Field(default=7, ge=1, le=30)
    password_reset_minutes: int = Field(default=60, ge=5, le=24 * 60)
    sign_in_link_minutes: int = Field(default=15, ge=5, le=24 * 60)
    account_link_max_per_address: int = Field(default=5, ge=1, le=1000)
    account_link_max_per_ip: int = Field(default=50, ge=1, le=100_000)
    account_link_window_minutes: int = Field(default=60, ge=1, le=24 * 60)
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
    # Self-booking: how long an offer of slots stays open, and how close to an appointment an
    # employee may still move it themselves.
    booking_offer_days: int = Field(default=14, ge=1, le=90)
    booking_change_notice_hours: int = Field(default=24, ge=0, le=24 * 14)
    max_server_peers: int = Field(default=2, ge=0, le=64)
    log_level: str = "INFO"
    # Log lines as JSON objects (one per line) or readable text; unset: json in production, else text.
    log_format: Literal["json", "text"] | None = None
    # GET /metrics answers loopback clients, and others sending this as a bearer token.
    metrics_token: SecretStr | None = None
    # OpenTelemetry traces over OTLP/HTTP (protobuf), under the SDK's standard names: a collector's
    # base address (/v1/traces is appended) or the traces address itself. Unset: no tracing.
    otlp_endpoint: str | None = Field(default=None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    otlp_traces_endpoint: str | None = Field(
        default=None, validation_alias="OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    # Pulse readings from phones: the largest batch upload, the lifetime of a stream's device
    # token, and the bands that flag a stream (NEWS2 by default) with how many readings make a flag.
    readings_batch_max_bytes: int = Field(default=4 * 1024 * 1024, ge=64 * 1024, le=64 * 1024 * 1024)
    readings_device_token_hours: int = Field(default=12, ge=1, le=72)
    readings_alert_bands: list[AlertBand] = Field(default_factory=news2_bands, max_length=50)
    readings_alert_min_readings: int = Field(default=3, ge=1, le=600)
    # Batches answered before FastAPI's routing (backend.readings.fastpath); false leaves every
    # batch to the route (the same answers, more CPU per batch).
    readings_fast_path: bool = True
    # Message delivery (backend.notify): e-mail over SMTP or GOV.UK Notify, SMS through Notify;
    # "log" writes messages to the log and the demo mailbox (development, test and demo only).
    mail_sender: Literal["smtp", "notify", "log"] = "log"
    # The demo mailbox page (/mailbox) lists every message with its links, to anyone who can reach
    # the server: only `ohconnect demo` turns it on (never in production, only with the log sender).
    demo_mailbox: bool = False
    smtp_host: str | None = Field(default=None, max_length=253)
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = Field(default=None, max_length=256)
    smtp_password: SecretStr | None = None
    mail_from: str | None = Field(default=None, max_length=320)
    notify_api_key: SecretStr | None = None
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    # Notify sends only through templates: one e-mail template "((subject))" / "((body))" and one
    # text-message template "((body))" carry every message.
    notify_email_template_id: UUID | None = None
    notify_sms_template_id: UUID | None = None
    mail_max_attempts: int = Field(default=10, ge=1, le=100)
    mail_give_up_hours: int = Field(default=48, ge=1, le=24 * 14)
    mail_retry_base_seconds: float = Field(default=30.0, ge=0.1, le=3600)
    mail_poll_seconds: float = Field(default=2.0, ge=0.05, le=300)
    # Issued PDFs (certificates, letters, reports) carry a PAdES signature made with this PEM key
    # and certificate (the certificate file may continue with its issuing chain). Unset outside
    # production: a development key generated into the data folder.
    signing_key_file: Path | None = None
    signing_cert_file: Path | None = None
    signing_key_passphrase: SecretStr | None = None
    # A message being sent is leased to one delivery round this long; if the worker dies, another
    # round takes the message once the lease runs out. Longer than any send (sends time out at 30 s).
    mail_lease_seconds: float = Field(default=300.0, ge=1, le=3600)
    # Background jobs (backend.jobs): whether each app process also runs a job worker (small
    # installations, the demo), or only ``ohconnect worker`` processes do; and how long a worker may
    # stay silent before it is taken as dead and its jobs are handed on.
    inprocess_jobs: bool = True
    # Worker processes per app process for heart-rate estimates (backend.readings.estimating);
    # 0 estimates in a thread of the app process.
    estimator_processes: int = Field(default=1, ge=0, le=16)
    jobs_stalled_seconds: float = Field(default=30.0, ge=1, le=3600)

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        if self.db_pool_min > self.db_pool_max:
            raise ValueError("OHCONNECT_DB_POOL_MIN must not exceed OHCONNECT_DB_POOL_MAX")
        for url in (*self.stun_urls, *self.turn_urls):
            if not url.startswith(("stun:", "stuns:", "turn:", "turns:")):
                raise ValueError(f"ICE server URL must start with stun:, stuns:, turn: or turns: ({url!r})")
        if (self.signing_key_file is None) != (self.signing_cert_file is None):
            raise ValueError("OHCONNECT_SIGNING_KEY_FILE and OHCONNECT_SIGNING_CERT_FILE go together")
        if self.signing_key_passphrase is not None and self.signing_key_file is None:
            raise ValueError("OHCONNECT_SIGNING_KEY_PASSPHRASE needs OHCONNECT_SIGNING_KEY_FILE")
        if self.turn_urls and self.turn_secret is None:
            raise ValueError("OHCONNECT_TURN_URLS needs OHCONNECT_TURN_SECRET (coturn static-auth-secret)")
        for name, address in (
            ("OTEL_EXPORTER_OTLP_ENDPOINT", self.otlp_endpoint),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", self.otlp_traces_endpoint),
        ):
            if address and not address.startswith(("http://", "https://")):
                raise ValueError(f"{name} must be an http:// or https:// address (OTLP over HTTP)")
        problem = mail_problem(self)
        if problem:
            raise ValueError(problem)
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


_NOTIFY_KEY_TAIL = 1 + 36 + 1 + 36  # "-{service id}-{secret}" after the key's name


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def mail_problem(settings: Settings) -> str | None:
    """Why the message-delivery settings cannot work, naming the setting to change; None if fine."""
    if settings.mail_sender == "log" and settings.environment == "production":
        return "OHCONNECT_MAIL_SENDER=log only writes messages to the log; production needs smtp or notify"
    if settings.mail_sender == "smtp":
        if not settings.smtp_host:
            return "OHCONNECT_MAIL_SENDER=smtp needs OHCONNECT_SMTP_HOST"
        if "@" not in parseaddr(settings.mail_from or "")[1]:
            return "OHCONNECT_MAIL_SENDER=smtp needs OHCONNECT_MAIL_FROM (an e-mail address)"
    if settings.smtp_host and settings.smtp_security == "none" and not _loopback(settings.smtp_host):
        return "OHCONNECT_SMTP_SECURITY=none is allowed only to a loopback OHCONNECT_SMTP_HOST"
    if settings.mail_sender == "notify" and settings.notify_api_key is None:
        return "OHCONNECT_MAIL_SENDER=notify needs OHCONNECT_NOTIFY_API_KEY"
    return _notify_problem(settings)


def _notify_problem(settings: Settings) -> str | None:
    if settings.notify_api_key is None:
        return None
    if len(settings.notify_api_key.get_secret_value()) <= _NOTIFY_KEY_TAIL:
        return "OHCONNECT_NOTIFY_API_KEY must be a whole Notify API key ({name}-{service id}-{secret})"
    if settings.notify_sms_template_id is None:
        return "OHCONNECT_NOTIFY_API_KEY needs OHCONNECT_NOTIFY_SMS_TEMPLATE_ID"
    if settings.mail_sender == "notify" and settings.notify_email_template_id is None:
        return "OHCONNECT_MAIL_SENDER=notify needs OHCONNECT_NOTIFY_EMAIL_TEMPLATE_ID"
    if not settings.notify_base_url.startswith(("https://", "http://127.", "http://localhost")):
        return "OHCONNECT_NOTIFY_BASE_URL must be https:// (plain http only to a loopback stand-in)"
    return None
