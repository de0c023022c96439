"""Where text messages cannot be sent (SMTP only, no GOV.UK Notify key), the join code reaches the
employee by e-mail through a real SMTP server (aiosmtpd on loopback), and it lets them in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import asyncpg
import httpx
import pytest

from tests.booking.helpers import book_referral, plan_clinic
from tests.clinics.helpers import outbox_links, triaged_referral
from tests.factories import login, make_world
from tests.notify.conftest import settings_overrides, smtp_port  # noqa: F401 (the SMTP test settings)
from tests.notify.smtp_server import SmtpServer, wait_for

EMPLOYEE = "alex.example@employer.example"


@pytest.fixture
def smtp(smtp_port: int) -> Iterator[SmtpServer]:  # noqa: F811 (the imported fixture)
    server = SmtpServer(smtp_port)
    server.start()
    yield server
    server.stop()


async def test_the_code_is_e_mailed_when_no_sms_can_be_sent(
    client: httpx.AsyncClient, conn: asyncpg.Connection, smtp: SmtpServer
) -> None:
    world = await make_world(conn)
    nurse = await login(client, world.users["clinician"])
    referral = await triaged_referral(client, world, nurse)
    assert referral["form"]["employee"]["phone"]  # a mobile number is known, but no SMS channel
    clinic = await plan_clinic(client, nurse, start_in=timedelta(minutes=10))  # the room is open
    booked = await book_referral(client, nurse, referral["id"], clinic["slots"][0]["id"])
    assert booked.status_code == 201, booked.text

    def code_mail() -> list[str]:
        return [
            m.get_content() for m in smtp.recorder.to(EMPLOYEE) if m["Subject"] == "Your appointment code"
        ]

    [body] = await wait_for(code_mail, what="the code e-mail")
    match = re.search(r"is (\d{3}) (\d{3})\.", body)
    assert match, body
    assert await conn.fetchval("SELECT count(*) FROM outbox_message WHERE channel = 'sms'") == 0
    failed = await conn.fetchval("SELECT count(*) FROM outbox_message WHERE status = 'failed'")
    assert failed == 0

    token = (await outbox_links(conn, EMPLOYEE))[-1]
    joined = await client.post(
        "/api/v1/clinics/join", json={"token": token, "code": match.group(1) + " " + match.group(2)}
    )
    assert joined.status_code == 200, joined.text
