"""E-mail over SMTP (aiosmtplib): STARTTLS or implicit TLS, optional authentication.

The Message-ID is derived from the outbox id, so every attempt and every resend of one message
carries the same id and a recipient's mail program recognises a repeat. A message with a calendar
invitation carries it twice, as mail programs expect: a ``text/calendar; method=…`` alternative of
the body (shown as an invitation with accept/decline) and an ``invite.ics`` attachment.
"""

from __future__ import annotations

import re
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib

from backend.core.config import Settings
from backend.notify.schemas import DeliveryError, OutboxMessage

TIMEOUT_S = 30.0
_SSL_REASON = re.compile(r"\[SSL: ([A-Z0-9_]+)\]")
_METHOD = re.compile(r"^METHOD:([A-Z]+)\r?$", re.MULTILINE)


def message_id(message: OutboxMessage, from_address: str) -> str:
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "ohconnect.invalid"
    return f"<outbox-{message.id}@{domain}>"


def compose(message: OutboxMessage, from_address: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = from_address
    mail["To"] = message.recipient
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = message_id(message, from_address)
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.body)
    if message.calendar_ics:
        found = _METHOD.search(message.calendar_ics)
        method = found.group(1) if found else "REQUEST"
        mail.add_alternative(message.calendar_ics, subtype="calendar", params={"method": method})
        mail.add_attachment(
            message.calendar_ics.encode("utf-8"),
            maintype="application",
            subtype="ics",
            filename="invite.ics",
        )
    return mail


def classify(exc: Exception) -> DeliveryError:
    """Permanent: a 5xx answer or a refused recipient. Transient: no connection, a time-out, a 4xx
    answer, and refused authentication (a setting an operator fixes; the queue then drains)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        permanent = all(code >= 500 for code in codes)
        return DeliveryError(f"recipient refused: {exc.recipients[0].code} {exc.recipients[0].message}",
                             permanent=permanent)  # fmt: skip
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return DeliveryError(f"SMTP authentication refused: {exc.code}", permanent=False)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        kind = "recipient refused" if isinstance(exc, aiosmtplib.SMTPRecipientRefused) else "SMTP"
        return DeliveryError(f"{kind}: {exc.code} {exc.message}", permanent=exc.code >= 500)
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return DeliveryError("SMTP server timed out", permanent=False)
    tls = _tls_problem(exc)
    if tls:
        return DeliveryError(f"SMTP TLS failed: {tls}", permanent=False)
    return DeliveryError(f"SMTP server unreachable ({type(exc).__name__})", permanent=False)


def _tls_problem(exc: BaseException) -> str | None:
    """The TLS failure behind a connection error (e.g. CERTIFICATE_VERIFY_FAILED), if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return str(seen.reason or type(seen).__name__)
        seen = seen.__cause__ or seen.__context__
    found = _SSL_REASON.search(str(exc))
    return found.group(1) if found else None


class SmtpSender:
    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host or not settings.mail_from:
            raise ValueError("SMTP needs OHCONNECT_SMTP_HOST and OHCONNECT_MAIL_FROM")
        self._host = settings.smtp_host
        self._port = settings.smtp_port
        self._security = settings.smtp_security
        self._username = settings.smtp_username
        self._password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        self._from = settings.mail_from

    async def send(self, message: OutboxMessage) -> None:
        mail = compose(message, self._from)
        try:
            await aiosmtplib.send(
                mail,
                sender=parseaddr(self._from)[1],
                recipients=[message.recipient],
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._security == "tls",
                start_tls=self._security == "starttls",
                timeout=TIMEOUT_S,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise classify(exc) from exc
