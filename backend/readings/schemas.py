"""Readings API models and the typed rows the queries return.

The batch wire format itself is ``sensors.protocol.ReadingBatch`` (defined once, there).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer

from backend.core.listing import Page
from sensors.protocol import DeviceInfo, DeviceKind
from sensors.signal_quality import QualityWord

Measure = Literal["heart_rate", "spo2"]
Level = Literal["low", "medium", "high"]
AbsentReason = Literal["not-a-number", "positive-infinity", "negative-infinity", "error"]
Source = Literal["value", "2a37", "2a5e", "2a5f", "ppg"]
StreamStatus = Literal["open", "closed"]
# Bytes as PostgreSQL's hex text ("\\x0a1b"), so that a JSON record can fill a bytea column.
Bytea = Annotated[bytes, PlainSerializer(lambda b: "\\x" + b.hex(), return_type=str, when_used="json")]

_STREAM_ID = "3f2c1b0a-9e8d-4c7b-a6f5-e4d3c2b1a090"
_APPOINTMENT_ID = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"


# -- consent (domain C6) ------------------------------------------------------------------------


class ConsentStatement(BaseModel):
    """What the employee is told before agreeing; ``version`` names this exact wording."""

    version: str
    title: str
    points: list[str]


class ConsentCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"statement_version": "c6-2026-1", "agree": True}]},
    )

    statement_version: str = Field(min_length=1, max_length=40, description="the version shown to you")
    agree: Literal[True] = Field(description="I agree to my pulse readings being collected as described")
    appointment_id: UUID | None = None


class Consent(BaseModel):
    id: UUID
    statement_version: str
    given_at: AwareDatetime
    withdrawn_at: AwareDatetime | None
    appointment_id: UUID | None


class ConsentStatus(BaseModel):
    statement: ConsentStatement
    consent: Consent | None = Field(description="your consent now in force, or null")


# -- streams ------------------------------------------------------------------------------------


class StreamCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": _STREAM_ID,
                    "device": {"kind": "camera", "model": "Phone camera"},
                    "appointment_id": _APPOINTMENT_ID,
                }
            ]
        },
    )

    id: UUID | None = Field(
        default=None, description="an id chosen by the phone; omitted: the server picks one"
    )
    device: DeviceInfo
    appointment_id: UUID | None = None


class AlertFlag(BaseModel):
    """Readings of one measure that fell in one alert band. A prompt for clinical review only."""

    measure: Measure
    level: Level
    readings: int
    min_value: float
    max_value: float
    first_at: AwareDatetime
    last_at: AwareDatetime
    flagged: bool = Field(description="true once enough readings fell in the band")


class StreamSummary(BaseModel):
    id: UUID
    employee_id: UUID
    employee_name: str
    appointment_id: UUID | None
    device_kind: DeviceKind
    device_model: str
    status: StreamStatus
    created_at: AwareDatetime
    closed_at: AwareDatetime | None
    started_at: AwareDatetime | None
    batches: int
    samples: int = Field(description="numbers received: values, BLE notifications and PPG samples")
    readings: int = Field(description="readings stored (a PPG run counts once, and only with a pulse)")
    values_absent: int = Field(description="device values that were not numbers (no contact, NaN, ...)")
    heart_rate_mean_bpm: float | None
    heart_rate_min_bpm: float | None
    heart_rate_max_bpm: float | None
    spo2_mean_pct: float | None
    spo2_min_pct: float | None
    quality: float | None = Field(description="mean signal quality 0..1 of the readings")
    duration_s: float | None
    last_at: AwareDatetime | None
    last_heart_rate_bpm: float | None
    last_spo2_pct: float | None
    last_quality: float | None = Field(
        description="signal quality 0..1 of the latest estimate (for PPG also one that gave no rate)"
    )
    quality_word: QualityWord = Field(
        description="the word for last_quality, the same as the phone shows (sensors.signal_quality)"
    )
    last_received_at: AwareDatetime | None
    clock_skew_s: float | None = Field(
        description="server receipt time minus the phone's sent_at, last batch"
    )
    max_abs_clock_skew_s: float | None
    alert_level: Level | None = Field(
        description="highest flagged band; for clinical review, never a decision"
    )
    alerts: list[AlertFlag]


class StreamCreated(BaseModel):
    stream: StreamSummary
    device_token: str = Field(description="write-only token for this stream's batches; shown once")
    device_token_expires_at: AwareDatetime


StreamPage = Page[StreamSummary]


class ReadingOut(BaseModel):
    taken_at: AwareDatetime
    source: Source
    heart_rate_bpm: float | None
    spo2_pct: float | None
    rr_intervals_s: list[float] | None
    quality: float | None
    heart_rate_absent: AbsentReason | None
    spo2_absent: AbsentReason | None


class BatchReceipt(BaseModel):
    """What was stored for one batch; a repeat of the same (stream_id, seq) gets this again."""

    stream_id: UUID
    seq: int
    received_at: AwareDatetime
    samples: int
    readings_stored: int
    values_absent: int
    heart_rate_bpm: float | None = Field(description="the latest heart rate stored from this batch")
    spo2_pct: float | None
    quality: float | None = Field(description="signal quality 0..1 of this batch's latest estimate")
    quality_word: QualityWord | None = Field(
        default=None, description="the word for quality, as the clinician sees it (sensors.signal_quality)"
    )
    no_pulse_reason: str | None = Field(description="for PPG: why no heart rate was reported")
    clock_skew_s: float


# -- live view ----------------------------------------------------------------------------------


class Waveform(BaseModel):
    t0_s: float = Field(description="offset of the first sample from the stream start")
    fs: float
    samples: list[float]


class LiveTotals(BaseModel):
    """The stream's running figures after a batch."""

    batches: int
    readings: int
    heart_rate_mean_bpm: float | None
    heart_rate_min_bpm: float | None
    heart_rate_max_bpm: float | None
    spo2_mean_pct: float | None
    spo2_min_pct: float | None
    quality: float | None
    duration_s: float | None
    alert_level: Level | None


