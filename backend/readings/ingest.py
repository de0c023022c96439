"""Batch ingestion: one ``ReadingBatch`` in one transaction, in few round trips.

1. Lock the stream row (batches of one stream are stored one at a time), fetching in the same
   query whether the device token is this stream's, any earlier batch with this number, the
   alert-band counts and the PPG runs behind this batch.
2. A repeat of (stream_id, seq) gets the original receipt; nothing is stored.
3. Check consent, state, time (against the server's clock and the neighbouring batches), turn
   PPG into a heart rate, and work out the receipt, readings, alert counts and summary.
4. One statement stores it all (``INSERT ... ON CONFLICT DO NOTHING`` for the batch: a racing
   repeat stores nothing), then the audit row, then the live event, which PostgreSQL delivers
   only on commit.
"""

from __future__ import annotations

import math
from datetime import timedelta

import asyncpg

from backend.audit.schemas import Actor
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.core.errors import Unauthenticated
from backend.db import pubsub
from backend.readings import decode, queries, storing
from backend.readings.errors import (
    BatchConflict,
    BatchInvalid,
    ConsentRequired,
    ReadingsForbidden,
    StreamClosed,
    StreamNotFound,
)
from backend.readings.schemas import BatchReceipt, LockedStream, PpgRunRow, StoredBatch, StreamRow
from backend.readings.service import (
    DEVICE_REFUSED,
    Writer,
    channel,
    device_actor,
    device_token_stream,
    record_stream,
    scope_for,
    use_case,
)
from backend.readings.storing import Plan
from sensors.protocol import ReadingBatch

MAX_AGE = timedelta(days=7)  # readings older than this (by the phone's clock) are refused
MAX_AHEAD = timedelta(minutes=10)  # and so are readings this far ahead of the server's clock
MAX_LOOKBACK = 600  # batches searched for the PPG window
_known_months: set[tuple[int, int]] = set()  # partitions this process has made sure of


def _actor(writer: Writer, stream: StreamRow | None) -> Actor:
    if writer.user is not None:
        return writer.user.actor()
    if stream is not None:
        return device_actor(stream)
    return Actor(id=None, role="device", organisation_id=None)


async def _check_writer(conn: asyncpg.Connection, writer: Writer, locked: LockedStream) -> None:
    stream = locked.stream
    if writer.device_token_hash is not None:
        if locked.token_ok:
            return
        if await device_token_stream(conn, writer) is None:
            raise Unauthenticated(DEVICE_REFUSED)
        raise StreamNotFound()  # a valid token, for another stream
    user = writer.user
    if user is None or user.id != stream.employee_id:
        if (
            user is not None
            and scope_for(user).kind == "clinician"
            and user.organisation_id == stream.provider_id
        ):
            raise ReadingsForbidden("Only the employee's phone sends readings.")
        raise StreamNotFound()


def _check_state(stream: StreamRow, p: Plan) -> None:
    batch = p.batch
    if not stream.consent_active:
        raise ConsentRequired("Consent to collect pulse readings was withdrawn; nothing more is stored.")
    if stream.status != "open":
        raise StreamClosed("This measurement has ended; start a new one to send more readings.")
    if batch.device.kind != stream.device_kind:
        raise BatchInvalid(f"This stream is for a {stream.device_kind} device, not {batch.device.kind}.")
    if stream.started_at is not None and batch.started_at != stream.started_at:
        raise BatchInvalid("started_at differs from the stream's first batch; keep it for the whole stream.")
    if p.at(p.first_offset_s) < p.received_at - MAX_AGE:
        raise BatchInvalid("These readings are more than 7 days old (check the phone's clock).")
    if p.at(p.last_offset_s) > p.received_at + MAX_AHEAD:
        raise BatchInvalid("These readings lie in the future (check the phone's clock).")


async def _check_order(conn: asyncpg.Connection, stream: StreamRow, p: Plan) -> None:
    """Times never go backwards across batches: after every earlier batch, before every later one."""
    seq = p.batch.seq
    if stream.max_seq is None or seq > stream.max_seq:
        before, after = stream.last_offset_s, None
    else:
        before, after = await queries.neighbour_offsets(conn, stream.id, seq)
    if before is not None and p.first_offset_s < before:
        raise BatchInvalid(
            f"Batch {seq} starts at {p.first_offset_s:g} s, before an earlier batch ends ({before:g} s)."
        )
    if after is not None and p.last_offset_s > after:
        raise BatchInvalid(
            f"Batch {seq} ends at {p.last_offset_s:g} s, after a later batch starts ({after:g} s)."
        )


