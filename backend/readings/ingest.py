"""Batch ingestion: one ``ReadingBatch`` stored in two round trips, with no explicit transaction.

1. Read the stream, fetching in the same query whether the device token is this stream's, any
   earlier batch with this number, the alert-band counts and the PPG runs behind this batch.
2. A repeat of (stream_id, seq) gets the original receipt; nothing is stored.
3. Check consent, state, time (against the server's clock and the neighbouring batches), turn
   PPG into a heart rate, and work out the receipt, readings, alert counts and the new summary.
4. One statement stores it all (the summary, the raw batch, readings, alert counts, audit row and
   live event), so it commits or fails as a whole, and only while the stream still holds the
   batches it held when read. If another batch of the stream was stored in between, start again;
   after a few such losses, read the stream locked (batches of one stream then wait their turn).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import timedelta
from uuid import UUID

import asyncpg

from backend.audit.schemas import Actor
from backend.core.clock import utc_now
from backend.core.config import Settings
from backend.core.errors import Unauthenticated
from backend.db import pubsub, scope
from backend.db.grouped import WriteGroups
from backend.readings import decode, queries, storing
from backend.readings.errors import (
    BatchConflict,
    BatchInvalid,
    ConsentRequired,
    ReadingsForbidden,
    StreamClosed,
    StreamNotFound,
)
from backend.readings.estimating import Estimator
from backend.readings.recent import Recent, RecentStreams, after_store, merge_alerts
from backend.readings.schemas import (
    AlertInsert,
    BatchReceipt,
    BatchStore,
    PpgRunRow,
    StoredBatch,
    StreamForBatch,
    StreamRow,
    SummaryUpdate,
)
from backend.readings.service import (
    DEVICE_REFUSED,
    Writer,
    audit_event,
    audited_refusals,
    channel,
    device_actor,
    device_token_stream,
    record_stream,
    scope_for,
)
from backend.readings.storing import Plan
from sensors.protocol import ReadingBatch

MAX_AGE = timedelta(days=7)  # readings older than this (by the phone's clock) are refused
MAX_AHEAD = timedelta(minutes=10)  # and so are readings this far ahead of the server's clock
MAX_LOOKBACK = 600  # batches searched for the PPG window
OPTIMISTIC_TRIES = 3  # attempts without a lock before waiting for the stream
_known_months: set[tuple[int, int]] = set()  # partitions this process has made sure of


def _actor(writer: Writer, stream: StreamRow | None) -> Actor:
    if writer.user is not None:
        return writer.user.actor()
    if stream is not None:
        return device_actor(stream)
    return Actor(id=None, role="device", organisation_id=None)


async def _check_writer(conn: asyncpg.Connection, writer: Writer, found: StreamForBatch) -> None:
    stream = found.stream
    if writer.device_token_hash is not None:
        if found.token_ok:
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


def _run(batch: ReadingBatch) -> PpgRunRow | None:
    """The batch's PPG run (None for other payloads)."""
    run = batch.ppg
    if run is None:
        return None
    return PpgRunRow.model_construct(
        seq=batch.seq, first_offset_s=run.t_offset_s, fs=run.fs, samples=run.samples
    )


def _ppg_lookback(run: PpgRunRow | None) -> int:
    """How many sequence numbers back the PPG window behind ``run`` may reach (0: not PPG)."""
    if run is None:
        return 0
    per_batch = max(len(run.samples) / run.fs, 0.05)
    return min(MAX_LOOKBACK, math.ceil(decode.WINDOW_S / per_batch) + 1)


async def _heart_rate_from_ppg(
    run: PpgRunRow | None, found: StreamForBatch, p: Plan, estimator: Estimator
) -> None:
    """The heart rate over the PPG window when an estimate is due, estimated off the event loop."""
    if run is None or not decode.estimate_due(run):
        return  # not a PPG batch, or no estimate due: the receipt says nothing about the heart rate
    window = decode.ppg_window(run, found.ppg_runs)
    result = decode.collecting(run, window)
    if result is None:
        result = decode.ppg_result(run, await estimator.estimate(window, run.fs))
    p.ppg_quality, p.no_pulse_reason = result.quality, result.reason
    if result.point is not None:
        p.points.append(result.point)


