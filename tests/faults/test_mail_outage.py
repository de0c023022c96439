"""Fault: the mail server is down for 30 s (aiosmtpd stopped, then started again on the same
port) while messages are queued. Afterwards every message is delivered exactly once.

The app is a real server on the test's database with the SMTP sender; retries start at 0.2 s and
their backoff is capped at 4 s for the test (production: 30 s, capped at an hour), so delivery
resumes within seconds of the server's return.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import asyncpg
import pytest

from backend.notify import dispatcher
from backend.notify import service as notify
from tests.conftest import Server, free_port
from tests.factories import make_org
from tests.notify.smtp_server import SmtpServer, wait_for

DOWN_S = 30.0
BEFORE, DURING = 10, 30


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def settings_overrides(smtp_port: int) -> dict[str, object]:
    return {
        "mail_sender": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_security": "none",
        "mail_from": "Demo OH <no-reply@oh.example>",
        "mail_poll_seconds": 0.1,
        "mail_retry_base_seconds": 0.2,
        "mail_max_attempts": 100,  # the outage must not exhaust the attempts
    }


async def _queue(conn: asyncpg.Connection, provider_id: object, numbers: range) -> None:
    async with conn.transaction():
        for n in numbers:
            await notify.enqueue(
                conn,
                recipient=f"worker{n}@employer.example",
                subject=f"Message {n}",
                body=f"Fictional message number {n}.",
                provider_id=provider_id,  # type: ignore[arg-type]
                kind="fault.test",
            )


@pytest.mark.timeout(120)
async def test_messages_queued_while_the_mail_server_is_down_arrive_once(
    server: Server, conn: asyncpg.Connection, smtp_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatcher, "MAX_DELAY_S", 4.0)
    provider = await make_org(conn, "provider")
    smtp = SmtpServer(smtp_port)
    smtp.start()
    try:
        await _queue(conn, provider.id, range(BEFORE))
        await wait_for(lambda: len(smtp.recorder.received) == BEFORE, what="the first messages")

        smtp.stop()
        down_at = time.monotonic()
        await _queue(conn, provider.id, range(BEFORE, BEFORE + DURING))
        await asyncio.sleep(DOWN_S)
        during = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE status = 'sent') AS sent, sum(attempts) AS attempts,"
            " count(*) FILTER (WHERE status = 'failed') AS failed"
            " FROM outbox_message WHERE kind = 'fault.test'"
        )
        assert during is not None
        smtp.start()
        back_at = time.monotonic()
        await wait_for(
            lambda: len(smtp.recorder.received) >= BEFORE + DURING, timeout_s=30, what="every message"
        )
        drained_s = time.monotonic() - back_at
        await asyncio.sleep(2.0)  # time for any second delivery to show
    finally:
        smtp.stop()

    rows = await conn.fetch(
        "SELECT recipient, status, attempts FROM outbox_message WHERE kind = 'fault.test'"
    )
    arrived = Counter(r for got in smtp.recorder.received for r in got.recipients)
    ids = Counter(got.message["Message-ID"] for got in smtp.recorder.received)
    wanted = {f"worker{n}@employer.example" for n in range(BEFORE + DURING)}
    outage_attempts = [r["attempts"] for r in rows if int(r["recipient"][6:].split("@")[0]) >= BEFORE]
    print(
        f"\ntried: {BEFORE} messages delivered, then the SMTP server stopped for "
        f"{back_at - down_at:.1f} s while {DURING} more were queued (meanwhile {during['sent'] - BEFORE} "
        f"sent, {during['failed']} failed, {during['attempts'] - BEFORE} delivery attempts in all)"
        f"\nsurvived: {len(arrived)} of {BEFORE + DURING} recipients got their message, "
        f"{sum(n - 1 for n in arrived.values())} duplicates, {len(ids)} distinct Message-IDs; "
        f"the queue drained {drained_s:.1f} s after the server returned; attempts per queued message "
        f"{min(outage_attempts)}-{max(outage_attempts)}"
    )
    assert during["sent"] == BEFORE, "nothing was delivered while the server was down"
    assert during["failed"] == 0
    assert set(arrived) == wanted, "lost messages"
    assert set(arrived.values()) == {1}, "a message arrived twice"
    assert len(ids) == BEFORE + DURING
    assert {r["status"] for r in rows} == {"sent"}
    assert min(outage_attempts) >= 3, "each was retried through the outage"
