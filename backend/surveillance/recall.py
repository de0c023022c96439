"""Recall intervals and next due dates (domain.md §5.1). Pure functions, no I/O.

A programme's recall schedule is a list of intervals: the first applies after the baseline
check, the second after the next check, and the last one repeats for every later check. Noise
is "baseline, annually for the first two years, then three-yearly": [12 m, 12 m, 36 m].
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Interval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    months: int = Field(default=0, ge=0, le=120)
    weeks: int = Field(default=0, ge=0, le=520)

    @model_validator(mode="after")
    def _not_empty(self) -> Interval:
        if self.months == 0 and self.weeks == 0:
            raise ValueError("an interval needs months or weeks")
        return self

    def after(self, start: date) -> date:
        return add_months(start, self.months) + timedelta(weeks=self.weeks)

    def label(self) -> str:
        parts = []
        if self.months:
            parts.append(f"{self.months} month{'s' if self.months != 1 else ''}")
        if self.weeks:
            parts.append(f"{self.weeks} week{'s' if self.weeks != 1 else ''}")
        return " and ".join(parts)


def _m(months: int) -> Interval:
    return Interval(months=months)


# Defaults per programme kind; each programme may set its own. Noise is HSE's rule [S73];
# the others are common provider practice (domain.md §5.1) and are configurable.
DEFAULT_RECALL: dict[str, list[Interval]] = {
    "noise": [_m(12), _m(12), _m(36)],
    "havs": [_m(12)],
    "respiratory": [Interval(weeks=6), Interval(weeks=6), _m(12)],
    "skin": [_m(12)],
    "night": [_m(12)],
    "fitness_for_task": [_m(24)],
}


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has no such day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def interval_after(schedule: list[Interval], checks_done: int) -> Interval:
    """The interval that follows the ``checks_done``-th check (1 = the baseline)."""
    if not schedule:
        raise ValueError("a recall schedule needs at least one interval")
    return schedule[min(max(checks_done, 1), len(schedule)) - 1]


def next_due(schedule: list[Interval], checks_done: int, check_date: date) -> date:
    """When the next check is due after a check on ``check_date`` that was the ``checks_done``-th."""
    return interval_after(schedule, checks_done).after(check_date)


def recall_state(next_due_date: date, today: date, *, soon_days: int = 30) -> str:
    """overdue (past its date), due (within ``soon_days``) or current."""
    if next_due_date < today:
        return "overdue"
    if next_due_date <= today + timedelta(days=soon_days):
        return "due"
    return "current"