def _due_run(batch: ReadingBatch) -> PpgRunRow | None:
    """The batch's PPG run when a heart-rate estimate is due with it, else None."""
    run = batch.ppg
    if run is None:
        return None
    current = PpgRunRow.model_construct(
        seq=batch.seq, first_offset_s=run.t_offset_s, fs=run.fs, samples=run.samples
    )
    return current if decode.estimate_due(current) else None


def _ppg_lookback(current: PpgRunRow | None) -> int:
    """How many sequence numbers back the PPG window may reach (0 when no estimate is due)."""
    if current is None:
        return 0
    per_batch = max(len(current.samples) / current.fs, 0.05)
    return min(MAX_LOOKBACK, math.ceil(decode.WINDOW_S / per_batch) + 1)


def _heart_rate_from_ppg(current: PpgRunRow | None, locked: LockedStream, p: Plan) -> None:
    if current is None:
        return  # not a PPG batch, or no estimate due: the receipt says nothing about the heart rate
    result = decode.heart_rate_from_ppg(current, locked.ppg_runs)
    p.ppg_quality, p.no_pulse_reason = result.quality, result.reason
    if result.point is not None:
        p.points.append(result.point)


async def _ensure_partitions(conn: asyncpg.Connection, p: Plan) -> list[tuple[int, int]]:
    """Make sure the month partitions for this batch's readings exist; returns the months checked."""
    months = {(at.year, at.month): at for at in (p.at(pt.offset_s) for pt in p.points)}
    new = [m for m in months if m not in _known_months]
    for month in new:
        await queries.ensure_partition(conn, months[month])
    return new


def _repeat(stored: StoredBatch, p: Plan) -> BatchReceipt:
    if stored.body_sha256 != p.body_sha256:
        raise BatchConflict(
            f"Batch {p.batch.seq} of this stream was already received with different content."
        )
    return stored.receipt


async def ingest(
    conn: asyncpg.Connection, writer: Writer, batch: ReadingBatch, *, settings: Settings
) -> tuple[BatchReceipt, bool]:
    """Store one batch: (receipt, True) when new; (the original receipt, False) for a repeat."""
    p = storing.plan(batch, utc_now())
    current = _due_run(batch)
    checked: list[tuple[int, int]] = []
    async with use_case(
        conn, _actor(writer, None), "readings.batch.ingest", "reading_stream", batch.stream_id
    ):
        locked = await queries.lock_stream_for_batch(
            conn, batch.stream_id, batch.seq, writer.device_token_hash, _ppg_lookback(current)
        )
        if locked is None:
            raise StreamNotFound()
        await _check_writer(conn, writer, locked)
        stream, actor = locked.stream, _actor(writer, locked.stream)
        if locked.stored is not None:
            receipt = _repeat(locked.stored, p)
            await record_stream(conn, actor, "readings.batch.repeat", stream)
            return receipt, False
        _check_state(stream, p)
        await _check_order(conn, stream, p)
        _heart_rate_from_ppg(current, locked, p)
        receipt = storing.receipt_for(p)
        if p.points:
            checked = await _ensure_partitions(conn, p)
        alert_columns, level = storing.alert_columns(p, locked.alerts, locked.alert_level, settings)
        totals = await queries.store_batch(
            conn,
            storing.batch_row(p, receipt),
            storing.reading_columns(p),
            alert_columns,
            storing.summary_values(p, level),
        )
        if totals is None:  # stored meanwhile by a request that did not take the stream lock
            again = await queries.get_batch(conn, stream.id, batch.seq)
            if again is None:
                raise RuntimeError("a conflicting batch vanished")
            await record_stream(conn, actor, "readings.batch.repeat", stream)
            return _repeat(again, p), False
        await record_stream(conn, actor, "readings.batch.ingest", stream)
        await pubsub.publish(conn, channel(stream.id), storing.live_event(p, receipt, totals))
    _known_months.update(checked)  # only once the partitions are committed
    return receipt, True
