"""The employer's aggregate report (§6.3): raw counts in, suppressed figures out. Pure, no I/O.

Fixed period and fixed dimensions (§8.2 rule 6): the current quarter and the three before it,
broken down only by programme and by quarter. There are no filters, so no two reports can be
subtracted from each other to isolate a small group.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from pydantic import BaseModel

from backend.reports import suppression as sup
from backend.reports.suppression import Cell
from backend.surveillance.recall import add_months
from backend.surveillance.result_schemas import OUTCOME_LABEL
from backend.surveillance.schemas import PROGRAMME_LABEL, SurveillanceCounts

QUARTERS = 4
RULES = [
    "Counts about people: 0 stays 0; 1 to 7 are shown as *; larger counts are rounded to the nearest 5.",
    "Totals are rounded from the exact figures, so they need not equal the sum of the rounded cells.",
    "No breakdown is shown for a group of fewer than 10 people ('group too small').",
    "In groups of fewer than 20, a share of 0% or 100% is shown as *.",
    "Percentages are worked out from the rounded figures; medians based on 7 or fewer cases are not shown.",
    "The period and the breakdowns are fixed: the current quarter and the three before it, by programme.",
]


class ReferralQuarter(BaseModel):
    quarter: date
    submitted: int
    released: int
    triage_n: int
    triage_median_days: float | None
    release_n: int
    release_median_days: float | None


class CoverageRow(BaseModel):
    programme: str
    kind: str
    in_scope: Cell
    current: Cell
    overdue: Cell
    coverage: str


class OutcomeRow(BaseModel):
    programme: str
    checks: Cell
    outcomes: dict[str, Cell]


class QuarterRow(BaseModel):
    quarter: str
    checks: Cell
    referrals: Cell
    released: Cell
    median_days_to_triage: str
    median_days_to_release: str


class AggregateReport(BaseModel):
    organisation_name: str
    as_of: date
    period: str
    coverage: list[CoverageRow]
    coverage_total: CoverageRow
    outcome_labels: dict[str, str]
    outcomes: list[OutcomeRow]
    quarters: list[QuarterRow]
    rules: list[str]


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def period(as_of: date) -> list[date]:
    """The starts of the fixed reporting quarters, oldest first (the last is the current quarter)."""
    current = quarter_start(as_of)
    return [add_months(current, -3 * back) for back in range(QUARTERS - 1, -1, -1)]


def quarter_label(start: date) -> str:
    return f"{start.year} Q{(start.month - 1) // 3 + 1}"


def _coverage(name: str, kind: str, in_scope: int, current: int, overdue: int) -> CoverageRow:
    cells = sup.breakdown({"current": current, "overdue": overdue}, denominator=in_scope)
    total = sup.count(in_scope)
    return CoverageRow(
        programme=name,
        kind=kind,
        in_scope=total,
        current=cells["current"],
        overdue=cells["overdue"],
        coverage=sup.percent(cells["current"], total),
    )


def build(
    organisation_name: str, as_of: date, hs: SurveillanceCounts, referrals: list[ReferralQuarter]
) -> AggregateReport:
    starts = period(as_of)
    coverage = [
        _coverage(p.name, PROGRAMME_LABEL[p.kind], p.in_scope, p.current, p.overdue) for p in hs.programmes
    ]
    total = _coverage(
        "All programmes",
        "",
        sum(p.in_scope for p in hs.programmes),
        sum(p.current for p in hs.programmes),
        sum(p.overdue for p in hs.programmes),
    )
    outcomes = []
    for p in hs.programmes:
        parts = {key: p.outcomes.get(key, 0) for key in OUTCOME_LABEL}
        outcomes.append(
            OutcomeRow(programme=p.name, checks=sup.count(sum(parts.values())), outcomes=sup.breakdown(parts))
        )
    by_quarter = {r.quarter: r for r in referrals}
    quarters = []
    for start in starts:
        ref = by_quarter.get(start) or ReferralQuarter(
            quarter=start,
            submitted=0,
            released=0,
            triage_n=0,
            triage_median_days=None,
            release_n=0,
            release_median_days=None,
        )
        quarters.append(
            QuarterRow(
                quarter=quarter_label(start),
                checks=sup.count(hs.checks_by_quarter.get(start, 0)),
                referrals=sup.count(ref.submitted),
                released=sup.count(ref.released),
                median_days_to_triage=sup.shown_median(ref.triage_n, ref.triage_median_days),
                median_days_to_release=sup.shown_median(ref.release_n, ref.release_median_days),
            )
        )
    return AggregateReport(
        organisation_name=organisation_name,
        as_of=as_of,
        period=f"{quarter_label(starts[0])} to {quarter_label(starts[-1])} (to {as_of:%d %B %Y})",
        coverage=coverage,
        coverage_total=total,
        outcome_labels=dict(OUTCOME_LABEL),
        outcomes=outcomes,
        quarters=quarters,
        rules=RULES,
    )


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str) -> str:
    """A cell a spreadsheet will not run: text starting like a formula gets a leading apostrophe
    (OWASP "CSV injection"). Programme names are typed by people; figures never start so."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


class _SafeWriter:
    def __init__(self, out: io.StringIO) -> None:
        # Every cell quoted: a carriage return inside a name cannot split a row.
        self._writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, row: list[str]) -> None:
        self._writer.writerow([csv_cell(str(cell)) for cell in row])


def to_csv(report: AggregateReport) -> str:
    """The same suppressed figures as the dashboard and PDF, one figure per line."""
    out = io.StringIO()
    writer = _SafeWriter(out)
    writer.writerow(["table", "row", "column", "value"])
    for row in [*report.coverage, report.coverage_total]:
        for column, cell in (("in scope", row.in_scope), ("current", row.current), ("overdue", row.overdue)):
            writer.writerow(["coverage", row.programme, column, cell.shown])
        writer.writerow(["coverage", row.programme, "coverage %", row.coverage])
    for outcome_row in report.outcomes:
        writer.writerow(["outcomes", outcome_row.programme, "checks", outcome_row.checks.shown])
        for key, cell in outcome_row.outcomes.items():
            writer.writerow(["outcomes", outcome_row.programme, report.outcome_labels[key], cell.shown])
    for q in report.quarters:
        for column, value in (
            ("surveillance checks", q.checks.shown),
            ("referrals", q.referrals.shown),
            ("reports released", q.released.shown),
            ("median days to triage", q.median_days_to_triage),
            ("median days consultation to release", q.median_days_to_release),
        ):
            writer.writerow(["quarters", q.quarter, column, value])
    return out.getvalue()
