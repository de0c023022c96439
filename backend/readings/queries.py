"""Every SQL statement touching consents, streams, batches, readings and alerts.

Visibility is one SQL predicate (``_VISIBLE``) over the caller's scope ($2 kind, $3 organisation,
$4 user): clinicians see their provider's streams, an employee their own, nobody else anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from backend.audit import queries as audit_queries
from backend.core.listing import ListParams
from backend.db.sqlparams import SqlParams, order_by
from backend.readings.schemas import (
    AlertInsert,
    AlertRow,
    BatchInsert,
    BatchReceipt,
    BatchStore,
    ConsentRow,
    PpgRunRow,
    ReadingInsert,
    ReadingRow,
    StoredBatch,
    StreamForBatch,
    StreamRow,
    SummaryUpdate,
)


@dataclass(frozen=True)
class Scope:
    kind: str  # clinician | employee | none
    organisation_id: UUID
    user_id: UUID

    def params(self) -> tuple[str, UUID, UUID]:
        return (self.kind, self.organisation_id, self.user_id)


_VISIBLE = "(($2 = 'clinician' AND s.provider_id = $3) OR ($2 = 'employee' AND s.employee_id = $4))"

# -- consent ------------------------------------------------------------------------------------

_CONSENT_COLUMNS = "id, employee_id, statement_version, given_at, withdrawn_at, appointment_id"
GET_ACTIVE_CONSENT = f"""
SELECT {_CONSENT_COLUMNS} FROM reading_consent WHERE employee_id = $1 AND withdrawn_at IS NULL
"""
INSERT_CONSENT = f"""
INSERT INTO reading_consent (employee_id, statement_version, statement_sha256, appointment_id)
VALUES ($1, $2, $3, $4)
ON CONFLICT (employee_id) WHERE withdrawn_at IS NULL DO NOTHING
RETURNING {_CONSENT_COLUMNS}
"""
WITHDRAW_CONSENT = f"""
UPDATE reading_consent SET withdrawn_at = now() WHERE employee_id = $1 AND withdrawn_at IS NULL
RETURNING {_CONSENT_COLUMNS}
"""
CLOSE_STREAMS_OF_CONSENT = """
UPDATE reading_stream SET status = 'closed', closed_at = now(), device_token_hash = NULL
WHERE consent_id = $1 AND status = 'open' RETURNING id
"""

# -- streams ------------------------------------------------------------------------------------

_STREAM_FROM = """
reading_stream s JOIN app_user u ON u.id = s.employee_id JOIN reading_consent c ON c.id = s.consent_id
"""
_STREAM_COLUMNS = """
s.id, s.employee_id, u.full_name AS employee_name, s.employer_id, s.provider_id, s.consent_id,
c.withdrawn_at IS NULL AS consent_active, s.appointment_id, s.device_kind, s.device_model,
s.device_token_expires_at, s.status, s.created_at, s.closed_at, s.started_at, s.batches, s.samples,
s.readings, s.absent, s.hr_count, s.hr_sum, s.hr_min, s.hr_max, s.spo2_count, s.spo2_sum, s.spo2_min,
s.quality_count, s.quality_sum, s.first_offset_s, s.last_offset_s, s.max_seq, s.last_at,
s.last_heart_rate_bpm, s.last_spo2_pct, s.last_quality, s.last_received_at, s.clock_skew_s,
s.max_abs_clock_skew_s
"""
INSERT_STREAM = """
INSERT INTO reading_stream (id, employee_id, employer_id, provider_id, consent_id, appointment_id,
                            device_kind, device_model, device_token_hash, device_token_expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (id) DO NOTHING RETURNING id
"""
ROTATE_DEVICE_TOKEN = """
UPDATE reading_stream SET device_token_hash = $2, device_token_expires_at = $3
WHERE id = $1 AND status = 'open'
"""
GET_STREAM = f"SELECT {_STREAM_COLUMNS} FROM {_STREAM_FROM} WHERE s.id = $1"
GET_VISIBLE_STREAM = f"SELECT {_STREAM_COLUMNS} FROM {_STREAM_FROM} WHERE s.id = $1 AND {_VISIBLE}"
# The stream as read for storing batch $2, with what storing it needs: whether the device token
# ($3, may be NULL) is this stream's and unexpired, an earlier batch of the same number, the
# stream's alert-band counts, and its PPG runs of the $4 sequence numbers before this one (newest
# first: sequence numbers, start offsets, rates and lengths, and all their samples in one array).
STREAM_FOR_BATCH = f"""
SELECT {_STREAM_COLUMNS}, s.alert_level,
       coalesce(s.device_token_hash = $3 AND s.device_token_expires_at > now(), false) AS token_ok,
       stored.body_sha256 AS stored_sha256, stored.receipt AS stored_receipt,
       (SELECT json_agg(json_build_object('stream_id', a.stream_id, 'measure', a.measure,
                                          'level', a.level, 'readings', a.readings,
                                          'min_value', a.min_value, 'max_value', a.max_value,
                                          'first_at', a.first_at, 'last_at', a.last_at))
        FROM reading_alert a WHERE a.stream_id = s.id) AS alerts,
       runs.seqs AS ppg_seqs, runs.starts AS ppg_starts, runs.rates AS ppg_rates, runs.sizes AS ppg_sizes,
       (SELECT array_cat_agg(b.ppg_samples ORDER BY b.seq DESC)
        FROM reading_batch b
        WHERE b.stream_id = s.id AND b.seq < $2 AND b.seq >= $2 - $4 AND b.payload_kind = 'ppg'
       ) AS ppg_samples
FROM {_STREAM_FROM}
LEFT JOIN reading_batch stored ON stored.stream_id = s.id AND stored.seq = $2
LEFT JOIN LATERAL (
    SELECT array_agg(b.seq ORDER BY b.seq DESC) AS seqs,
           array_agg(b.first_offset_s ORDER BY b.seq DESC) AS starts,
           array_agg(b.ppg_fs ORDER BY b.seq DESC) AS rates,
           array_agg(cardinality(b.ppg_samples) ORDER BY b.seq DESC) AS sizes
    FROM reading_batch b
    WHERE b.stream_id = s.id AND b.seq < $2 AND b.seq >= $2 - $4 AND b.payload_kind = 'ppg'
) runs ON true
WHERE s.id = $1
"""
LOCK_STREAM_FOR_BATCH = STREAM_FOR_BATCH + "FOR UPDATE OF s\n"
STREAM_FOR_DEVICE_TOKEN = """
SELECT id FROM reading_stream WHERE device_token_hash = $1 AND device_token_expires_at > now()
"""
# The streams list (list kit): $1 employee, $2..$4 scope, $5 status; order and paging added by the caller.
LIST_VISIBLE_STREAMS = f"SELECT {_STREAM_COLUMNS}, count(*) OVER () AS total FROM {_STREAM_FROM}"
COUNT_VISIBLE_STREAMS = f"SELECT count(*) FROM {_STREAM_FROM}"
STREAMS_WHERE = (
    f"{_VISIBLE} AND ($1::uuid IS NULL OR s.employee_id = $1) AND ($5::text IS NULL OR s.status = $5)"
)
STREAM_SORTS: dict[str, tuple[str, ...]] = {
    "activity": ("coalesce(s.last_received_at, s.created_at)",),
    "started": ("s.created_at",),
}
# The open stream an employee is measuring into now (or most recently), for the clinic screen.
LIVE_STREAM_FOR_EMPLOYEE = f"""
SELECT {_STREAM_COLUMNS} FROM {_STREAM_FROM}
WHERE s.employee_id = $1 AND s.provider_id = $2 AND s.status = 'open'
  AND ($3::uuid IS NULL OR s.appointment_id = $3)
ORDER BY coalesce(s.last_received_at, s.created_at) DESC, s.id
LIMIT 1
"""
CLOSE_STREAM = """
UPDATE reading_stream SET status = 'closed', closed_at = now(), device_token_hash = NULL
WHERE id = $1 AND status = 'open'
"""

# -- batches ------------------------------------------------------------------------------------

GET_BATCH = "SELECT body_sha256, receipt FROM reading_batch WHERE stream_id = $1 AND seq = $2"
# The latest end before this batch and the earliest start after it, among the stream's batches.
NEIGHBOUR_OFFSETS = """
SELECT max(last_offset_s) FILTER (WHERE seq < $2) AS before,
       min(first_offset_s) FILTER (WHERE seq > $2) AS after
FROM reading_batch WHERE stream_id = $1 AND seq <> $2
"""
ALL_PPG_RUNS = """
SELECT seq, first_offset_s, ppg_fs AS fs, ppg_samples AS samples FROM reading_batch
WHERE stream_id = $1 AND payload_kind = 'ppg' ORDER BY seq
"""


def _named(model: type[BaseModel], source: str) -> str:
    """``source``'s fields of ``model``, by name: "a.x, a.y"."""
    return ", ".join(f"{source}.{name}" for name in model.model_fields)


# One statement stores one or more batches (of different streams; ``backend.db.grouped`` groups
# them), and so commits or fails as a whole. $1 is a JSON array of ``schemas.BatchStore`` records
# whose field names are column names: jsonb_populate_record turns each part into a row of the
# table it fills, and every column is then picked by name, so that adding a field or column
# cannot shift a value. Each stream's new summary (worked out from the stream as read) is written
# only while the stream still holds the batches it held when read, is open, and (for a device)
# still has this device token, unexpired; then that batch's raw record, readings, alert-band
# counts, audit row and live event (which PostgreSQL delivers on commit) follow it. $2 holds the
# streams' ids again, as a parameter of its own: compared with values taken out of $1, the planner
# scans every stream instead of using the primary key. Returns the ids of the streams whose batch
# was stored; a batch whose stream changed meanwhile is not (read it again and retry).
_EACH_STORED = "new_batch b JOIN item i ON i.stream_id = b.stream_id"
STORE_BATCHES = f"""
WITH item AS (
    SELECT (e->'batch'->>'stream_id')::uuid AS stream_id, e
    FROM jsonb_array_elements($1::text::jsonb) AS e
), stream AS (
    UPDATE reading_stream s
    SET ({", ".join(SummaryUpdate.model_fields)}) = ({_named(SummaryUpdate, "n")})
    FROM item i, jsonb_populate_record(NULL::reading_stream, i.e->'summary') n
    WHERE s.id = ANY($2::uuid[]) AND s.id = i.stream_id
      AND s.batches = (i.e->>'batches_read')::int
      AND s.status = 'open'
      AND (i.e->>'token_hash' IS NULL
           OR (s.device_token_hash = (i.e->>'token_hash')::bytea AND s.device_token_expires_at > now()))
    RETURNING s.id
), new_batch AS (
    INSERT INTO reading_batch ({", ".join(BatchInsert.model_fields)})
    SELECT {_named(BatchInsert, "r")}
    FROM stream s JOIN item i ON i.stream_id = s.id,
         jsonb_populate_record(NULL::reading_batch, i.e->'batch') r
    RETURNING stream_id, seq
), new_readings AS (
    INSERT INTO reading (stream_id, seq, {", ".join(ReadingInsert.model_fields)})
    SELECT b.stream_id, b.seq, {_named(ReadingInsert, "x")}
    FROM {_EACH_STORED}, jsonb_populate_recordset(NULL::reading, i.e->'readings') x
), new_alerts AS (
    INSERT INTO reading_alert AS a (stream_id, {", ".join(AlertInsert.model_fields)})
    SELECT b.stream_id, {_named(AlertInsert, "x")}
    FROM {_EACH_STORED}, jsonb_populate_recordset(NULL::reading_alert, i.e->'alerts') x
    ON CONFLICT ON CONSTRAINT reading_alert_pk DO UPDATE SET
        readings = a.readings + EXCLUDED.readings,
        min_value = least(a.min_value, EXCLUDED.min_value),
        max_value = greatest(a.max_value, EXCLUDED.max_value),
        first_at = least(a.first_at, EXCLUDED.first_at),
        last_at = greatest(a.last_at, EXCLUDED.last_at)
), audit AS (
    {audit_queries.insert_events_from_json(_EACH_STORED, "i.e->'audit'")}
), live AS (
    SELECT b.stream_id, pg_notify(i.e->>'channel', i.e->>'event') FROM {_EACH_STORED}
)
SELECT coalesce(array_agg(stream_id), '{{}}') FROM live
"""
ENSURE_PARTITION = "SELECT reading_partition_ensure($1)"
# The monthly partitions from the month of $1 to $2 months after it (each made if missing).
ENSURE_PARTITIONS_AHEAD = """
SELECT reading_partition_ensure($1::timestamptz + make_interval(months => m))
FROM generate_series(0, $2::int) AS m
"""
LIST_PARTITIONS = """
SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'public.reading'::regclass ORDER BY 1
"""

# -- reads --------------------------------------------------------------------------------------

LIST_READINGS = """
SELECT seq, taken_at, offset_s, source, heart_rate_bpm, spo2_pct, rr_intervals_s, quality,
       heart_rate_absent, spo2_absent
FROM reading WHERE stream_id = $1 ORDER BY taken_at, seq LIMIT $2
"""
LIST_ALERTS = """
SELECT stream_id, measure, level, readings, min_value, max_value, first_at, last_at
FROM reading_alert WHERE stream_id = ANY($1::uuid[])
"""


# -- typed functions ----------------------------------------------------------------------------


async def get_active_consent(conn: asyncpg.Connection, employee_id: UUID) -> ConsentRow | None:
    row = await conn.fetchrow(GET_ACTIVE_CONSENT, employee_id)
    return ConsentRow.model_validate(dict(row)) if row else None


async def insert_consent(
    conn: asyncpg.Connection, employee_id: UUID, version: str, sha256: bytes, appointment_id: UUID | None
) -> ConsentRow | None:
    """The new consent, or None when one is already in force."""
    row = await conn.fetchrow(INSERT_CONSENT, employee_id, version, sha256, appointment_id)
    return ConsentRow.model_validate(dict(row)) if row else None


async def withdraw_consent(conn: asyncpg.Connection, employee_id: UUID) -> ConsentRow | None:
    row = await conn.fetchrow(WITHDRAW_CONSENT, employee_id)
    return ConsentRow.model_validate(dict(row)) if row else None


async def close_streams_of_consent(conn: asyncpg.Connection, consent_id: UUID) -> list[UUID]:
    return [r["id"] for r in await conn.fetch(CLOSE_STREAMS_OF_CONSENT, consent_id)]


async def insert_stream(conn: asyncpg.Connection, **f: Any) -> bool:
    """False when a stream with this id exists already."""
    inserted = await conn.fetchval(
        INSERT_STREAM,
        f["id"],
        f["employee_id"],
        f["employer_id"],
        f["provider_id"],
        f["consent_id"],
        f["appointment_id"],
        f["device_kind"],
        f["device_model"],
        f["token_hash"],
        f["token_expires_at"],
    )
    return inserted is not None


async def rotate_device_token(
    conn: asyncpg.Connection, stream_id: UUID, token_hash: bytes, expires_at: datetime
) -> None:
    await conn.execute(ROTATE_DEVICE_TOKEN, stream_id, token_hash, expires_at)


async def get_stream(conn: asyncpg.Connection, stream_id: UUID) -> StreamRow | None:
    row = await conn.fetchrow(GET_STREAM, stream_id)
    return StreamRow.model_validate(dict(row)) if row else None


async def stream_for_batch(
    conn: asyncpg.Connection,
    stream_id: UUID,
    seq: int,
    token_hash: bytes | None,
    ppg_lookback: int,
    *,
    lock: bool = False,
) -> StreamForBatch | None:
    """The stream with what storing batch ``seq`` needs (see the statement); ``lock``: locked
    until the caller's transaction ends."""
    query = LOCK_STREAM_FOR_BATCH if lock else STREAM_FOR_BATCH
    row = await conn.fetchrow(query, stream_id, seq, token_hash, ppg_lookback)
    if row is None:
        return None
    fields = dict(row)
    sha256, receipt = fields.pop("stored_sha256"), fields.pop("stored_receipt")
    stored = None
    if sha256 is not None:
        stored = StoredBatch(body_sha256=sha256, receipt=BatchReceipt.model_validate(receipt))
    return StreamForBatch(
        alert_level=fields.pop("alert_level"),
        token_ok=fields.pop("token_ok"),
        stored=stored,
        alerts=[AlertRow.model_validate(a) for a in fields.pop("alerts") or []],
        ppg_runs=_ppg_runs(fields),
        stream=StreamRow.model_validate(fields),
    )


def _ppg_runs(fields: dict[str, Any]) -> list[PpgRunRow]:
    """Split the row's PPG columns (popped from ``fields``) into runs, newest first."""
    seqs, starts = fields.pop("ppg_seqs") or [], fields.pop("ppg_starts") or []
    rates, sizes = fields.pop("ppg_rates") or [], fields.pop("ppg_sizes") or []
    samples: list[float] = fields.pop("ppg_samples") or []
    runs, at = [], 0
    for seq, start, fs, size in zip(seqs, starts, rates, sizes, strict=True):
        runs.append(PpgRunRow(seq=seq, first_offset_s=start, fs=fs, samples=samples[at : at + size]))
        at += size
    return runs


async def get_visible_stream(conn: asyncpg.Connection, stream_id: UUID, scope: Scope) -> StreamRow | None:
    row = await conn.fetchrow(GET_VISIBLE_STREAM, stream_id, *scope.params())
    return StreamRow.model_validate(dict(row)) if row else None


async def stream_for_device_token(conn: asyncpg.Connection, token_hash: bytes) -> UUID | None:
    stream_id: UUID | None = await conn.fetchval(STREAM_FOR_DEVICE_TOKEN, token_hash)
    return stream_id


async def list_visible_streams(
    conn: asyncpg.Connection, scope: Scope, *, employee_id: UUID | None, status: str | None, page: ListParams
) -> tuple[list[StreamRow], int]:
    sql = SqlParams(employee_id, *scope.params(), status)
    order = order_by(page.sort, descending=page.descending, columns=STREAM_SORTS, tiebreak="s.id")
    cut = f"LIMIT {sql.add(page.limit)} OFFSET {sql.add(page.offset)}"
    rows = await conn.fetch(f"{LIST_VISIBLE_STREAMS} WHERE {STREAMS_WHERE} {order} {cut}", *sql.values)
    if rows:
        total = int(rows[0]["total"])
    else:  # past the last page (or none at all): the real total still
        total = int(await conn.fetchval(f"{COUNT_VISIBLE_STREAMS} WHERE {STREAMS_WHERE}", *sql.values[:-2]))
    return [StreamRow.model_validate(dict(r)) for r in rows], total


async def live_stream_for_employee(
    conn: asyncpg.Connection, employee_id: UUID, provider_id: UUID, appointment_id: UUID | None
) -> StreamRow | None:
    row = await conn.fetchrow(LIVE_STREAM_FOR_EMPLOYEE, employee_id, provider_id, appointment_id)
    return StreamRow.model_validate(dict(row)) if row else None


async def close_stream(conn: asyncpg.Connection, stream_id: UUID) -> bool:
    return str(await conn.execute(CLOSE_STREAM, stream_id)) != "UPDATE 0"


async def get_batch(conn: asyncpg.Connection, stream_id: UUID, seq: int) -> StoredBatch | None:
    row = await conn.fetchrow(GET_BATCH, stream_id, seq)
    if row is None:
        return None
    return StoredBatch(body_sha256=row["body_sha256"], receipt=BatchReceipt.model_validate(row["receipt"]))


async def neighbour_offsets(
    conn: asyncpg.Connection, stream_id: UUID, seq: int
) -> tuple[float | None, float | None]:
    row = await conn.fetchrow(NEIGHBOUR_OFFSETS, stream_id, seq)
    return (row["before"], row["after"]) if row else (None, None)


async def all_ppg_runs(conn: asyncpg.Connection, stream_id: UUID) -> list[PpgRunRow]:
    return [PpgRunRow.model_validate(dict(r)) for r in await conn.fetch(ALL_PPG_RUNS, stream_id)]


async def store_batches(conn: asyncpg.Connection, stores: Sequence[BatchStore]) -> list[bool]:
    """Store each batch with its readings, alert counts, summary, audit row and live event, in one
    statement; for each, whether it was stored (False, and nothing of it stored, when its stream
    changed since it was read). At most one batch per stream."""
    ids = [store.batch.stream_id for store in stores]
    # In the streams' order: two statements storing batches of the same streams then tend to lock
    # them in the same order. Should each still wait for the other, PostgreSQL ends one of them
    # (a deadlock), and its batches are stored again alone (``backend.db.grouped``).
    ordered = sorted(stores, key=lambda store: store.batch.stream_id)
    records = "[" + ",".join(store.model_dump_json() for store in ordered) + "]"
    stored = set(await conn.fetchval(STORE_BATCHES, records, sorted(ids)))
    return [stream_id in stored for stream_id in ids]


async def ensure_partition(conn: asyncpg.Connection, at: datetime) -> str:
    name: str = await conn.fetchval(ENSURE_PARTITION, at)
    return name


async def list_readings(conn: asyncpg.Connection, stream_id: UUID, limit: int) -> list[ReadingRow]:
    return [ReadingRow.model_validate(dict(r)) for r in await conn.fetch(LIST_READINGS, stream_id, limit)]


async def list_alerts(conn: asyncpg.Connection, stream_ids: Sequence[UUID]) -> list[AlertRow]:
    return [AlertRow.model_validate(dict(r)) for r in await conn.fetch(LIST_ALERTS, list(stream_ids))]


async def ensure_partitions_ahead(conn: asyncpg.Connection, at: datetime, months: int) -> list[str]:
    return [str(r[0]) for r in await conn.fetch(ENSURE_PARTITIONS_AHEAD, at, months)]


async def list_partitions(conn: asyncpg.Connection) -> list[str]:
    return [str(r[0]) for r in await conn.fetch(LIST_PARTITIONS)]
