"""Suppression rules (domain.md §8.2) on constructed cohorts, including a differencing attack."""

from __future__ import annotations

import itertools

import pytest

from backend.reports import suppression as s
from backend.reports.suppression import Cell


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (0, "0"),
        (1, "*"),
        (7, "*"),
        (8, "10"),
        (9, "10"),
        (10, "10"),
        (12, "10"),
        (13, "15"),
        (19, "20"),
        (20, "20"),
        (22, "20"),
        (23, "25"),
        (4_998, "5,000"),
        (10_000, "10,000"),
    ],
)
def test_count_rule(n: int, shown: str) -> None:
    assert s.count(n).shown == shown


def test_counts_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        s.count(-1)


OUTCOMES = ("fit", "restricted", "unfit")


@pytest.mark.parametrize("size", [0, 1, 7, 8, 9])
def test_no_breakdown_of_groups_under_10(size: int) -> None:
    parts = {"fit": size, "restricted": 0, "unfit": 0}
    assert {c.shown for c in s.breakdown(parts).values()} == {s.TOO_SMALL}


def test_group_of_10_is_broken_down_with_the_share_guard() -> None:
    cells = s.breakdown({"fit": 10, "restricted": 0, "unfit": 0})
    # Everyone fit (100%) and nobody restricted/unfit (0%) in a group under 20: all suppressed.
    assert [c.shown for c in cells.values()] == ["*", "*", "*"]
    mixed = s.breakdown({"fit": 2, "restricted": 8, "unfit": 0})
    assert [c.shown for c in mixed.values()] == ["*", "10", "*"]


def test_group_of_19_guard_and_group_of_20_without() -> None:
    assert [c.shown for c in s.breakdown({"fit": 11, "restricted": 8, "unfit": 0}).values()] == [
        "10",
        "10",
        "*",
    ]
    assert [c.shown for c in s.breakdown({"fit": 12, "restricted": 8, "unfit": 0}).values()] == [
        "10",
        "10",
        "0",
    ]
    assert [c.shown for c in s.breakdown({"fit": 20, "restricted": 0, "unfit": 0}).values()] == [
        "20",
        "0",
        "0",
    ]


def test_large_cohort() -> None:
    cells = s.breakdown({"fit": 9_123, "restricted": 611, "unfit": 4})
    assert [c.shown for c in cells.values()] == ["9,125", "610", "*"]
    total = s.count(9_738)
    assert s.percent(cells["fit"], total) == "93.7%"  # denominator >= 4,000: one decimal
    assert s.percent(cells["unfit"], total) == "*"


def test_percentages_come_from_rounded_figures() -> None:
    assert s.percent(s.count(13), s.count(22)) == "75%"  # 15 / 20, not 13 / 22 = 59%
    assert s.percent(s.count(0), s.count(0)) == "—"
    assert s.percent(s.count(5), s.count(40)) == "*"


def test_medians_hidden_on_7_values_or_fewer() -> None:
    assert s.median([1.0] * 7) == "*"
    assert s.median([1, 2, 3, 4, 5, 6, 7, 8]) == "4.5"
    assert s.shown_median(8, 3.25) == "3.2"
    assert s.shown_median(7, 3.25) == "*"


def candidates(
    shown_cells: list[Cell], shown_total: Cell, suppressed_index: int, limit: int = 60
) -> set[int]:
    """Every value of the suppressed cell consistent with what is published (an attacker's view)."""

    def possible(cell: Cell) -> range:
        if cell.value is None:
            return range(1, 8)
        if cell.value == 0:
            return range(0, 1)
        return range(max(8, cell.value - 2), cell.value + 3)

    total_range = set(possible(shown_total))
    found: set[int] = set()
    for combo in itertools.product(*(possible(c) for c in shown_cells)):
        if sum(combo) in total_range and sum(combo) <= limit:
            found.add(combo[suppressed_index])
    return found


def test_differencing_a_suppressed_cell_from_the_total_is_not_possible() -> None:
    # A department of 23: 20 fit, 3 unfit. Publishing the exact total and the fit count would
    # reveal "3 unfit" by subtraction (23 - 20). Rounded totals and cells leave many possibilities.
    parts = {"fit": 20, "unfit": 3}
    naive_total, naive_fit = 23, 20
    assert naive_total - naive_fit == 3  # what exact totals would give away
    cells = s.breakdown(parts)
    total = s.count(sum(parts.values()))
    assert (cells["fit"].shown, cells["unfit"].shown, total.shown) == ("20", "*", "25")
    possible = candidates([cells["fit"], cells["unfit"]], total, suppressed_index=1)
    assert len(possible) > 1
    assert 3 in possible


def test_differencing_with_zero_cells_cannot_pin_the_suppressed_cell() -> None:
    # The only exact published figures are zeros; a suppressed cell next to zeros is a total of 1-7,
    # which is itself suppressed.
    parts = {"fit": 0, "restricted": 0, "unfit": 5}
    total = s.count(sum(parts.values()))
    assert total.shown == "*"
    cells = s.breakdown(parts, denominator=25)
    assert [c.shown for c in cells.values()] == ["0", "0", "*"]
    assert candidates(list(cells.values()), total, suppressed_index=2) == set(range(1, 8))
