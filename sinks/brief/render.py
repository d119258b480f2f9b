"""Render a ``Brief`` as PDF, DOCX or HTML, in Vietnamese (the default) or English.

``build`` lays the brief out once as blocks (``sinks.brief.blocks``) in the reader's
language; each format's renderer draws those blocks, so the files say the same.
"""

from __future__ import annotations

from typing import Literal

from sinks.brief import writing as say
from sinks.brief import writing_units as units
from sinks.brief.blocks import Block, Document, Heading, Image
from sinks.brief.charts import charts
from sinks.brief.model import Brief
from sinks.brief.text import Lang, label

Format = Literal["pdf", "docx", "html"]
FORMATS: tuple[Format, ...] = ("pdf", "docx", "html")
MEDIA_TYPES: dict[Format, str] = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html; charset=utf-8",
}


def build(brief: Brief, lang: Lang) -> Document:
    """Lay the brief out as blocks in ``lang``, charts included."""
    blocks: list[Block] = []
    for title_key, section in (
        ("s_cases", say.cases),
        ("s_where", say.where),
        ("s_signals", say.signals),
        ("s_testing", say.testing),
        ("s_vaccination", say.vaccination),
        ("s_checkpoints", say.checkpoints),
        ("s_compliance", units.compliance),
        ("s_late", units.late_additions),
    ):
        blocks.append(Heading(label(title_key, lang)))
        blocks += section(brief, lang)
    blocks.append(Heading(label("s_charts", lang)))
    blocks += [Image(chart.caption, chart) for chart in charts(brief.series, lang)]
    head = say.header(brief, lang)
    return Document(
        lang, f"{head.title} — {head.area_day}", head, tuple(blocks), label("footer", lang)
    )


def render(brief: Brief, fmt: Format, lang: Lang = "vi") -> bytes:
    """The brief's file in ``fmt``; the same bytes for the same brief (``generated_at`` too)."""
    doc = build(brief, lang)
    if fmt == "pdf":
        from sinks.brief.render_pdf import render_pdf

        return render_pdf(doc, brief.generated_at)
    if fmt == "docx":
        from sinks.brief.render_docx import render_docx

        return render_docx(doc, brief.generated_at)
    if fmt == "html":
        from sinks.brief.render_html import render_html

        return render_html(doc)
    raise ValueError(f"unknown format {fmt!r}: pdf, docx or html / định dạng không hỗ trợ")
