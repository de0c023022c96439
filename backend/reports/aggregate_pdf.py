"""The aggregate report as a PDF with charts (reportlab.graphics). Pure: AggregateReport -> bytes.

Each chart is followed by a table of the same suppressed figures; suppressed values are drawn as
no bar and labelled ``*`` in the table.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Table, TableStyle

from backend.reports.aggregate import AggregateReport
from backend.reports.render import BRAND, LINE, Stamp, build, content_hash, para, section
from backend.reports.suppression import Cell

PALETTE = [
    BRAND,
    colors.HexColor("#00703c"),
    colors.HexColor("#8a6100"),
    colors.HexColor("#b00020"),
    colors.HexColor("#4c2c92"),
    colors.HexColor("#505a5f"),
]
WIDTH = 170 * mm


def _value(cell: Cell) -> float:
    return float(cell.value or 0)


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
    series: list[list[float]],
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
    top = max([v for s in series for v in s] + [1.0])
    chart.valueAxis.valueMax = value_max if value_max is not None else top * 1.15 + 1
    for i in range(len(chart.data)):
        chart.bars[i].fillColor = PALETTE[i % len(PALETTE)]
        chart.bars[i].strokeColor = None
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


def _percent(text: str) -> float:
    return float(text.rstrip("%")) if text.rstrip("%").replace(".", "", 1).isdigit() else 0.0


def _coverage(report: AggregateReport) -> list[Flowable]:
    rows = report.coverage
    chart = _bars(
        [r.programme for r in rows],
        [[_percent(r.coverage) for r in rows]],
        ["Coverage %"],
        horizontal=True,
        height=max(30, 9 * len(rows) + 16) * mm,
        value_max=100,
    )
    table = _table(
        ["Programme", "In scope", "Current", "Overdue", "Coverage"],
        [
            [r.programme, r.in_scope.shown, r.current.shown, r.overdue.shown, r.coverage]
            for r in [*rows, report.coverage_total]
        ],
    )
    return [section("Surveillance coverage (workers with a current check)", chart), table]


def _overdue(report: AggregateReport) -> list[Flowable]:
    rows = report.coverage
    chart = _bars(
        [r.programme for r in rows],
        [[_value(r.overdue) for r in rows]],
        ["Overdue"],
        horizontal=True,
        height=max(30, 9 * len(rows) + 16) * mm,
    )
    return [section("Overdue recalls by programme", chart)]


def _outcomes(report: AggregateReport) -> list[Flowable]:
    keys = list(report.outcome_labels)
    rows = report.outcomes
    series = [[_value(r.outcomes[k]) for r in rows] for k in keys]
    chart = _bars([r.programme for r in rows], series, [report.outcome_labels[k] for k in keys])
    table = _table(
        ["Programme", "Checks", *[report.outcome_labels[k] for k in keys]],
        [[r.programme, r.checks.shown, *[r.outcomes[k].shown for k in keys]] for r in rows],
    )
    return [section("Outcomes by programme (checks signed in the period)", chart), table]


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