class LiveEvent(BaseModel):
    """Pushed on ``WS /ws/readings/{stream_id}``: ``snapshot`` on connecting (and after a missed
    event), ``batch`` for every stored batch, ``closed`` when the measurement ends."""

    type: Literal["batch", "snapshot", "closed"]
    stream_id: UUID
    seq: int | None = None
    at: AwareDatetime | None = None
    heart_rate_bpm: float | None = None
    spo2_pct: float | None = None
    quality: float | None = None
    quality_word: QualityWord | None = None
    no_pulse_reason: str | None = None
    alert_level: Level | None = None
    wave: Waveform | None = None
    totals: LiveTotals | None = None
    summary: StreamSummary | None = None


# -- rows ---------------------------------------------------------------------------------------


class RunningTotals(BaseModel):
    """The sums and extremes a stream's summary is computed from, kept current on every batch."""

    hr_count: int
    hr_sum: float
    hr_min: float | None
    hr_max: float | None
    spo2_count: int
    spo2_sum: float
    spo2_min: float | None
    quality_count: int
    quality_sum: float
    first_offset_s: float | None
    last_offset_s: float | None


class SummaryColumns(RunningTotals):
    """A stream's running summary as stored on its row."""

    started_at: AwareDatetime | None
    batches: int
    samples: int
    readings: int
    absent: int
    max_seq: int | None
    last_at: AwareDatetime | None
    last_heart_rate_bpm: float | None
    last_spo2_pct: float | None
    last_quality: float | None
    last_received_at: AwareDatetime | None
    clock_skew_s: float | None
    max_abs_clock_skew_s: float | None


class StreamRow(SummaryColumns):
    id: UUID
    employee_id: UUID
    employee_name: str
    employer_id: UUID
    provider_id: UUID
    consent_id: UUID
    consent_active: bool
    appointment_id: UUID | None
    device_kind: DeviceKind
    device_model: str
    device_token_expires_at: AwareDatetime | None
    status: StreamStatus
    created_at: AwareDatetime
    closed_at: AwareDatetime | None


class AlertRow(BaseModel):
    stream_id: UUID
    measure: Measure
    level: Level
    readings: int
    min_value: float
    max_value: float
    first_at: AwareDatetime
    last_at: AwareDatetime


class ConsentRow(Consent):
    employee_id: UUID


class StoredBatch(BaseModel):
    body_sha256: bytes
    receipt: BatchReceipt