async def _ensure_partitions(conn: asyncpg.Connection, p: Plan) -> None:
    """Make sure the month partitions for this batch's readings exist (remembered once committed)."""
    months = {(at.year, at.month): at for at in (p.at(pt.offset_s) for pt in p.points)}
    for month in [m for m in months if m not in _known_months]:
        await queries.ensure_partition(conn, months[month])
        if not conn.is_in_transaction():
            _known_months.add(month)


def _repeat(stored: StoredBatch, p: Plan) -> BatchReceipt:
    if stored.body_sha256 != p.body_sha256:
        raise BatchConflict(
            f"Batch {p.batch.seq} of this stream was already received with different content."
        )
    return stored.receipt


def _batch_groups() -> WriteGroups[BatchStore, bool]:
    return WriteGroups(queries.store_batches, lambda store: store.batch.stream_id)


@dataclass(frozen=True, slots=True)
class Ingestion:
    """What storing batches needs besides the batch, one per app process."""

    settings: Settings
    estimator: Estimator
    recent: RecentStreams
    groups: WriteGroups[BatchStore, bool] = field(default_factory=_batch_groups)

    async def store(self, conn: asyncpg.Connection, store: BatchStore) -> bool:
        """Store one batch, in one statement with the batches of other streams stored at the same
        time (``backend.db.grouped``); alone on a connection narrowed to one organisation, whose
        row security the others' batches must not pass through."""
        if not scope.is_default(conn):
            return (await queries.store_batches(conn, [store]))[0]
        return await self.groups.write(conn, store)


async def ingest(
    conn: asyncpg.Connection, writer: Writer, batch: ReadingBatch, ingestion: Ingestion
) -> tuple[BatchReceipt, bool]:
    """Store one batch: (receipt, True) when new; (the original receipt, False) for a repeat."""
    p = storing.plan(batch, utc_now())
    run = _run(batch)
    async with audited_refusals(
        conn, _actor(writer, None), "readings.batch.ingest", "reading_stream", batch.stream_id
    ):
        remembered = _remembered(ingestion.recent, writer, p, run)
        if remembered is not None:  # stored without reading the stream, unless it changed
            outcome = await _store(conn, writer, p, run, remembered, ingestion)
            if outcome is not None:
                return outcome
            ingestion.recent.drop(batch.stream_id)
        for _ in range(OPTIMISTIC_TRIES):
            outcome = await _try_store(conn, writer, p, run, ingestion, lock=False)
            if outcome is not None:
                return outcome
        async with conn.transaction():  # the stream is busy: wait for it instead
            outcome = await _try_store(conn, writer, p, run, ingestion, lock=True)
    if outcome is None:
        raise RuntimeError("a batch could not be stored with its stream locked")
    return outcome


def _writer_key(writer: Writer) -> bytes | UUID | None:
    if writer.device_token_hash is not None:
        return writer.device_token_hash
    return writer.user.id if writer.user is not None else None


def _remembered(
    recent: RecentStreams, writer: Writer, p: Plan, run: PpgRunRow | None
) -> tuple[StreamForBatch, int] | None:
    """The stream as this process last stored it, when that is enough to store this batch (see
    ``recent``): (the stream as if read, the first sequence number whose PPG run it holds)."""
    entry = recent.get(p.batch.stream_id)
    if entry is None or entry.writer != _writer_key(writer):
        return None
    stream = entry.stream
    if stream.max_seq is None or p.batch.seq <= stream.max_seq:
        return None  # a repeat or an earlier batch: read what the stream holds around it
    expires = stream.device_token_expires_at
    if writer.device_token_hash is not None and (expires is None or expires <= p.received_at):
        return None
    if run is not None and entry.runs_from_seq > p.batch.seq - _ppg_lookback(run):
        return None  # the window behind this batch reaches runs the entry does not hold
    found = StreamForBatch.model_construct(
        stream=stream,
        alert_level=entry.alert_level,
        token_ok=True,
        stored=None,
        alerts=list(entry.alerts),
        ppg_runs=list(entry.runs),
    )
    return found, entry.runs_from_seq


