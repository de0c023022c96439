"""Small-number suppression for every count about people in employer-facing outputs (domain.md §8.2).

Pure functions, no I/O. The rules, exactly:

1. A count: 0 stays 0; 1 to 7 is shown as ``*``; 8 or more is rounded to the nearest 5.
   Totals are computed from the unrounded data and then rounded the same way, never summed
   from rounded cells (rule 6: a suppressed cell cannot be recovered by subtraction, because no
   shown figure other than 0 is exact).
2. No breakdown of a group whose denominator is under 10: every cell says "group too small".
3. In a group under 20, a cell that is 0% or 100% of the group is suppressed (``*``).
4. Percentages come from the rounded numerator and denominator; whole numbers unless the
   denominator is 4,000 or more (then one decimal); ``*`` when either part is suppressed.
5. A mean or median is hidden when it rests on 7 values or fewer.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

from pydantic import BaseModel

SUPPRESSED = "*"
TOO_SMALL = "group too small"
SMALL_MAX = 7
MIN_GROUP = 10
GUARD_GROUP = 20
DECIMALS_FROM = 4000


class Cell(BaseModel):
    """One published figure: ``shown`` is what people see; ``value`` is the rounded number, if shown."""

    shown: str
    value: int | None

    @property
    def suppressed(self) -> bool:
        return self.value is None


def round5(n: int) -> int:
    """Nearest multiple of 5 (whole counts never fall half-way)."""
    return (n + 2) // 5 * 5


def count(n: int) -> Cell:
    if n < 0:
        raise ValueError("a count cannot be negative")
    if n == 0:
        return Cell(shown="0", value=0)
    if n <= SMALL_MAX:
        return Cell(shown=SUPPRESSED, value=None)
    rounded = round5(n)
    return Cell(shown=f"{rounded:,}", value=rounded)


def hidden(reason: str = SUPPRESSED) -> Cell:
    return Cell(shown=reason, value=None)


def breakdown(parts: Mapping[str, int], denominator: int | None = None) -> dict[str, Cell]:
    """The cells of one group (e.g. a programme's checks by outcome), with rules 1 to 3 applied."""
    size = sum(parts.values()) if denominator is None else denominator
    if size < MIN_GROUP:
        return {key: hidden(TOO_SMALL) for key in parts}
    cells = {key: count(n) for key, n in parts.items()}
    if size < GUARD_GROUP:
        for key, n in parts.items():
            if n in (0, size):
                cells[key] = hidden()
    return cells


def percent(numerator: Cell, denominator: Cell) -> str:
    if numerator.value is None or denominator.value is None:
        return SUPPRESSED
    if denominator.value == 0:
        return "—"
    share = 100 * numerator.value / denominator.value
    if denominator.value >= DECIMALS_FROM:
        return f"{share:.1f}%"
    return f"{round(share)}%"


def median(values: Sequence[float]) -> str:
    if len(values) <= SMALL_MAX:
        return SUPPRESSED
    return f"{statistics.median(values):.1f}"


def shown_median(n: int, value: float | None) -> str:
    """A median computed elsewhere (e.g. in SQL), shown only when it rests on more than 7 values."""
    if n <= SMALL_MAX or value is None:
        return SUPPRESSED
    return f"{value:.1f}"
