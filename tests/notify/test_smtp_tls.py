"""SMTP over TLS: STARTTLS and implicit TLS to a server whose certificate the client verifies
(a certificate made by the test for "localhost", trusted through SSL_CERT_FILE)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from backend.core.config import Settings
from backend.notify.schemas import DeliveryError, OutboxMessage
from backend.notify.senders.smtp import SmtpSender
from tests.conftest import free_port
from tests.core.test_production_guard import SAFE_PRODUCTION
from tests.notify.conftest import FROM
from tests.notify.smtp_server import Recorder


def certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


def message() -> OutboxMessage:
    return OutboxMessage(
        id=uuid.uuid4(), channel="email", recipient="pat@example.example", subject="Hi", body="Text"
    )


def sender(port: int, security: str) -> SmtpSender:
    return SmtpSender(
        Settings(
            **SAFE_PRODUCTION, mail_sender="smtp", smtp_host="localhost", smtp_port=port,
            smtp_security=security, mail_from=FROM,
        )
    )  # fmt: skip


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_mail_goes_over_tls_to_a_verified_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, security: str
) -> None:
    cert_file, key_file = certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    recorder, port = Recorder(), free_port()
    options: dict[str, Any] = (
        {"tls_context": context, "require_starttls": True}
        if security == "starttls"
        else {"ssl_context": context}
    )
    controller = Controller(recorder, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        # Not trusted yet: the certificate is refused and nothing is sent (a transient failure).
        with pytest.raises(DeliveryError) as raised:
            await sender(port, security).send(message())
        assert raised.value.permanent is False
        assert "CERTIFICATE_VERIFY_FAILED" in raised.value.reason
        assert recorder.received == []

        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
        await sender(port, security).send(message())
    finally:
        controller.stop()
    [received] = recorder.received
    assert received.recipients == ["pat@example.example"]
