"""`ohconnect worker` as real subprocesses: it delivers to a real SMTP server (aiosmtpd), two at once
deliver each message exactly once, and one killed mid-send (SIGKILL) leaves the message to be
delivered once after a restart."""

from __future__ import annotations

import asyncio
import re
import time

import asyncpg
import httpx

from backend.notify import service as notify
from tests.conftest import Server
from tests.jobs.workers import smtp_env, workers
from tests.notify.smtp_server import SmtpServer, wait_for


async def queue_messages(conn: asyncpg.Connection, recipients: list[str]) -> None:
    async with conn.transaction():
        for recipient in recipients:
            await notify.enqueue(conn, recipient=recipient, subject="Test", body="A test message.")


async def outbox(conn: asyncpg.Connection, recipient: str) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM outbox_message WHERE recipient = $1", recipient)
    assert row is not None
    return row


async def sent(conn: asyncpg.Connection, recipient: str) -> asyncpg.Record | None:
    row = await outbox(conn, recipient)
    return row if row["status"] == "sent" else None


async def test_the_worker_delivers_what_an_app_without_in_process_jobs_leaves_queued(
    server: Server,
    client: httpx.AsyncClient,
    db_dsn: str,
    conn: asyncpg.Connection,
    smtp: SmtpServer,
    smtp_port: int,
) -> None:
    smtp.start()
    assert server.settings.inprocess_jobs is False
    await queue_messages(conn, ["first@employer.example"])
    await asyncio.sleep(3)
    assert smtp.recorder.received == [], "the app process delivered although its jobs are off"
    assert (await outbox(conn, "first@employer.example"))["status"] == "pending"

    async with workers(db_dsn, smtp_env(smtp_port)) as [worker]:
        [mail] = await wait_for(lambda: smtp.recorder.to("first@employer.example"), what="delivery")
        assert mail["Subject"] == "Test"
        row = await wait_for(lambda: sent(conn, "first@employer.example"), what="marked sent")
        assert row["attempts"] == 1
        scheduled = {r[0] for r in await conn.fetch("SELECT task_name FROM procrastinate_periodic_defers")}
        assert {"ohconnect.deliver_messages", "ohconnect.send_reminders"} <= scheduled
        code = await worker.stop()
        log = worker.log()
    assert code == 0, log
    assert re.search(r"job worker \S+ stopped", log)


async def test_two_workers_deliver_each_message_exactly_once(
    db_dsn: str, conn: asyncpg.Connection, smtp: SmtpServer, smtp_port: int
) -> None:
    smtp.recorder.delay_s = 0.02  # a little time per message, so that rounds overlap in time
    smtp.start()
    recipients = [f"person{n:02d}@employer.example" for n in range(60)]
    overlapping = 0
    async with workers(db_dsn, smtp_env(smtp_port), count=2) as pair:
        for wave in range(3):  # while both workers run, in three waves
            await queue_messages(conn, recipients[wave * 20 : (wave + 1) * 20])
            for _ in range(10):
                doing = await conn.fetchval(
                    "SELECT count(*) FROM procrastinate_jobs"
                    " WHERE status = 'doing' AND task_name = 'ohconnect.deliver_messages'"
                )
                overlapping = max(overlapping, doing)
                await asyncio.sleep(0.1)
        await wait_for(lambda: len(smtp.recorder.received) >= 60, timeout_s=60, what="60 messages")
        await asyncio.sleep(2.5)  # two more delivery rounds: nothing may arrive twice
        logs = [w.log() for w in pair]
    arrived = sorted(r for message in smtp.recorder.received for r in message.recipients)
    assert arrived == recipients, "each message exactly once"
    rows = await conn.fetch("SELECT status, attempts FROM outbox_message")
    assert {(r["status"], r["attempts"]) for r in rows} == {("sent", 1)}
    assert overlapping <= 1, "two delivery rounds ran at once"
    per_worker = [log.count("delivered message") for log in logs]
    assert sum(per_worker) == 60
    print(
        f"\n60 messages, 2 workers: delivered {per_worker[0]} + {per_worker[1]}, each once;"
        f" delivery rounds running at once: at most {overlapping}"
    )


async def test_a_worker_killed_mid_send_leaves_the_message_to_be_delivered_once(
    db_dsn: str, conn: asyncpg.Connection, smtp: SmtpServer, smtp_port: int
) -> None:
    recipient = "held@employer.example"
    smtp.recorder.rcpt_hold_s = 60  # the first attempt stops at RCPT, before any message data
    smtp.start()
    env = smtp_env(smtp_port) | {"OHCONNECT_JOBS_STALLED_SECONDS": "2", "OHCONNECT_MAIL_LEASE_SECONDS": "5"}
    await queue_messages(conn, [recipient])
    async with workers(db_dsn, env) as [first]:
        await wait_for(lambda: recipient in smtp.recorder.rcpt_seen, what="the first attempt at RCPT")
        claimed = await outbox(conn, recipient)
        job = await conn.fetchrow(
            "SELECT id, status, lock FROM procrastinate_jobs WHERE task_name = 'ohconnect.deliver_messages'"
            " AND status = 'doing'"
        )
        assert (claimed["status"], claimed["attempts"]) == ("sending", 1)
        assert job is not None
        assert await first.kill() == -9
    killed_at = time.monotonic()
    print(
        f"\ntried: SIGKILL of the worker while job {job['id']} (lock {job['lock']!r}) was sending"
        f" message {claimed['id']} (attempt 1, leased until {claimed['claimed_until']:%H:%M:%S})"
    )
    assert smtp.recorder.received == []

    smtp.recorder.rcpt_hold_s = 0
    async with workers(db_dsn, env) as [second]:
        restarted = time.monotonic() - killed_at
        [mail] = await wait_for(
            lambda: smtp.recorder.to(recipient), timeout_s=40, what="delivery after restart"
        )
        row = await wait_for(lambda: sent(conn, recipient), what="marked sent")
        waited = time.monotonic() - killed_at
        await asyncio.sleep(2.5)  # further rounds: no second copy
        killed_job = await conn.fetchval(
            "SELECT status::text FROM procrastinate_jobs WHERE id = $1", job["id"]
        )
        handed_on = await conn.fetchval(
            "SELECT extract(epoch FROM max(at) - $2::timestamptz) FROM procrastinate_events"
            " WHERE job_id = $1",
            job["id"],
            claimed["claimed_until"],
        )
        log = second.log()
    assert len(smtp.recorder.to(recipient)) == 1
    assert mail["Message-ID"] == f"<outbox-{row['id']}@oh.example>"
    assert (row["status"], row["attempts"]) == ("sent", 2)
    assert killed_job == "aborted", "the stalled round is handed on, not left holding its lock"
    assert f"job {job['id']} (ohconnect.deliver_messages) of a worker that stopped answering" in log
    print(
        f"survived: the second worker was up {restarted:.1f} s after the kill; the killed job"
        f" {job['id']} was marked {killed_job} {float(handed_on):+.1f} s from the lease's end; the"
        f" message was delivered once (attempt 2), {waited:.1f} s after the kill; copies received: 1"
    )
