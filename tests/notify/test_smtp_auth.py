"""SMTP authentication: the sender logs in with the configured user name and password; a refused
login is a transient failure (an operator corrects the setting, and the queue then drains)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from backend.core.config import Settings
from backend.notify.schemas import DeliveryError, OutboxMessage
from backend.notify.senders.smtp import SmtpSender
from tests.conftest import free_port
from tests.notify.conftest import FROM
from tests.notify.smtp_server import SmtpServer

USER, PASSWORD = "ohconnect", "a-long-smtp-password"


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    smtp = SmtpServer(free_port(), credentials=(USER, PASSWORD))
    smtp.start()
    yield smtp
    smtp.stop()


def sender(port: int, password: str) -> SmtpSender:
    settings = Settings(
        environment="test", mail_sender="smtp", smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
        smtp_username=USER, smtp_password=SecretStr(password), mail_from=FROM,
    )  # fmt: skip
    return SmtpSender(settings)


def message() -> OutboxMessage:
    return OutboxMessage(
        id=uuid.uuid4(), channel="email", recipient="pat@example.example", subject="Hello", body="Text"
    )


async def test_the_sender_signs_in_to_the_mail_server(server: SmtpServer) -> None:
    await sender(server.port, PASSWORD).send(message())
    [received] = server.recorder.received
    assert received.login == USER.encode()
    assert received.recipients == ["pat@example.example"]


async def test_a_refused_sign_in_is_retried_later(server: SmtpServer) -> None:
    with pytest.raises(DeliveryError) as raised:
        await sender(server.port, "not-the-password").send(message())
    assert raised.value.permanent is False
    assert raised.value.reason == "SMTP authentication refused: 535"
    assert server.recorder.received == []
