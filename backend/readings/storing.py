"""What one batch stores, worked out before it is stored (pure; no I/O): the plan of the batch,
its receipt, its reading and alert columns, the stream's new summary and the live event."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from backend.core.config import Settings
from backend.readings import alerts, decode
from backend.readings.decode import Point
from backend.readings.schemas import (
    AlertInsert,
    AlertRow,
    BatchInsert,
    BatchReceipt,
    Level,
    LiveEvent,
    LiveTotals,
    Measure,
    ReadingInsert,
    StreamRow,
    SummaryUpdate,
    TotalsRow,
    Waveform,
)
from sensors.protocol import ReadingBatch
from sensors.signal_quality import quality_word


@dataclass
class Plan:
    """What a batch holds, worked out before touching the database."""

    batch: ReadingBatch
    received_at: datetime
    body_sha256: bytes
    first_offset_s: float
    last_offset_s: float
    samples: int
    points: list[Point] = field(default_factory=list)
    ppg_quality: float | None = None
    no_pulse_reason: str | None = None

    def at(self, offset_s: float) -> datetime:
        return self.batch.started_at + timedelta(seconds=offset_s)

    @property
    def clock_skew_s(self) -> float:
        return round((self.received_at - self.batch.sent_at).total_seconds(), 3)


def plan(batch: ReadingBatch, received_at: datetime) -> Plan:
    # sent_at is left out of the fingerprint: a phone may restamp a batch each time it resends it.
    body = batch.model_dump_json(exclude={"sent_at"}).encode()
    first, last = decode.offsets(batch)
    return Plan(
        batch=batch,
        received_at=received_at,
        body_sha256=hashlib.sha256(body).digest(),
        first_offset_s=first,
        last_offset_s=last,
        samples=decode.sample_count(batch),
        points=decode.device_points(batch),
    )


def _latest(points: Sequence[Point], attr: str) -> float | None:
    for pt in sorted(points, key=lambda q: q.offset_s, reverse=True):
        value = getattr(pt, attr)
        if value is not None:
            return float(value)
    return None


def current_quality(p: Plan) -> float | None:
    """The signal quality this batch tells about: its heart-rate estimate's for PPG (also one that
    gave no rate), else its latest reading's; None when it tells nothing (no estimate was due).
    The phone shows it and the stream keeps it as ``last_quality`` for the clinician, each as the
    word of ``sensors.signal_quality``."""
    if p.batch.ppg is not None:
        return p.ppg_quality
    return _latest(p.points, "quality")


def receipt_for(p: Plan) -> BatchReceipt:
    quality = current_quality(p)
    return BatchReceipt.model_construct(  # every field is given, from typed values
        stream_id=p.batch.stream_id,
        seq=p.batch.seq,
        received_at=p.received_at,
        samples=p.samples,
        readings_stored=len(p.points),
        values_absent=sum(pt.absent_count for pt in p.points),
        heart_rate_bpm=_latest(p.points, "heart_rate_bpm"),
        spo2_pct=_latest(p.points, "spo2_pct"),
        quality=quality,
        quality_word=quality_word(quality) if quality is not None else None,
        no_pulse_reason=p.no_pulse_reason,
        clock_skew_s=p.clock_skew_s,
    )


def _raw_payload(batch: ReadingBatch) -> list[dict[str, Any]] | None:
    if batch.values is not None:
        return [v.model_dump(mode="json", exclude_none=True) for v in batch.values]
    if batch.ble_payloads is not None:
        return [b.model_dump(mode="json") for b in batch.ble_payloads]
    return None


def batch_row(p: Plan, receipt: BatchReceipt) -> BatchInsert:
    """The row to store, from values already validated (by the wire model or here)."""
    batch = p.batch
    return BatchInsert.model_construct(
        stream_id=batch.stream_id,
        seq=batch.seq,
        body_sha256=p.body_sha256,
        payload_kind=batch.payload_kind,
        device=batch.device.model_dump(mode="json"),
        sent_at=batch.sent_at,
        received_at=p.received_at,
        clock_skew_s=p.clock_skew_s,
        first_offset_s=p.first_offset_s,
        last_offset_s=p.last_offset_s,
        payload=_raw_payload(batch),
        ppg_fs=batch.ppg.fs if batch.ppg else None,
        ppg_samples=batch.ppg.samples if batch.ppg else None,
        receipt=receipt,
    )


def reading_rows(p: Plan) -> list[ReadingInsert]:
    return [
        ReadingInsert.model_construct(
            taken_at=p.at(pt.offset_s),
            offset_s=pt.offset_s,
            source=pt.source,
            heart_rate_bpm=pt.heart_rate_bpm,
            spo2_pct=pt.spo2_pct,
            rr_intervals_s=list(pt.rr_intervals_s) if pt.rr_intervals_s else None,
            quality=pt.quality,
            heart_rate_absent=pt.heart_rate_absent,
            spo2_absent=pt.spo2_absent,
        )
        for pt in p.points
    ]


def alert_rows(
    p: Plan, existing: Sequence[AlertRow], level: Level | None, settings: Settings
) -> tuple[list[AlertInsert], Level | None]:
    """This batch's readings per band, and the stream's flagged level once they are added."""
    values: list[tuple[Measure, float, datetime]] = [
        ("heart_rate", pt.heart_rate_bpm, p.at(pt.offset_s))
        for pt in p.points
        if pt.heart_rate_bpm is not None
    ]
    values += [("spo2", pt.spo2_pct, p.at(pt.offset_s)) for pt in p.points if pt.spo2_pct is not None]
    tallies = alerts.tally(values, settings.readings_alert_bands)
    before = {(a.measure, a.level): a.readings for a in existing}
    for t in tallies:
        if before.get((t.measure, t.level), 0) + t.readings >= settings.readings_alert_min_readings:
            level = alerts.higher(level, t.level)
    rows = [
        AlertInsert.model_construct(
            measure=t.measure,
            level=t.level,
            readings=t.readings,
            min_value=t.min_value,
            max_value=t.max_value,
            first_at=t.first_at,
            last_at=t.last_at,
        )
        for t in tallies
    ]
    return rows, level


def _least(a: float | None, b: float | None) -> float | None:
    """PostgreSQL's least(): the smaller, ignoring a missing value."""
    return b if a is None else a if b is None else min(a, b)


