"""The aggregate report as a PDF with charts (reportlab.graphics). Pure: AggregateReport -> bytes.

Each chart is followed by a table of the same suppressed figures. A suppressed figure is never
drawn as a bar: its place carries the word "suppressed" (a zero is a zero-length bar with no
label), and the table shows ``*`` or "group too small". Programmes are charted a few at a time
(``HORIZONTAL_ROWS``, ``VERTICAL_GROUPS`` per chart), so every chart fits on a page whatever the
number of programmes; tables run on across pages with their header repeated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.textlabels import NA_Label
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Table, TableStyle

from backend.reports.aggregate import AggregateReport, CoverageRow
from backend.reports.render import BRAND, LINE, Stamp, build, content_hash, para, section
from backend.reports.suppression import Cell

T = TypeVar("T")

PALETTE = [
    BRAND,
    colors.HexColor("#00703c"),
    colors.HexColor("#8a6100"),
    colors.HexColor("#b00020"),
    colors.HexColor("#4c2c92"),
    colors.HexColor("#505a5f"),
]
WIDTH = 170 * mm
HORIZONTAL_ROWS = 12  # programmes per horizontal chart (9 mm each)
VERTICAL_GROUPS = 8  # programmes per vertical chart (one group of bars each)
SUPPRESSED_LABEL = "suppressed"


def _value(cell: Cell) -> float | None:
    """The bar length, or None (no bar, labelled) when the figure is suppressed."""
    return None if cell.value is None else float(cell.value)


def _chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [items]


def _part(title: str, index: int, count: int, size: int, total: int) -> str:
    if count == 1:
        return title
    return f"{title} (programmes {index * size + 1} to {min((index + 1) * size, total)} of {total})"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    table = Table([list(header), *[list(r) for r in rows]], hAlign="LEFT", repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.4, LINE),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ]
        )
    )
    return table


def _bars(
    labels: list[str],
    series: list[list[float | None]],
    names: list[str],
    *,
    horizontal: bool = False,
    height: float = 55 * mm,
    value_max: float | None = None,
) -> Drawing:
    drawing = Drawing(WIDTH, height + (12 * mm if len(series) > 1 else 0))
    chart = HorizontalBarChart() if horizontal else VerticalBarChart()
    chart.x, chart.y = 45 * mm if horizontal else 12 * mm, 10 * mm
    chart.width, chart.height = WIDTH - chart.x - 5 * mm, height - 14 * mm
    chart.data = series or [[0.0]]
    chart.categoryAxis.categoryNames = labels or [""]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    top = max([v for s in series for v in s if v is not None] + [1.0])
    chart.valueAxis.valueMax = value_max if value_max is not None else top * 1.15 + 1
    for i in range(len(chart.data)):
        chart.bars[i].fillColor = PALETTE[i % len(PALETTE)]
        chart.bars[i].strokeColor = None
    chart.naLabel = NA_Label()
    chart.naLabel.text = SUPPRESSED_LABEL
    chart.naLabel.fontSize = 6
    chart.naLabel.fillColor = colors.HexColor("#505a5f")
    drawing.add(chart)
    if len(series) > 1:
        legend = Legend()
        legend.x, legend.y = 12 * mm, height + 8 * mm
        legend.fontSize, legend.columnMaximum, legend.alignment = 7, 1, "right"
        legend.colorNamePairs = [(PALETTE[i % len(PALETTE)], name) for i, name in enumerate(names)]
        legend.deltax = 40 * mm
        drawing.add(legend)
    if not labels:
        drawing.add(String(WIDTH / 2, height / 2, "No data", textAnchor="middle", fontSize=9))
    return drawing


def _percent(text: str) -> float | None:
    number = text.rstrip("%")
    return float(number) if number.replace(".", "", 1).isdigit() else None


def _horizontal(
    title: str, rows: Sequence[CoverageRow], values: list[float | None], **kw: float
) -> list[Flowable]:
    """One horizontal chart per few programmes, each kept with its part of the title."""
    parts = _chunks(range(len(rows)), HORIZONTAL_ROWS)
    charts: list[Flowable] = []
    for n, part in enumerate(parts):
        chart = _bars(
            [rows[i].programme for i in part],
            [[values[i] for i in part]],
            [title],
            horizontal=True,
            height=max(30, 9 * len(part) + 16) * mm,
            **kw,
        )
        charts.append(section(_part(title, n, len(parts), HORIZONTAL_ROWS, len(rows)), chart))
    return charts


def _coverage(report: AggregateReport) -> list[Flowable]:
    rows = report.coverage
    charts = _horizontal(
        "Surveillance coverage (workers with a current check)",
        rows,
        [_percent(r.coverage) for r in rows],
        value_max=100,
    )
    table = _table(
        ["Programme", "In scope", "Current", "Overdue", "Coverage"],
        [
            [r.programme, r.in_scope.shown, r.current.shown, r.overdue.shown, r.coverage]
            for r in [*rows, report.coverage_total]
        ],
    )
    return [*charts, table]


def _overdue(report: AggregateReport) -> list[Flowable]:
    rows = report.coverage
    return _horizontal("Overdue recalls by programme", rows, [_value(r.overdue) for r in rows])


def _outcomes(report: AggregateReport) -> list[Flowable]:
    keys = list(report.outcome_labels)
    rows = report.outcomes
    title = "Outcomes by programme (checks signed in the period)"
    parts = _chunks(rows, VERTICAL_GROUPS)
    charts: list[Flowable] = []
    for n, part in enumerate(parts):
        series = [[_value(r.outcomes[k]) for r in part] for k in keys]
        chart = _bars([r.programme for r in part], series, [report.outcome_labels[k] for k in keys])
        charts.append(section(_part(title, n, len(parts), VERTICAL_GROUPS, len(rows)), chart))
    table = _table(
        ["Programme", "Checks", *[report.outcome_labels[k] for k in keys]],
        [[r.programme, r.checks.shown, *[r.outcomes[k].shown for k in keys]] for r in rows],
    )
    return [*charts, table]


def _trends(report: AggregateReport) -> list[Flowable]:
    q = report.quarters
    chart = _bars(
        [r.quarter for r in q],
        [[_value(r.checks) for r in q], [_value(r.referrals) for r in q], [_value(r.released) for r in q]],
        ["Surveillance checks", "Referrals", "Reports released"],
    )
    table = _table(
        ["Quarter", "Checks", "Referrals", "Released", "Median days to triage", "Median days to release"],
        [
            [
                r.quarter,
                r.checks.shown,
                r.referrals.shown,
                r.released.shown,
                r.median_days_to_triage,
                r.median_days_to_release,
            ]
            for r in q
        ],
    )
    return [section("Trends by quarter, referral volumes and response times", chart), table]


def aggregate_hash(report: AggregateReport) -> str:
    return content_hash(report.model_dump(mode="json"))


def render_aggregate(report: AggregateReport, stamp: Stamp) -> bytes:
    story: list[Flowable] = [
        para(f"Occupational health report: {report.organisation_name}", "title"),
        para(f"Period: {report.period}. All figures about people are protected against identifying anyone."),
        *_coverage(report),
        *_overdue(report),
        *_outcomes(report),
        *_trends(report),
        section("How figures are protected", *[para(f"• {rule}", "small") for rule in report.rules]),
    ]
    return build(
        f"Occupational health report: {report.organisation_name}",
        story,
        stamp,
        subject="Aggregate surveillance and referral report",
    )
