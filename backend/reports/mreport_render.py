"""A management report view as PDF and as accessible HTML: the same content, two formats. Pure.

reportlab cannot tag PDFs (domain.md §10.2), so every report also has an HTML version with real
headings, a definition list for the header and lang="en-GB": the accessible format of record.
"""

from __future__ import annotations

from html import escape

from reportlab.platypus import Flowable

from backend.reports.mreport import ReportView
from backend.reports.render import Stamp, build, facts, para, section


def render_pdf(view: ReportView, stamp: Stamp, addenda: list[tuple[str, str]]) -> bytes:
    story: list[Flowable] = [para(view.title, "title"), facts(view.header)]
    for part in view.sections:
        content: list[Flowable] = [para(p) for p in part.paragraphs]
        if part.pairs:
            content.append(facts(part.pairs))
        story.append(section(part.title, *content))
    for when, text in addenda:
        story.append(section(f"Addendum, {when}", para(text)))
    return build(view.title, story, stamp, subject="Management referral report")


def _pairs(pairs: list[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in pairs) + "</dl>"


def render_html(view: ReportView, stamp: Stamp, addenda: list[tuple[str, str]]) -> str:
    """A standalone page (served with the app's CSP: no scripts, the style as a sheet link)."""
    parts = [f"<h1>{escape(view.title)}</h1>", _pairs(view.header)]
    for s in view.sections:
        body = "".join(f"<p>{escape(p)}</p>" for p in s.paragraphs)
        parts.append(
            f'<section aria-labelledby="s-{s.key}"><h2 id="s-{s.key}">{escape(s.title)}</h2>'
            f"{body}{_pairs(s.pairs) if s.pairs else ''}</section>"
        )
    for i, (when, text) in enumerate(addenda, 1):
        parts.append(
            f'<section aria-labelledby="a-{i}"><h2 id="a-{i}">Addendum, {escape(when)}</h2>'
            f"<p>{escape(text)}</p></section>"
        )
    footer = "<br>".join(escape(line) for line in stamp.lines())
    return (
        '<!doctype html><html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{escape(view.title)}</title><link rel="stylesheet" href="/css/app.css"></head>'
        f'<body><main class="container report-html">{"".join(parts)}</main>'
        f'<footer class="container muted"><p>{footer}</p></footer></body></html>'
    )
