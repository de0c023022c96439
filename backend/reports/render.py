"""Shared reportlab plumbing: styles, the document-control footer and building a PDF. Pure: no DB.

Every issued PDF carries its document id, issue time and the SHA-256 of its content (the data it
was rendered from) in a footer on each page. Certificates, letters and released reports are then
PAdES-signed (backend.reports.signing); the SHA-256 of the final (signed) file is recorded when
it is issued and can be checked by anyone holding a copy at ``GET /api/v1/documents/{id}/check``.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import KeepTogether

BRAND = colors.HexColor("#0b4f8a")
LINE = colors.HexColor("#b1b4b6")

_BASE = getSampleStyleSheet()
STYLES: dict[str, ParagraphStyle] = {
    "title": ParagraphStyle(
        "title",
        parent=_BASE["Title"],
        alignment=TA_LEFT,
        fontSize=18,
        leading=22,
        textColor=BRAND,
        spaceAfter=4 * mm,
    ),
    "h2": ParagraphStyle(
        "h2", parent=_BASE["Heading2"], fontSize=13, leading=16, spaceBefore=4 * mm, spaceAfter=2 * mm
    ),
    "body": ParagraphStyle("body", parent=_BASE["BodyText"], fontSize=10, leading=13.5),
    "small": ParagraphStyle(
        "small", parent=_BASE["BodyText"], fontSize=8.5, leading=11, textColor=colors.black
    ),
    "cell": ParagraphStyle("cell", parent=_BASE["BodyText"], fontSize=9.5, leading=12),
}


@dataclass(frozen=True)
class Stamp:
    document_id: UUID
    issued_at: datetime
    content_sha256: str

    def lines(self) -> list[str]:
        return [
            f"Document {self.document_id} · issued {self.issued_at:%Y-%m-%d %H:%M} UTC",
            f"Content SHA-256 {self.content_sha256}",
        ]


def content_hash(content: Any) -> str:
    """SHA-256 of the canonical JSON of what a document shows (the same content hashes the same)."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def esc(text: object) -> str:
    """Text for a reportlab Paragraph (which reads a small markup language)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def para(text: object, style: str = "body") -> Paragraph:
    return Paragraph(esc(text), STYLES[style])


def facts(rows: Sequence[tuple[str, object]]) -> Table:
    """A two-column label/value table."""
    data = [[para(label, "cell"), para(value, "cell")] for label, value in rows]
    table = Table(data, colWidths=[52 * mm, 118 * mm], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, LINE),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def bullets(items: Sequence[str], empty: str = "None.") -> list[Flowable]:
    if not items:
        return [para(empty)]
    return [para(f"• {item}") for item in items]


def section(title: str, *content: Flowable) -> KeepTogether:
    return KeepTogether([para(title, "h2"), *content])


def _footer(stamp: Stamp, note: str) -> Any:
    def draw(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        y = 14 * mm
        for line in [*stamp.lines(), note]:
            canvas.drawString(20 * mm, y, line)
            y -= 3.4 * mm
        canvas.drawRightString(190 * mm, 14 * mm, f"Page {doc.page}")
        canvas.restoreState()

    return draw


VERIFY_NOTE = "Check this copy at /api/v1/documents/<document id>/check (send the file or the SHA-256 above)."


def build(title: str, story: list[Flowable], stamp: Stamp, *, subject: str = "") -> bytes:
    """Render a story to PDF bytes with the document-control footer on every page."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author="ohconnect",
        subject=subject,
        lang="en-GB",
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=26 * mm,
        invariant=1,
        creator="ohconnect",
    )
    footer = _footer(stamp, VERIFY_NOTE)
    doc.build([*story, Spacer(1, 2 * mm)], onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
