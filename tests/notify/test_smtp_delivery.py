"""E-mail reaches a real SMTP server (aiosmtpd on loopback) through the app's own dispatcher."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import httpx

from backend.notify import service as notify
from tests.factories import login, make_referral, make_world
from tests.notify.smtp_server import SmtpServer, wait_for

EMPLOYEE = "alex.example@employer.example"
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ohconnect test//EN\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:test-appointment@oh.example\r\nDTSTAMP:20260105T090000Z\r\n"
    "DTSTART;TZID=Europe/London:20260112T100000\r\nSUMMARY:Occupational health appointment\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


async def outbox_row(conn: asyncpg.Connection, recipient: str) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM outbox_message WHERE recipient = $1", recipient)
    assert row is not None
    return row


async def status_of(conn: asyncpg.Connection, recipient: str) -> str:
    return str((await outbox_row(conn, recipient))["status"])


async def test_a_referral_message_arrives_with_its_headers(
    client: httpx.AsyncClient, conn: asyncpg.Connection, smtp: SmtpServer
) -> None:
    smtp.start()
    world = await make_world(conn)
    referral = await make_referral(client, await login(client, world.users["manager"]))

    [mail] = await wait_for(lambda: smtp.recorder.to(EMPLOYEE), what="the acknowledgement e-mail")
    row = await wait_for(
        lambda: conn.fetchrow(
            "SELECT * FROM outbox_message WHERE recipient = $1 AND status = 'sent'", EMPLOYEE
        )
    )
    assert mail["From"] == "Demo OH <no-reply@oh.example>"
    assert mail["To"] == EMPLOYEE
    assert mail["Subject"] == "Your occupational health referral"
    assert mail["Message-ID"] == f"<outbox-{row['id']}@oh.example>"
    assert smtp.recorder.received[0].sender == "no-reply@oh.example"
    body = mail.get_content()
    assert re.search(r"/acknowledge\.html#token=[A-Za-z0-9_\-]+", body)
    assert (row["attempts"], row["kind"], row["provider_id"]) == (
        1,
        "referral.acknowledgement_link",
        world.provider.id,
    )
    assert row["sent_at"] is not None
    assert row["claimed_until"] is None
    assert referral["status"] == "AWAITING_TRIAGE"


async def test_a_calendar_invitation_travels_as_an_invitation_and_an_attachment(
    client: httpx.AsyncClient, conn: asyncpg.Connection, smtp: SmtpServer
) -> None:
    smtp.start()
    world = await make_world(conn)
    async with conn.transaction():
        await notify.enqueue(
            conn,
            recipient=EMPLOYEE,
            subject="Your appointment",
            body="Your appointment is on 12 January at 10:00.",
            provider_id=world.provider.id,
            kind="appointment.invitation",
            calendar_ics=ICS,
        )
    [mail] = await wait_for(lambda: smtp.recorder.to(EMPLOYEE), what="the invitation")

    parts = {(p.get_content_type(), p.get_filename()): p for p in mail.walk() if not p.is_multipart()}
    assert set(parts) == {("text/plain", None), ("text/calendar", None), ("application/ics", "invite.ics")}
    calendar = parts[("text/calendar", None)]
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_content().replace("\r\n", "\n") == ICS.replace("\r\n", "\n")
    assert parts[("application/ics", "invite.ics")].get_content() == ICS.encode()
    assert parts[("text/plain", None)].get_content().startswith("Your appointment is on 12 January")


async def test_a_mail_server_down_for_a_while_gets_the_message_once_it_is_back(
    client: httpx.AsyncClient, conn: asyncpg.Connection, smtp: SmtpServer
) -> None:
    world = await make_world(conn)
    await make_referral(client, await login(client, world.users["manager"]))

    async def retried() -> bool:
        row = await outbox_row(conn, EMPLOYEE)
        return bool(row["attempts"] >= 2 and row["status"] == "pending")

    await wait_for(retried, what="two failed attempts")
    row = await outbox_row(conn, EMPLOYEE)
    assert "unreachable" in row["last_error"]
    assert row["next_attempt_at"] > row["last_attempt_at"]

    smtp.start()
    await wait_for(lambda: smtp.recorder.to(EMPLOYEE), what="the e-mail")
    await wait_for(lambda: _is(status_of(conn, EMPLOYEE), "sent"), what="status sent")
    messages_before = len(smtp.recorder.received)
    # More dispatcher rounds go by: nothing is sent again.
    await wait_for(lambda: _later(conn), timeout_s=5, what="more rounds")
    assert len(smtp.recorder.to(EMPLOYEE)) == 1
    assert len(smtp.recorder.received) == messages_before
    assert (await outbox_row(conn, EMPLOYEE))["last_error"] is None


async def _is(status: Any, wanted: str) -> bool:
    return bool(await status == wanted)


async def _later(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("SELECT pg_sleep(0.5) IS NOT NULL"))


async def test_a_refused_recipient_is_failed_visible_to_its_provider_admin_and_resendable(
    client: httpx.AsyncClient, conn: asyncpg.Connection, smtp: SmtpServer
) -> None:
    smtp.recorder.refuse.add(EMPLOYEE)
    smtp.start()
    world = await make_world(conn)
    await make_referral(client, await login(client, world.users["manager"]))

    await wait_for(lambda: _is(status_of(conn, EMPLOYEE), "failed"), what="the failure")
    row = await outbox_row(conn, EMPLOYEE)
    assert row["attempts"] == 1  # a permanent refusal is not retried
    assert "550" in row["last_error"]
    assert row["failed_at"] is not None

    admin = await login(client, world.users["provider_admin"])
    listed = await client.get("/api/v1/messages", params={"status": "failed"}, headers=admin)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert page["total"] == 1
    [item] = page["items"]
    assert (item["id"], item["recipient"], item["kind"], item["status"]) == (
        str(row["id"]),
        EMPLOYEE,
        "referral.acknowledgement_link",
        "failed",
    )
    assert "550" in item["last_error"]
    assert item["attempts"] == 1
    assert "body" not in item

    other_admin = await login(client, world.users["other_provider_admin"])
    other = await client.get("/api/v1/messages", params={"status": "failed"}, headers=other_admin)
    assert other.json()["items"] == []
    assert other.json()["total"] == 0
    stolen = await client.post(f"/api/v1/messages/{row['id']}/resend", headers=other_admin)
    assert stolen.status_code == 404
    manager = await login(client, world.users["manager"])
    assert (await client.get("/api/v1/messages", headers=manager)).status_code == 403
    assert (await client.post(f"/api/v1/messages/{row['id']}/resend", headers=manager)).status_code == 403
    assert await status_of(conn, EMPLOYEE) == "failed"

    smtp.recorder.refuse.clear()
    resent = await client.post(f"/api/v1/messages/{row['id']}/resend", headers=admin)
    assert resent.status_code == 200, resent.text
    assert (resent.json()["status"], resent.json()["resend_count"]) == ("pending", 1)
    [mail] = await wait_for(lambda: smtp.recorder.to(EMPLOYEE), what="the resent e-mail")
    assert mail["Message-ID"] == f"<outbox-{row['id']}@oh.example>"
    await wait_for(lambda: _is(status_of(conn, EMPLOYEE), "sent"), what="status sent")
    again = await client.post(f"/api/v1/messages/{row['id']}/resend", headers=admin)
    assert again.status_code == 409
    audit = await conn.fetchrow(
        "SELECT * FROM audit_event WHERE action = 'message.resend' AND entity_id = $1", str(row["id"])
    )
    assert audit is not None
    assert (audit["actor_id"], audit["subject_email"]) == (world.users["provider_admin"].id, EMPLOYEE)
    assert (await client.get("/api/v1/messages", params={"status": "failed"}, headers=admin)).json()[
        "total"
    ] == 0


async def test_a_message_claimed_by_a_process_that_died_is_sent_after_its_lease(
    client: httpx.AsyncClient, conn: asyncpg.Connection, smtp: SmtpServer
) -> None:
    smtp.start()
    message_id = await conn.fetchval(
        "INSERT INTO outbox_message (recipient, subject, body, status, attempts, claimed_until,"
        " next_attempt_at, claim_id) VALUES ($1, 'Left behind', 'Body', 'sending', 1,"
        " now() + interval '1 second', now() + interval '1 second', gen_random_uuid()) RETURNING id",
        EMPLOYEE,
    )
    await wait_for(lambda: _is(status_of(conn, EMPLOYEE), "sent"), what="delivery after the lease")
    row = await outbox_row(conn, EMPLOYEE)
    assert row["id"] == message_id
    assert row["attempts"] == 2
    assert row["sent_at"] >= row["last_attempt_at"]
    assert len(smtp.recorder.to(EMPLOYEE)) == 1


async def test_there_is_no_mailbox_when_mail_really_leaves(client: httpx.AsyncClient) -> None:
    for path in ("/mailbox", "/api/v1/mailbox", "/mailbox.html"):
        assert (await client.get(path)).status_code == 404, path
