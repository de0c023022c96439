"""Several app processes deliver one outbox together: every message exactly once."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from backend.core.config import Settings
from backend.notify import service as notify
from backend.notify.dispatcher import MAX_DELAY_S, Policy, deliver_pending
from backend.notify.senders import build
from tests.conftest import Server
from tests.notify.conftest import FROM
from tests.notify.smtp_server import SmtpServer, wait_for
from tests.processes import app_process

COUNT = 60


async def test_two_processes_deliver_every_message_exactly_once(
    server: Server, db_dsn: str, conn: asyncpg.Connection, smtp: SmtpServer, smtp_port: int
) -> None:
    env = {
        "OHCONNECT_MAIL_SENDER": "smtp",
        "OHCONNECT_SMTP_HOST": "127.0.0.1",
        "OHCONNECT_SMTP_PORT": str(smtp_port),
        "OHCONNECT_SMTP_SECURITY": "none",
        "OHCONNECT_MAIL_FROM": FROM,
        "OHCONNECT_MAIL_POLL_SECONDS": "0.1",
        "OHCONNECT_MAIL_RETRY_BASE_SECONDS": "0.2",
    }
    smtp.start()
    async with app_process(db_dsn, env):
        async with conn.transaction():
            for i in range(COUNT):
                await notify.enqueue(
                    conn, recipient=f"person{i}@example.example", subject=f"n{i}", body="Hello"
                )
        await wait_for(
            lambda: conn.fetchval("SELECT count(*) = $1 FROM outbox_message WHERE status = 'sent'", COUNT),
            timeout_s=60,
            what="every message sent",
        )
    subjects = sorted(r.message["Subject"] for r in smtp.recorder.received)
    assert subjects == sorted(f"n{i}" for i in range(COUNT))
    assert await conn.fetchval("SELECT max(attempts) FROM outbox_message") >= 1
    claimed_by = await conn.fetchval("SELECT count(*) FROM outbox_message WHERE claim_id IS NOT NULL")
    assert claimed_by == 0


async def test_a_stopping_process_hands_back_the_messages_it_has_not_tried(
    db_dsn: str, conn: asyncpg.Connection, smtp: SmtpServer, smtp_port: int
) -> None:
    smtp.recorder.delay_s = 3.0
    smtp.start()
    async with conn.transaction():
        for i in range(3):
            await notify.enqueue(conn, recipient=f"person{i}@example.example", subject=f"n{i}", body="Hello")
    settings = Settings(
        environment="test", mail_sender="smtp", smtp_host="127.0.0.1", smtp_port=smtp_port,
        smtp_security="none", mail_from=FROM,
    )  # fmt: skip
    pool = await asyncpg.create_pool(db_dsn, min_size=1, max_size=2)
    try:
        rounds = asyncio.create_task(deliver_pending(pool, build(settings), Policy()))
        await wait_for(
            lambda: conn.fetchval("SELECT count(*) = 3 FROM outbox_message WHERE status = 'sending'"),
            what="the claim",
        )
        await asyncio.sleep(0.5)
        rounds.cancel()
        with pytest.raises(asyncio.CancelledError):
            await rounds
    finally:
        await pool.close()
    rows = await conn.fetch("SELECT status, attempts, claim_id IS NULL AS free FROM outbox_message")
    # The message in flight waits for its lease; the two not yet tried are free again at once.
    assert sorted((r["status"], r["attempts"], r["free"]) for r in rows) == [
        ("pending", 0, True),
        ("pending", 0, True),
        ("sending", 1, False),
    ]


@pytest.mark.parametrize("attempts", [1, 2, 5, 12, 40])
def test_retry_delays_grow_exponentially_with_jitter_and_a_ceiling(attempts: int) -> None:
    policy = Policy(retry_base_s=30.0)
    delays = [policy.retry_delay(attempts) for _ in range(200)]
    ceiling = min(MAX_DELAY_S, 30.0 * 2 ** (attempts - 1))
    assert all(min(30.0, ceiling) <= d <= ceiling for d in delays)
    if attempts > 1:
        assert len({round(d, 3) for d in delays}) > 100  # jittered, not one fixed delay