class PpgRunRow(BaseModel):
    seq: int
    first_offset_s: float
    fs: float
    samples: list[float]


class ReadingRow(ReadingOut):
    seq: int
    offset_s: float


class TotalsRow(RunningTotals):
    batches: int
    readings: int
    alert_level: Level | None


class SummaryUpdate(SummaryColumns):
    """A stream's summary columns once one more batch is stored (the stream's totals as read,
    plus the batch: written only while the stream still holds as many batches as when read)."""

    alert_level: Level | None

    def totals(self) -> TotalsRow:
        return TotalsRow.model_construct(**{name: getattr(self, name) for name in TotalsRow.model_fields})


class StreamForBatch(BaseModel):
    """A stream as read for storing one batch, with what storing that batch needs."""

    stream: StreamRow
    alert_level: Level | None
    token_ok: bool  # the device token given is this stream's, and unexpired
    stored: StoredBatch | None  # the batch with this number, if it was stored before
    alerts: list[AlertRow]
    ppg_runs: list[PpgRunRow]  # the stream's latest PPG runs before this batch, newest first


class BatchInsert(BaseModel):
    """One batch as stored: the raw payload and its receipt."""

    stream_id: UUID
    seq: int
    body_sha256: Bytea
    payload_kind: Literal["values", "ble_payloads", "ppg"]
    device: dict[str, Any]
    sent_at: AwareDatetime
    received_at: AwareDatetime
    clock_skew_s: float
    first_offset_s: float
    last_offset_s: float
    payload: list[dict[str, Any]] | None
    ppg_fs: float | None
    ppg_samples: list[float] | None
    receipt: BatchReceipt


# Example of a success response in the OpenAPI document (checked against the model by a test).
EXAMPLE_STREAM_SUMMARY: dict[str, Any] = {
    "id": _STREAM_ID,
    "employee_id": "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918",
    "employee_name": "Alex Example",
    "appointment_id": _APPOINTMENT_ID,
    "device_kind": "ble-hr",
    "device_model": "Example chest strap",
    "status": "closed",
    "created_at": "2026-11-20T10:00:00Z",
    "closed_at": "2026-11-20T10:05:10Z",
    "started_at": "2026-11-20T10:00:05Z",
    "batches": 30,
    "samples": 300,
    "readings": 300,
    "values_absent": 0,
    "heart_rate_mean_bpm": 72.4,
    "heart_rate_min_bpm": 64.0,
    "heart_rate_max_bpm": 88.0,
    "spo2_mean_pct": None,
    "spo2_min_pct": None,
    "quality": 0.97,
    "duration_s": 300.0,
    "last_at": "2026-11-20T10:05:05Z",
    "last_heart_rate_bpm": 71.0,
    "last_spo2_pct": None,
    "last_quality": 0.98,
    "quality_word": "Good",
    "last_received_at": "2026-11-20T10:05:06Z",
    "clock_skew_s": 0.4,
    "max_abs_clock_skew_s": 0.9,
    "alert_level": None,
    "alerts": [],
}


class ReadingInsert(BaseModel):
    """One reading of a batch as stored (the batch gives its stream_id and seq)."""

    taken_at: AwareDatetime
    offset_s: float
    source: Source
    heart_rate_bpm: float | None
    spo2_pct: float | None
    rr_intervals_s: list[float] | None
    quality: float | None
    heart_rate_absent: AbsentReason | None
    spo2_absent: AbsentReason | None


class AlertInsert(BaseModel):
    """A batch's readings in one alert band, added to the stream's count for that band."""

    measure: Measure
    level: Level
    readings: int
    min_value: float
    max_value: float
    first_at: AwareDatetime
    last_at: AwareDatetime


class BatchStore(BaseModel):
    """Everything the store statement writes, sent as one JSON record whose field names are the
    columns' names (so that no value depends on its position)."""

    batch: BatchInsert
    readings: list[ReadingInsert]
    alerts: list[AlertInsert]
    summary: SummaryUpdate
    batches_read: int  # the stream's batch count when read: the summary is written only if unchanged
    token_hash: Bytea | None  # a device token that must still be the stream's
    audit: dict[str, Any]  # the audit row, by column name (audit.service.event_record)
    channel: str  # the live event: pg_notify's channel and text (db.pubsub.notification)
    event: str
