"""Pure rules: the wait estimate, verdicts, quality summaries, SDP checks; and the reminders hook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import httpx
import pytest

from backend.booking import reminders
from backend.clinics.errors import MessageInvalid, MessageTooLarge
from backend.clinics.schemas import AppointmentRow
from backend.clinics.signalling import parse
from backend.clinics.verdict import estimate_wait, precall_verdict, rounded_minutes, summarise_quality
from backend.core.config import Settings
from backend.db import pool as db_pool
from tests.clinics.helpers import make_clinic

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("position", "busy_for", "slot_in", "expected"),
    [
        (1, None, -10, 0),  # next, clinician free, slot already started
        (1, 300, -10, 15),  # the clinician is 5 minutes into a 20-minute pace
        (3, 300, -10, 55),  # two more people ahead at 20 minutes each
        (1, 1500, -10, 1),  # the current call overruns: expected to end soon
        (1, None, 30, 30),  # nobody is seen before their slot
    ],
)
def test_wait_estimate_follows_the_nurses_pace(
    position: int, busy_for: float | None, slot_in: int, expected: int
) -> None:
    wait = estimate_wait(
        position=position,
        pace_seconds=20 * 60,
        busy_for_seconds=busy_for,
        slot_starts_at=NOW + timedelta(minutes=slot_in),
        now=NOW,
    )
    assert rounded_minutes(wait) == expected


def test_verdicts_are_plain_language() -> None:
    good = precall_verdict(
        {"rtt_ms": 30, "loss_pct": 0.1, "jitter_ms": 2, "bitrate_kbps": 900},
        audio_only=False,
        media_arrived=True,
    )
    assert (good["level"], good["advice"]) == ("good", [])
    weak = precall_verdict(
        {"rtt_ms": 450, "loss_pct": 3, "bitrate_kbps": 200, "candidate_type": "relay"},
        audio_only=False,
        media_arrived=True,
    )
    assert weak["level"] == "fair"
    assert any("Wi-Fi" in a for a in weak["advice"])
    assert any("relay" in a for a in weak["advice"])
    poor = precall_verdict({"loss_pct": 12}, audio_only=False, media_arrived=True)
    assert poor["level"] == "poor"
    assert "sound only" in poor["headline"]
    audio = precall_verdict({"bitrate_kbps": 48}, audio_only=True, media_arrived=True)
    assert audio["level"] == "good"
    assert "by sound" in audio["headline"]
    failed = precall_verdict({}, audio_only=True, media_arrived=False)
    assert failed["level"] == "failed"
    assert "camera" not in failed["advice"][0]


def test_quality_summary_keeps_worst_values_and_notes_changes() -> None:
    summary, changed = summarise_quality({}, {"level": "good", "rtt_ms": 40.0, "fps": 20.0})
    assert changed
    summary, changed = summarise_quality(summary, {"level": "good", "rtt_ms": 90.0, "fps": 24.0})
    assert not changed
    summary, changed = summarise_quality(summary, {"level": "poor", "fps": 2.0, "audio_only": True})
    assert changed
    assert summary == {
        "samples": 3,
        "last_level": "poor",
        "audio_only": True,
        "worst_level": "poor",
        "audio_only_fallback": True,
        "rtt_ms_max": 90.0,
        "fps_min": 2.0,
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            '{"t":"sdp","to":"00000000-0000-0000-0000-000000000001","pc":"a","description":{"type":"offer",'
            '"sdp":"v=0\\r\\no=x\\r\\ns=-\\r\\nt=0 0\\r\\n"}}',
            "description.sdp: SDP has no m= line",
        ),
        (
            '{"t":"sdp","to":"00000000-0000-0000-0000-000000000001","pc":"a b","description":{"type":"offer",'
            '"sdp":"v=0"}}',
            "pc: String should match pattern",
        ),
        (
            '{"t":"ice","to":"00000000-0000-0000-0000-000000000001","pc":"a","candidate":{"candidate":"evil"}}',
            "candidate.candidate: String should match pattern",
        ),
        ('{"t":"join","clinic":"not-a-uuid"}', "clinic: Input should be a valid UUID"),
        ('{"t":"ping","extra":1}', "extra: Extra inputs are not permitted"),
        ("[]", "message: Input should be an object"),
    ],
)
def test_messages_are_checked_with_a_clear_reason(raw: str, message: str) -> None:
    with pytest.raises(MessageInvalid) as refused:
        parse(raw)
    assert refused.value.detail.startswith(message), refused.value.detail


def test_size_is_checked_before_parsing() -> None:
    with pytest.raises(MessageTooLarge):
        parse('{"t":"ping"}' + " " * 70_000)


class Recorder:
    def __init__(self) -> None:
        self.sent: list[AppointmentRow] = []

    async def send(self, conn: asyncpg.Connection, appointment: AppointmentRow) -> None:
        self.sent.append(appointment)


async def test_reminders_go_once_through_the_adapter(
    client: httpx.AsyncClient, conn: asyncpg.Connection, db_dsn: str
) -> None:
    clinic = await make_clinic(client, conn, start_in=timedelta(hours=3))
    pool = await db_pool.create_pool(db_dsn, min_size=1, max_size=2, role=None)
    try:
        recorder = Recorder()
        assert await reminders.send_due(pool, recorder, within=timedelta(hours=1)) == 0
        assert await reminders.send_due(pool, recorder) == 1
        assert await reminders.send_due(pool, recorder) == 0  # once only
        assert [a.id for a in recorder.sent] == [UUID(clinic.appointments[0]["id"])]
        await conn.execute("UPDATE appointment SET reminder_sent_at = NULL")
        assert await reminders.send_due(pool, reminders.OutboxReminders()) == 1
    finally:
        await pool.close()
    queued = await conn.fetch(
        "SELECT channel, subject FROM outbox_message WHERE subject = 'Appointment reminder'"
    )
    assert sorted(r["channel"] for r in queued) == ["email", "sms"]
    assert Settings().waiting_room_open_minutes == 30
