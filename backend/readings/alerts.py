"""Alert bands (NEWS2 by default, from settings): which readings fall in which band, and which
bands flag a stream. A flag asks a clinician to look; it never decides fitness for work."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from backend.core.config import AlertBand
from backend.readings.schemas import AlertFlag, AlertRow, Level, Measure

LEVELS: tuple[Level, ...] = ("low", "medium", "high")
_RANK = {level: rank for rank, level in enumerate(LEVELS)}


def level_of(measure: Measure, value: float, bands: Sequence[AlertBand]) -> Level | None:
    """The highest level of the bands this value falls in (bounds inclusive on the whole number)."""
    whole = round(value)
    found: Level | None = None
    for band in bands:
        inside = (band.low is None or whole >= band.low) and (band.high is None or whole <= band.high)
        if band.measure == measure and inside:
            found = higher(found, band.level)
    return found


def higher(a: Level | None, b: Level | None) -> Level | None:
    if a is None or b is None:
        return a or b
    return a if _RANK[a] >= _RANK[b] else b


@dataclass
class Tally:
    """Readings of one batch in one band."""

    measure: Measure
    level: Level
    readings: int
    min_value: float
    max_value: float
    first_at: datetime
    last_at: datetime


def tally(values: Iterable[tuple[Measure, float, datetime]], bands: Sequence[AlertBand]) -> list[Tally]:
    """Count (measure, value, taken_at) triples per band level."""
    found: dict[tuple[Measure, Level], Tally] = {}
    for measure, value, at in values:
        level = level_of(measure, value, bands)
        if level is None:
            continue
        t = found.get((measure, level))
        if t is None:
            found[(measure, level)] = Tally(measure, level, 1, value, value, at, at)
            continue
        t.readings += 1
        t.min_value, t.max_value = min(t.min_value, value), max(t.max_value, value)
        t.first_at, t.last_at = min(t.first_at, at), max(t.last_at, at)
    return list(found.values())


def flags(rows: Iterable[AlertRow], min_readings: int) -> list[AlertFlag]:
    """Every band a stream's readings fell in, most serious first; ``flagged`` once persistent."""
    out = [
        AlertFlag(
            measure=r.measure,
            level=r.level,
            readings=r.readings,
            min_value=r.min_value,
            max_value=r.max_value,
            first_at=r.first_at,
            last_at=r.last_at,
            flagged=r.readings >= min_readings,
        )
        for r in rows
    ]
    return sorted(out, key=lambda f: (-_RANK[f.level], f.measure))


def stream_level(found: Iterable[AlertFlag]) -> Level | None:
    level: Level | None = None
    for flag in found:
        if flag.flagged:
            level = higher(level, flag.level)
    return level
