"""Streams whose latest batch this process stored, as they stand after it: the next batch of such
a stream is stored without reading the stream first (one round trip instead of two).

An entry is a prediction, never trusted on its own. The store statement writes only while the
stream still holds the batch count the entry was built from, is open and, for a device, still has
the device token, unexpired. A batch stored meanwhile by another process, a closed stream (also by
withdrawn consent) or a new token make the store miss; the entry is then dropped and the batch
reads the stream as before (``ingest``). Only batches that come after every stored batch use an
entry, so that neither a repeat nor the order of times needs an earlier batch it does not hold.

Each app process keeps its own (``app.state``), bounded, least recently used first out.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from backend.readings.schemas import AlertInsert, AlertRow, Level, PpgRunRow, StreamRow, SummaryUpdate

CAPACITY = 4096  # streams remembered per process (a phone measuring sends one batch a second)
_SUMMARY = tuple(name for name in SummaryUpdate.model_fields if name in StreamRow.model_fields)


@dataclass(frozen=True, slots=True)
class Recent:
    """A stream as this process last stored it."""

    stream: StreamRow
    alert_level: Level | None
    alerts: tuple[AlertRow, ...]
    runs: tuple[PpgRunRow, ...]  # the latest PPG runs, newest first
    runs_from_seq: int  # every PPG run of the stream numbered from this on is in ``runs``
    writer: bytes | UUID  # the device token hash, or the employee, that the stream was checked for


def merge_alerts(
    existing: Sequence[AlertRow], added: Sequence[AlertInsert], stream_id: UUID
) -> tuple[AlertRow, ...]:
    """The stream's alert-band counts once a batch's are added (as the store statement adds them)."""
    merged = {(a.measure, a.level): a for a in existing}
    for row in added:
        old = merged.get((row.measure, row.level))
        if old is None:
            merged[(row.measure, row.level)] = AlertRow.model_construct(stream_id=stream_id, **dict(row))
            continue
        merged[(row.measure, row.level)] = AlertRow.model_construct(
            stream_id=stream_id,
            measure=row.measure,
            level=row.level,
            readings=old.readings + row.readings,
            min_value=min(old.min_value, row.min_value),
            max_value=max(old.max_value, row.max_value),
            first_at=min(old.first_at, row.first_at),
            last_at=max(old.last_at, row.last_at),
        )
    return tuple(merged.values())


def after_store(stream: StreamRow, summary: SummaryUpdate) -> StreamRow:
    """The stream row once ``summary`` is written."""
    return stream.model_copy(update={name: getattr(summary, name) for name in _SUMMARY})


class RecentStreams:
    """The per-process store of ``Recent`` entries."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[UUID, Recent] = OrderedDict()

    def get(self, stream_id: UUID) -> Recent | None:
        entry = self._entries.get(stream_id)
        if entry is not None:
            self._entries.move_to_end(stream_id)
        return entry

    def put(self, entry: Recent) -> None:
        """Remember ``entry`` unless one with more batches is already here."""
        stream_id = entry.stream.id
        held = self._entries.get(stream_id)
        if held is not None and held.stream.batches >= entry.stream.batches:
            return
        self._entries[stream_id] = entry
        self._entries.move_to_end(stream_id)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def drop(self, stream_id: UUID) -> None:
        self._entries.pop(stream_id, None)

    def __len__(self) -> int:
        return len(self._entries)