def _greatest(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _last_quality(stream: StreamRow, p: Plan) -> float | None:
    """This batch's quality when it tells one and is the stream's latest batch, else the kept one."""
    quality = current_quality(p)
    latest = stream.max_seq is None or p.batch.seq >= stream.max_seq
    return quality if quality is not None and latest else stream.last_quality


def next_summary(stream: StreamRow, p: Plan, alert_level: Level | None) -> SummaryUpdate:
    """The stream's summary once this batch is added to the stream as read."""
    pts = p.points
    hr = [pt.heart_rate_bpm for pt in pts if pt.heart_rate_bpm is not None]
    spo2 = [pt.spo2_pct for pt in pts if pt.spo2_pct is not None]
    quality = [pt.quality for pt in pts if pt.quality is not None]
    last = max(pts, key=lambda q: q.offset_s) if pts else None
    last_at = p.at(last.offset_s) if last is not None else None
    newest = last if last_at is not None and (stream.last_at is None or last_at >= stream.last_at) else None
    skew = p.clock_skew_s
    return SummaryUpdate.model_construct(
        started_at=stream.started_at or p.batch.started_at,
        batches=stream.batches + 1,
        samples=stream.samples + p.samples,
        readings=stream.readings + len(pts),
        absent=stream.absent + sum(pt.absent_count for pt in pts),
        hr_count=stream.hr_count + len(hr),
        hr_sum=stream.hr_sum + sum(hr),
        hr_min=_least(stream.hr_min, min(hr, default=None)),
        hr_max=_greatest(stream.hr_max, max(hr, default=None)),
        spo2_count=stream.spo2_count + len(spo2),
        spo2_sum=stream.spo2_sum + sum(spo2),
        spo2_min=_least(stream.spo2_min, min(spo2, default=None)),
        quality_count=stream.quality_count + len(quality),
        quality_sum=stream.quality_sum + sum(quality),
        first_offset_s=_least(stream.first_offset_s, p.first_offset_s),
        last_offset_s=_greatest(stream.last_offset_s, p.last_offset_s),
        max_seq=max(stream.max_seq, p.batch.seq) if stream.max_seq is not None else p.batch.seq,
        last_at=last_at if newest is not None else stream.last_at,
        last_heart_rate_bpm=newest.heart_rate_bpm if newest is not None else stream.last_heart_rate_bpm,
        last_spo2_pct=newest.spo2_pct if newest is not None else stream.last_spo2_pct,
        last_quality=_last_quality(stream, p),
        last_received_at=p.received_at,
        clock_skew_s=skew,
        max_abs_clock_skew_s=max(stream.max_abs_clock_skew_s or 0.0, abs(skew)),
        alert_level=alert_level,
    )


def _mean(total: float, count: int, digits: int) -> float | None:
    return round(total / count, digits) if count else None


def live_event(p: Plan, receipt: BatchReceipt, totals: TotalsRow) -> str:
    """The small event pushed to live viewers, as JSON text: this batch's values, a decimated
    waveform, totals."""
    wave = None
    if p.batch.ppg is not None:
        samples, fs = decode.decimate(p.batch.ppg.samples, p.batch.ppg.fs)
        wave = Waveform.model_construct(t0_s=p.batch.ppg.t_offset_s, fs=fs, samples=samples)
    duration = None
    if totals.first_offset_s is not None and totals.last_offset_s is not None:
        duration = round(totals.last_offset_s - totals.first_offset_s, 3)
    event = LiveEvent.model_construct(  # built from typed values: no validation on each batch
        type="batch",
        stream_id=p.batch.stream_id,
        seq=p.batch.seq,
        at=p.at(p.last_offset_s),
        heart_rate_bpm=receipt.heart_rate_bpm,
        spo2_pct=receipt.spo2_pct,
        quality=receipt.quality,
        quality_word=receipt.quality_word,
        no_pulse_reason=receipt.no_pulse_reason,
        wave=wave,
        totals=LiveTotals.model_construct(
            batches=totals.batches,
            readings=totals.readings,
            heart_rate_mean_bpm=_mean(totals.hr_sum, totals.hr_count, 2),
            heart_rate_min_bpm=totals.hr_min,
            heart_rate_max_bpm=totals.hr_max,
            spo2_mean_pct=_mean(totals.spo2_sum, totals.spo2_count, 2),
            spo2_min_pct=totals.spo2_min,
            quality=_mean(totals.quality_sum, totals.quality_count, 3),
            duration_s=duration,
            alert_level=totals.alert_level,
        ),
    )
    return event.model_dump_json(exclude_none=True)