async def _try_store(
    conn: asyncpg.Connection,
    writer: Writer,
    p: Plan,
    run: PpgRunRow | None,
    ingestion: Ingestion,
    *,
    lock: bool,
) -> tuple[BatchReceipt, bool] | None:
    """One attempt after reading the stream; None when it changed between reading and storing."""
    batch = p.batch
    lookback = _ppg_lookback(run)  # the whole window, due or not: the stream is then remembered with it
    found = await queries.stream_for_batch(
        conn, batch.stream_id, batch.seq, writer.device_token_hash, lookback, lock=lock
    )
    if found is None:
        raise StreamNotFound()
    await _check_writer(conn, writer, found)
    if found.stored is not None:
        receipt = _repeat(found.stored, p)
        await record_stream(conn, _actor(writer, found.stream), "readings.batch.repeat", found.stream)
        return receipt, False
    return await _store(conn, writer, p, run, (found, batch.seq - lookback), ingestion)


async def _store(
    conn: asyncpg.Connection,
    writer: Writer,
    p: Plan,
    run: PpgRunRow | None,
    read: tuple[StreamForBatch, int],
    ingestion: Ingestion,
) -> tuple[BatchReceipt, bool] | None:
    """Check and store a new batch against the stream as read (or remembered); None when the
    stream changed meanwhile."""
    found, runs_from = read
    stream, actor = found.stream, _actor(writer, found.stream)
    _check_state(stream, p)
    await _check_order(conn, stream, p)
    p = replace(p, points=list(p.points))  # each attempt adds its own heart-rate estimate
    await _heart_rate_from_ppg(run, found, p, ingestion.estimator)
    receipt = storing.receipt_for(p)
    if p.points:
        await _ensure_partitions(conn, p)
    alert_rows, level = storing.alert_rows(p, found.alerts, found.alert_level, ingestion.settings)
    summary = storing.next_summary(stream, p, level)
    live_channel, event = pubsub.notification(
        channel(stream.id), storing.live_event(p, receipt, summary.totals())
    )
    store = BatchStore.model_construct(
        batch=storing.batch_row(p, receipt),
        readings=storing.reading_rows(p),
        alerts=alert_rows,
        summary=summary,
        batches_read=stream.batches,
        token_hash=writer.device_token_hash,
        audit=audit_event(actor, "readings.batch.ingest", stream),
        channel=live_channel,
        event=event,
    )
    try:
        stored = await ingestion.store(conn, store)
    except asyncpg.UniqueViolationError:  # stored meanwhile by another request: read it again
        return None
    if not stored:
        return None
    _remember(ingestion.recent, writer, p, run, (found, runs_from), summary, alert_rows)
    return receipt, True


def _remember(
    recent: RecentStreams,
    writer: Writer,
    p: Plan,
    run: PpgRunRow | None,
    read: tuple[StreamForBatch, int],
    summary: SummaryUpdate,
    alert_rows: list[AlertInsert],
) -> None:
    """Remember the stream as it stands after this batch, when the batch came after every other."""
    found, runs_from = read
    key, seq = _writer_key(writer), p.batch.seq
    if key is None or (found.stream.max_seq is not None and seq <= found.stream.max_seq):
        recent.drop(p.batch.stream_id)
        return
    runs: tuple[PpgRunRow, ...] = ()
    if run is not None:
        keep = seq + 1 - _ppg_lookback(run)
        runs = (run, *(r for r in found.ppg_runs if r.seq >= keep))
        runs_from = max(runs_from, keep)
    else:
        runs_from = seq + 1
    recent.put(
        Recent(
            stream=after_store(found.stream, summary),
            alert_level=summary.alert_level,
            alerts=merge_alerts(found.alerts, alert_rows, found.stream.id),
            runs=runs,
            runs_from_seq=runs_from,
            writer=key,
        )
    )
