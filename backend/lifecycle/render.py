"""The subject-access export as a readable PDF. Pure: no database, no request; run in a thread."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from backend.lifecycle.schemas import Section, SubjectAccessExport

_BASE = getSampleStyleSheet()
_TITLE = ParagraphStyle("sar-title", parent=_BASE["Title"], fontSize=17, leading=21, alignment=0)
_H2 = ParagraphStyle("sar-h2", parent=_BASE["Heading2"], fontSize=12.5, leading=15, spaceBefore=5 * mm)
_BODY = ParagraphStyle("sar-body", parent=_BASE["BodyText"], fontSize=9.5, leading=12.5)
_CELL = ParagraphStyle("sar-cell", parent=_BASE["BodyText"], fontSize=8.5, leading=10.5)
_MAX_VALUE = 1500
PDF_ROWS = 500  # per section; the JSON export holds every row

TITLES = {
    "account": "Account",
    "referrals": "Management referrals",
    "referral_events": "Referral history",
    "referral_comments": "Comments on referrals",
    "attachments": "Attachments (description only)",
    "reports": "Management reports (every version)",
    "report_corrections": "Corrections you asked for",
    "appointments": "Appointments",
    "surveillance_people": "Health-surveillance register",
    "surveillance_enrolments": "Health-surveillance programmes",
    "surveillance_results": "Health-surveillance results",
    "reading_consents": "Consent to pulse readings",
    "reading_summaries": "Pulse readings (summaries)",
    "messages": "Messages sent to you",
    "personal_detail_changes": "Corrections to your details",
    "audit_log": "Who read or changed your records",
}


def _flat(key: str, value: Any) -> Iterator[tuple[str, str]]:
    """Nested values as dotted keys, so a referral form reads as a list of fields."""
    if isinstance(value, dict):
        for sub, inner in value.items():
            yield from _flat(f"{key}.{sub}" if key else str(sub), inner)
    elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        for index, inner in enumerate(value, 1):
            yield from _flat(f"{key}[{index}]", inner)
    elif isinstance(value, list):
        yield key, ", ".join(str(v) for v in value)
    elif value is not None and value != "":
        yield key, str(value)


def _row_table(row: dict[str, Any]) -> Table:
    cells = [
        [Paragraph(escape(k.replace("_", " ")), _CELL), Paragraph(escape(v[:_MAX_VALUE]), _CELL)]
        for k, v in _flat("", json.loads(json.dumps(row, default=str)))
    ]
    table = Table(cells or [["", ""]], colWidths=[50 * mm, 120 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, -1), (-1, -1), 0.5, colors.HexColor("#b1b4b6")),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return table


def _section(section: Section) -> list[Flowable]:
    parts: list[Flowable] = [Paragraph(escape(TITLES.get(section.name, section.name)), _H2)]
    if not section.rows:
        return [*parts, Paragraph("Nothing held.", _BODY)]
    for row in section.rows[:PDF_ROWS]:
        parts += [_row_table(row), Spacer(1, 2 * mm)]
    if section.truncated or len(section.rows) > PDF_ROWS:
        shown = min(len(section.rows), PDF_ROWS)
        parts.append(Paragraph(f"Only the first {shown} records are shown here; ask for the rest.", _BODY))
    return parts


def export_pdf(found: SubjectAccessExport) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, title="Subject access export", author="ohconnect",
        leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm, bottomMargin=16 * mm,
    )  # fmt: skip
    story: list[Flowable] = [
        Paragraph("Your records: subject access export", _TITLE),
        Paragraph(
            escape(
                f"Everything held about {found.subject_email},"
                f" produced {found.produced_at:%d %B %Y %H:%M} UTC."
                " Attachments and issued documents are described here; copies are available on request."
            ),
            _BODY,
        ),
    ]
    for section in found.sections:
        story += _section(section)
    doc.build(story)
    return buffer.getvalue()
