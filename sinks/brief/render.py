"""Render a ``Brief`` as PDF, DOCX or HTML, in Vietnamese (the default) or English."""

from __future__ import annotations

from typing import Literal

from sinks.brief.document import build
from sinks.brief.model import Brief
from sinks.brief.text import Lang

Format = Literal["pdf", "docx", "html"]
FORMATS: tuple[Format, ...] = ("pdf", "docx", "html")
MEDIA_TYPES: dict[Format, str] = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html; charset=utf-8",
}


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
