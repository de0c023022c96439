"""The aggregate report's PDF and CSV for any employer: charts split to fit the page however many
programmes there are, suppressed figures drawn as "suppressed" (never as a zero bar), and CSV
cells a spreadsheet will not run as formulas."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from uuid import uuid4

from pypdf import PdfReader

from backend.reports import aggregate, aggregate_pdf
from backend.reports.render import Stamp
from backend.surveillance.schemas import ProgrammeCounts, SurveillanceCounts

AS_OF = date(2026, 11, 20)


def _report(programmes: list[ProgrammeCounts]) -> aggregate.AggregateReport:
    counts = SurveillanceCounts(programmes=programmes, checks_by_quarter={})
    return aggregate.build("Example Employer Ltd", AS_OF, counts, [])


def _programme(name: str, *, in_scope: int, current: int, overdue: int, fit: int) -> ProgrammeCounts:
    return ProgrammeCounts(
        programme_id=uuid4(),
        name=name,
        kind="noise",
        in_scope=in_scope,
        current=current,
        overdue=overdue,
        outcomes={"FIT": fit, "FURTHER_ASSESSMENT": 0},
    )


def _text(report: aggregate.AggregateReport) -> tuple[str, int]:
    stamp = Stamp(uuid4(), datetime(2026, 11, 20, 9, 0, tzinfo=UTC), "0" * 64)
    pages = PdfReader(io.BytesIO(aggregate_pdf.render_aggregate(report, stamp))).pages
    return "\n".join(page.extract_text() for page in pages), len(pages)


def test_thirty_programmes_fit_on_pages_with_every_programme_charted() -> None:
    programmes = [
        _programme(f"Programme {n:02d}", in_scope=40, current=30, overdue=10, fit=25) for n in range(1, 31)
    ]
    text, pages = _text(_report(programmes))
    for title in ("Surveillance coverage", "Overdue recalls by programme"):
        for part in ("1 to 12 of 30", "13 to 24 of 30", "25 to 30 of 30"):
            assert f"{title}" in text
            assert f"(programmes {part})" in text, (title, part)
    assert "(programmes 25 to 30 of 30)" in text
    for n in range(1, 31):
        assert text.count(f"Programme {n:02d}") >= 4, n  # two charts and two tables at least
    assert pages >= 4


def test_suppressed_figures_are_labelled_not_drawn_as_zero() -> None:
    # Overdue 3 of 40 is suppressed (1-7); "Zero overdue" has a real 0; the small group is too small.
    report = _report(
        [
            _programme("Some overdue", in_scope=40, current=37, overdue=3, fit=30),
            _programme("Zero overdue", in_scope=40, current=40, overdue=0, fit=30),
            _programme("Tiny group", in_scope=6, current=5, overdue=1, fit=5),
        ]
    )
    coverage = {r.programme: r for r in report.coverage}
    assert coverage["Some overdue"].overdue.value is None
    assert coverage["Zero overdue"].overdue.value == 0
    text, _ = _text(report)
    # Coverage chart: Tiny group's share; overdue chart: Some overdue and Tiny group;
    # outcomes chart: Tiny group's six outcome bars (a group too small shows no breakdown).
    assert text.count("suppressed") == 1 + 2 + 6, text


def test_csv_cells_never_start_like_a_formula() -> None:
    names = ['=HYPERLINK("http://evil.example")', "+1+1", "-2+3", "@SUM(A1)", "\tTabbed", "\rReturn", "Plain"]
    report = _report([_programme(name, in_scope=40, current=30, overdue=10, fit=25) for name in names])
    rows = list(csv.reader(io.StringIO(aggregate.to_csv(report), newline="")))
    programmes = {row[1] for row in rows[1:] if row[0] == "coverage"}
    assert programmes == {"'" + n for n in names[:-1]} | {"Plain", "All programmes"}
    for row in rows:
        for cell in row:
            assert not cell.startswith(aggregate.FORMULA_STARTS), cell
