"""The GOV.UK Notify adapter against a loopback stand-in that checks Notify's documented API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from backend.core.config import Settings
from backend.notify import service as notify
from backend.notify.schemas import DeliveryError, OutboxMessage
from backend.notify.senders.govuk_notify import NotifySender
from tests.conftest import free_port
from tests.factories import login, make_referral, make_world
from tests.notify.notify_standin import NotifyStandIn
from tests.notify.smtp_server import wait_for

EMAIL_TEMPLATE = uuid.uuid4()
SMS_TEMPLATE = uuid.uuid4()
EMPLOYEE = "alex.example@employer.example"


@pytest.fixture(scope="module")
def standin() -> Iterator[NotifyStandIn]:
    server = NotifyStandIn()
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh(standin: NotifyStandIn) -> None:
    standin.received.clear()
    standin.script.clear()
    standin.problems.clear()


def notify_settings(standin: NotifyStandIn, **overrides: object) -> dict[str, object]:
    return {
        "mail_sender": "notify",
        "notify_api_key": standin.api_key,
        "notify_base_url": standin.url,
        "notify_email_template_id": EMAIL_TEMPLATE,
        "notify_sms_template_id": SMS_TEMPLATE,
        "mail_poll_seconds": 0.1,
        **overrides,
    }


@pytest.fixture
def settings_overrides(standin: NotifyStandIn) -> dict[str, object]:
    return notify_settings(standin)


def sender(standin: NotifyStandIn, **overrides: object) -> NotifySender:
    return NotifySender(Settings(environment="test", **notify_settings(standin, **overrides)))  # type: ignore[arg-type]


def message(channel: str = "sms", recipient: str = "+447700900123") -> OutboxMessage:
    return OutboxMessage(
        id=uuid.uuid4(),
        channel=channel,
        recipient=recipient,
        subject="Appointment code",
        body="Your code is 123 456.",
    )


async def test_a_text_message_is_sent_with_the_sms_template_and_a_signed_token(
    standin: NotifyStandIn,
) -> None:
    sms = message()
    await sender(standin).send(sms)

    assert standin.problems == []
    [request] = standin.received
    assert request.path == "/v2/notifications/sms"
    assert request.body == {
        "phone_number": "+447700900123",
        "template_id": str(SMS_TEMPLATE),
        "personalisation": {"body": "Your code is 123 456."},
        "reference": str(sms.id),
    }
    assert request.claims["iss"] == standin.service_id


async def test_an_email_is_sent_with_the_generic_template_and_its_subject(standin: NotifyStandIn) -> None:
    email = message("email", EMPLOYEE)
    await sender(standin).send(email)

    [request] = standin.received
    assert request.path == "/v2/notifications/email"
    assert request.body == {
        "email_address": EMPLOYEE,
        "template_id": str(EMAIL_TEMPLATE),
        "personalisation": {"subject": "Appointment code", "body": "Your code is 123 456."},
        "reference": str(email.id),
    }


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(400, True), (403, True), (429, False), (500, False), (503, False)],
)
async def test_notify_errors_are_permanent_or_transient_as_documented(
    standin: NotifyStandIn, status: int, permanent: bool
) -> None:
    error = {"errors": [{"error": "SomeError", "message": f"refused with {status}"}], "status_code": status}
    standin.script.append((status, error))
    with pytest.raises(DeliveryError) as raised:
        await sender(standin).send(message())
    assert raised.value.permanent is permanent
    assert raised.value.reason == f"Notify {status}: refused with {status}"


async def test_a_wrong_key_is_refused_by_notify_and_permanent(standin: NotifyStandIn) -> None:
    wrong = f"ohconnect_test-{standin.service_id}-{uuid.uuid4()}"
    with pytest.raises(DeliveryError) as raised:
        await sender(standin, notify_api_key=wrong).send(message())
    assert raised.value.permanent
    assert "403" in raised.value.reason
    assert standin.received == []


async def test_notify_unreachable_is_transient(standin: NotifyStandIn) -> None:
    with pytest.raises(DeliveryError) as raised:
        await sender(standin, notify_base_url=f"http://127.0.0.1:{free_port()}").send(message())
    assert not raised.value.permanent


async def test_the_app_delivers_e_mail_and_sms_through_notify(
    client: httpx.AsyncClient, conn: asyncpg.Connection, standin: NotifyStandIn
) -> None:
    world = await make_world(conn)
    await make_referral(client, await login(client, world.users["manager"]))
    async with conn.transaction():
        await notify.enqueue(
            conn,
            recipient="+447700900123",
            subject="Appointment code",
            body="Your code is 654 321.",
            channel="sms",
            provider_id=world.provider.id,
            kind="appointment.code",
        )
    await wait_for(
        lambda: conn.fetchval("SELECT count(*) = 2 FROM outbox_message WHERE status = 'sent'"),
        what="both messages sent",
    )
    assert standin.problems == []
    by_path = {r.path: r.body for r in standin.received}
    email = by_path["/v2/notifications/email"]
    assert email["email_address"] == EMPLOYEE
    assert email["personalisation"]["subject"] == "Your occupational health referral"
    assert "/acknowledge.html#token=" in email["personalisation"]["body"]
    sent_id = await conn.fetchval("SELECT id FROM outbox_message WHERE recipient = $1", EMPLOYEE)
    assert email["reference"] == str(sent_id)
    assert by_path["/v2/notifications/sms"]["personalisation"] == {"body": "Your code is 654 321."}
