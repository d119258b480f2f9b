"""The brief as an A4 PDF with ReportLab's platypus, the fonts embedded.

``invariant=1`` makes ReportLab write a fixed document id, and its dates are replaced
by the brief's ``generated_at``: the same brief gives the same bytes, whenever it is
rendered (the archive and the reference image compare them).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
)
from reportlab.platypus import Image as RLImage
from reportlab.platypus import Table as RLTable
from reportlab.platypus import TableStyle as RLTableStyle

from sinks.brief import fonts
from sinks.brief.blocks import Block, Bullets, Document, Heading, Image, Para, Table
from sinks.brief.charts import DPI
from sinks.brief.text import label

MARGIN = 1.7 * cm
WIDTH = A4[0] - 2 * MARGIN
RED = colors.HexColor("#7a1f1f")
GREY = colors.HexColor("#444444")


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=fonts.REGULAR, fontSize=9, leading=12)
    return {
        "normal": base,
        "note": ParagraphStyle("note", base, fontName=fonts.ITALIC, textColor=GREY),
        "strong": ParagraphStyle("strong", base, fontName=fonts.BOLD, spaceBefore=3),
        "committee": ParagraphStyle(
            "committee", base, fontName=fonts.BOLD, fontSize=8, alignment=TA_CENTER
        ),
        "title": ParagraphStyle(
            "title",
            base,
            fontName=fonts.BOLD,
            fontSize=14,
            leading=18,
            alignment=TA_CENTER,
            textColor=RED,
            spaceBefore=4,
        ),
        "area": ParagraphStyle("area", base, fontSize=11, leading=15, alignment=TA_CENTER),
        "meta": ParagraphStyle(
            "meta", base, fontSize=8, leading=10.5, alignment=TA_CENTER, textColor=GREY
        ),
        "h2": ParagraphStyle(
            "h2",
            base,
            fontName=fonts.BOLD,
            fontSize=11,
            leading=14,
            textColor=RED,
            spaceBefore=10,
            spaceAfter=4,
        ),
        "cell": ParagraphStyle("cell", base, fontSize=8, leading=10),
        "cell_r": ParagraphStyle("cell_r", base, fontSize=8, leading=10, alignment=TA_RIGHT),
        "cell_b": ParagraphStyle("cell_b", base, fontName=fonts.BOLD, fontSize=8, leading=10),
        "cell_br": ParagraphStyle(
            "cell_br", base, fontName=fonts.BOLD, fontSize=8, leading=10, alignment=TA_RIGHT
        ),
        "caption": ParagraphStyle("caption", base, fontSize=8, textColor=GREY),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _table(t: Table, st: dict[str, ParagraphStyle]) -> RLTable:
    def cell(text: str, right: bool, bold: bool) -> Paragraph:
        return _p(
            text,
            st["cell_" + ("b" if bold else "") + ("r" if right else "")]
            if bold or right
            else st["cell"],
        )

    right = [a == "r" for a in t.align]
    data = [[cell(h, r, True) for h, r in zip(t.header, right, strict=True)]]
    for i, row in enumerate(t.rows):
        data.append([cell(v, r, i in t.strong) for v, r in zip(row, right, strict=True)])
    total = sum(t.widths)
    table = RLTable(data, colWidths=[WIDTH * w / total for w in t.widths], repeatRows=1)
    table.setStyle(
        RLTableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#efefef")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _image(block: Image, st: dict[str, ParagraphStyle]) -> Flowable:
    from PIL import Image as PILImage  # matplotlib's dependency: read the PNG's size

    with PILImage.open(io.BytesIO(block.chart.png)) as img:
        w, h = img.size
    width = min(WIDTH, w / DPI * 72)
    picture = RLImage(io.BytesIO(block.chart.png), width=width, height=width * h / w)
    return KeepTogether([_p(block.caption, st["caption"]), picture, Spacer(1, 6)])


def _flowables(doc: Document, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    head = doc.header
    out: list[Flowable] = [
        _p(head.committee, st["committee"]),
        _p(head.title, st["title"]),
        _p(head.area_day, st["area"]),
        *(_p(line, st["meta"]) for line in head.lines),
        Spacer(1, 4),
    ]
    pending: Flowable | None = None  # a heading stays on the page of what follows it
    for block in doc.blocks:
        item = _flowable(block, st)
        if isinstance(block, Heading):
            pending = item
            continue
        out.append(KeepTogether([pending, item]) if pending is not None else item)
        pending = None
    return out


def _flowable(block: Block, st: dict[str, ParagraphStyle]) -> Flowable:
    if isinstance(block, Heading):
        return _p(block.text, st["h2"])
    if isinstance(block, Para):
        return _p(block.text, st[block.style])
    if isinstance(block, Bullets):
        return KeepTogether([_p("• " + item, st["normal"]) for item in block.items])
    if isinstance(block, Table):
        return _table(block, st)
    return _image(block, st)


def _pdf_date(at: datetime) -> str:
    utc = at.astimezone(UTC)
    return utc.strftime("D:%Y%m%d%H%M%S+00'00'")


def render_pdf(doc: Document, generated_at: datetime) -> bytes:
    """The PDF's bytes; the same for the same document and ``generated_at``."""
    fonts.register_reportlab()
    st = _styles()
    out = io.BytesIO()
    stamp = _pdf_date(generated_at)
    template = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=doc.title,
        author="baocao",
        subject=doc.header.area_day,
        creator="baocao",
        producer="baocao (ReportLab)",
        invariant=1,
        lang=doc.lang,
    )

    def page(canvas: Canvas, _: object) -> None:
        canvas.setDateFormatter(lambda *_: stamp)
        canvas.setFont(fonts.REGULAR, 7)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, MARGIN / 2, doc.footer)
        number = label("page", doc.lang, n=canvas.getPageNumber())
        canvas.drawRightString(A4[0] - MARGIN, MARGIN / 2, number)

    template.build(_flowables(doc, st), onFirstPage=page, onLaterPages=page)
    return out.getvalue()
